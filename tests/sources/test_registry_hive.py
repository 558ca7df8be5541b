"""Windows registry hive importer, on hives written by tests/sources/fixtures/regf_writer.py."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources.registry_hive import RegistryHiveImporter, read_hive

_spec = importlib.util.spec_from_file_location(
    "kitvet_test_regf_writer", Path(__file__).parent / "fixtures" / "regf_writer.py")
regf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regf)

UNINSTALL = ("Microsoft", "Windows", "CurrentVersion", "Uninstall")
KES = {
    "DisplayName": "Kaspersky Endpoint Security for Windows",
    "DisplayVersion": "11.11.0.452",
    "Publisher": "AO Kaspersky Lab",
    "InstallLocation": "C:\\Program Files (x86)\\Kaspersky Lab\\KES.11.11.0\\",
    "UninstallString": "MsiExec.exe /I{4A5D3F58-7D0B-4A7C-9A1B-2C2B1C7D3E11}",
    "EstimatedSize": 512000,
}


def software_hive(tmp_path: Path) -> Path:
    tree = regf.uninstall_tree({"{4A5D3F58-7D0B-4A7C-9A1B-2C2B1C7D3E11}": KES},
                               prefix=("WOW6432Node", *UNINSTALL))
    tree.update(regf.uninstall_tree({
        "7-Zip": {"DisplayName": "7-Zip 23.01 (x64)", "DisplayVersion": "23.01",
                  "Publisher": "Igor Pavlov",
                  "UninstallString": "C:\\Program Files\\7-Zip\\Uninstall.exe"},
        "KB5034441": {"ParentKeyName": "OperatingSystem"},  # no DisplayName: not a program
    }, prefix=UNINSTALL))
    return regf.write_hive(tmp_path / "SOFTWARE", tree,
                           file_name="emRoot\\System32\\Config\\SOFTWARE")


def test_software_hive_reads_both_views_and_flags_the_32_bit_one(tmp_path):
    hive = software_hive(tmp_path)
    snap = read_hive(hive)
    rows = {r["name"]: r for r in snap.software}
    assert set(rows) == {"Kaspersky Endpoint Security for Windows", "7-Zip 23.01 (x64)"}
    kes = rows["Kaspersky Endpoint Security for Windows"]
    assert kes["publisher"] == "AO Kaspersky Lab"
    assert kes["version"] == "11.11.0.452"
    assert kes["path"].endswith("KES.11.11.0\\")
    assert kes["uninstall"].startswith("MsiExec.exe /I{4A5D3F58")
    assert kes["package_type"] == "windows" and kes["arch"] == "x86"
    assert kes["location"] == (f"{hive}:/WOW6432Node/Microsoft/Windows/CurrentVersion/Uninstall/"
                               "{4A5D3F58-7D0B-4A7C-9A1B-2C2B1C7D3E11}")
    assert rows["7-Zip 23.01 (x64)"]["arch"] is None
    assert snap.host.platform == "windows"
    assert snap.skipped == []


def test_ntuser_hive_per_user_programs(tmp_path):
    tree = regf.uninstall_tree({"ZoomUMX": {
        "DisplayName": "Zoom", "DisplayVersion": "5.9.3 (3169)",
        "Publisher": "Zoom Video Communications, Inc.",
        "QuietUninstallString":
            "\"C:\\Users\\a\\AppData\\Roaming\\Zoom\\uninstall\\Installer.exe\" /q",
    }}, prefix=("SOFTWARE", *UNINSTALL))  # real NTUSER hives spell it SOFTWARE
    hive = regf.write_hive(tmp_path / "NTUSER.DAT", tree)
    snap = read_hive(hive)
    (row,) = snap.software
    assert row["source"] == "registry:uninstall-user"
    assert row["publisher"] == "Zoom Video Communications, Inc."
    assert row["uninstall"].endswith("Installer.exe\" /q")
    assert row["location"].startswith(f"{hive}:/Software/Microsoft/")


def test_amcache_inventory_application(tmp_path):
    tree = {"Root": {"InventoryApplication": {"0000abcd": {"@values": {
        "Name": "Kaspersky Endpoint Security for Windows", "Version": "11.11.0.452",
        "Publisher": "AO Kaspersky Lab", "RootDirPath": "C:\\Program Files (x86)\\Kaspersky Lab",
        "Source": "AddRemoveProgram"}}}}}
    snap = read_hive(regf.write_hive(tmp_path / "Amcache.hve", tree, root_name="{11517B7C}"))
    (row,) = snap.software
    assert row["source"] == "registry:amcache"
    assert (row["name"], row["publisher"]) == ("Kaspersky Endpoint Security for Windows",
                                               "AO Kaspersky Lab")
    assert row["path"] == "C:\\Program Files (x86)\\Kaspersky Lab"


def test_detected_by_regf_magic_whatever_the_name(tmp_path):
    p = software_hive(tmp_path)
    renamed = p.rename(tmp_path / "export.bin")
    imp = RegistryHiveImporter()
    assert imp.detect(renamed, renamed.read_bytes()[:65536])
    assert not imp.detect(tmp_path, b"")


def test_non_ascii_key_and_value_names_survive(tmp_path):
    tree = regf.uninstall_tree({"Программа": {"DisplayName": "Антивирус Касперского",
                                              "Publisher": "АО Лаборатория Касперского"}},
                               prefix=UNINSTALL)
    (row,) = read_hive(regf.write_hive(tmp_path / "SOFTWARE", tree)).software
    assert row["name"] == "Антивирус Касперского"
    assert row["location"].endswith("/Uninstall/Программа")


def test_hostile_values_are_bounded_and_control_characters_dropped(tmp_path):
    tree = regf.uninstall_tree({"X": {"DisplayName": "=cmd|' /C calc'!A0\x07\r\n" + "A" * 9000,
                                      "DisplayVersion": 42}}, prefix=UNINSTALL)
    (row,) = read_hive(regf.write_hive(tmp_path / "SOFTWARE", tree)).software
    assert len(row["name"]) <= 4096
    assert "\x07" not in row["name"] and "\n" not in row["name"]
    assert row["version"] == "42"  # a DWORD where a string was expected


def test_a_corrupt_entry_is_skipped_and_the_good_ones_kept(tmp_path):
    tree = regf.uninstall_tree({"Good": {"DisplayName": "Good App"},
                                "Bad": {"DisplayName": "Bad App"}}, prefix=UNINSTALL)
    data = bytearray(regf.hive_bytes(tree))
    i = data.index("Bad App".encode("utf-16-le"))
    # find the vk cell pointing at that data and break its signature
    vk = data.index(b"vk\x0b\x00", 4096)  # name "DisplayName" (11 bytes)
    while struct.unpack_from("<I", data, vk + 8)[0] + 4096 + 4 != i:
        vk = data.index(b"vk\x0b\x00", vk + 2)
    data[vk:vk + 2] = b"XX"
    p = tmp_path / "SOFTWARE"
    p.write_bytes(bytes(data))
    snap = read_hive(p)
    assert [r["name"] for r in snap.software] == ["Good App"]


@pytest.mark.parametrize("content,place", [
    (b"", "offset 0"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 5000, "offset 0"),
    (b"regf" + b"\xff" * 100, "base block / root key"),
])
def test_not_a_hive_or_cut_short_is_one_clear_error(tmp_path, content, place):
    p = tmp_path / "bad.hve"
    p.write_bytes(content)
    with pytest.raises(SourceError) as e:
        read_hive(p)
    assert e.value.file == str(p) and e.value.place == place


def test_truncated_hive_keeps_what_can_be_read_or_fails_clearly(tmp_path):
    data = software_hive(tmp_path).read_bytes()
    for cut in (4096 + 40, 4096 + 600, len(data) // 2, len(data) - 100):
        p = tmp_path / f"cut{cut}"
        p.write_bytes(data[:cut])
        try:
            snap = read_hive(p)
        except SourceError as e:
            assert e.file == str(p)
        else:
            assert len(snap.software) <= 2


def test_hive_without_program_lists_says_so(tmp_path):
    snap = read_hive(regf.write_hive(tmp_path / "SYSTEM", {"ControlSet001": {}}))
    assert snap.software == []
    assert "no Uninstall" in snap.skipped[0].reason


def _review_json(path: Path) -> dict:
    import json

    from click.testing import CliRunner

    from kitvet.cli import main

    res = CliRunner().invoke(main, ["review", "--format", "json", "--fail-on", "none", str(path)])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_review_of_a_hive_with_kaspersky_flags_it_with_the_publisher_as_evidence(tmp_path):
    tree = regf.uninstall_tree({"{KES}": KES}, prefix=("Software", *UNINSTALL))
    hive = regf.write_hive(tmp_path / "NTUSER.DAT", tree)
    doc = _review_json(hive)
    (f,) = doc["findings"]
    assert f["subject_id"] == "kaspersky-lab"
    assert f["location"] == f"{hive}:/Software/Microsoft/Windows/CurrentVersion/Uninstall/{{KES}}"
    assert {"kind": "publisher", "observed": "AO Kaspersky Lab"}.items() <= f["matched"][0].items()


def test_invalid_utf16_names_and_values_become_replacement_characters(tmp_path):
    import json

    lone = "\udcff".encode("utf-16-le", "surrogatepass").decode("latin-1")
    tree = regf.uninstall_tree({lone: {"DisplayName": (regf.REG_SZ, b"\x00\xd8A\x00B\x00\x00\x00"),
                                       "Publisher": (regf.REG_SZ, b"\xff\xfe\xfd")}},
                               prefix=UNINSTALL)
    (row,) = read_hive(regf.write_hive(tmp_path / "SOFTWARE", tree)).software
    assert row["name"] == "\ufffdAB"
    json.dumps(row, ensure_ascii=False).encode("utf-8")  # no lone surrogates left


def test_software_hive_gives_machine_guid_and_windows_edition(tmp_path):
    tree = regf.uninstall_tree({"7-Zip": {"DisplayName": "7-Zip"}}, prefix=UNINSTALL)
    tree["Microsoft"]["Cryptography"] = {"@values": {
        "MachineGuid": "{5C4C3332-8A4B-4E0F-9C6E-0F0C2D8C9E11}"}}
    tree["Microsoft"]["Windows NT"] = {"CurrentVersion": {"@values": {
        "ProductName": "Windows 10 Pro", "DisplayVersion": "22H2", "CurrentBuild": "19045"}}}
    snap = read_hive(regf.write_hive(tmp_path / "SOFTWARE", tree))
    assert snap.host.host_id == "windows-5c4c3332-8a4b-4e0f-9c6e-0f0c2d8c9e11"
    assert snap.host.machine_id == "5c4c3332-8a4b-4e0f-9c6e-0f0c2d8c9e11"
    assert (snap.host.os_name, snap.host.os_version) == ("Windows 10 Pro", "22H2 19045")
    assert [r["name"] for r in snap.software] == ["7-Zip"]


def test_hive_without_machine_guid_gets_a_stable_id_from_its_header(tmp_path):
    p = software_hive(tmp_path)
    assert read_hive(p).host.host_id == read_hive(p).host.host_id
    assert read_hive(p).host.host_id.startswith("hive-")


def _dirty_hive_with_log(tmp_path: Path, log: bytes | None) -> Path:
    """A hive saying version 1.0 whose transaction log (HvLE) rewrites it to 2.0."""
    def hive(version: str) -> bytes:
        return regf.hive_bytes(regf.uninstall_tree(
            {"App": {"DisplayName": "App", "DisplayVersion": version}}, prefix=UNINSTALL))

    old, new = bytearray(hive("1.0")), hive("2.0")
    struct.pack_into("<II", old, 4, 8, 7)  # primary 8, secondary 7: not cleanly closed
    path = tmp_path / "NTUSER.DAT"
    path.write_bytes(bytes(old))
    if log is None:
        pages = new[4096:]
        entry = struct.pack("<4sIIIII", b"HvLE", 40 + 8 + len(pages), 0, 7, len(pages), 1)
        entry += b"\0" * 16 + struct.pack("<II", 0, len(pages)) + pages
        log = new[:512] + entry
    (tmp_path / "NTUSER.DAT.LOG1").write_bytes(log)
    return path


def test_dirty_hive_has_its_transaction_log_applied(tmp_path):
    snap = read_hive(_dirty_hive_with_log(tmp_path, None))
    assert [r["version"] for r in snap.software] == ["2.0"]
    assert snap.skipped == []


def test_dirty_hive_with_a_broken_log_is_read_as_is_and_says_so(tmp_path):
    snap = read_hive(_dirty_hive_with_log(tmp_path, b"regf" + b"\0" * 508 + b"JUNK" * 100))
    assert [r["version"] for r in snap.software] == ["1.0"]
    assert "could not be applied" in snap.skipped[0].reason


def test_dirty_hive_without_logs_says_changes_may_be_missing(tmp_path):
    path = _dirty_hive_with_log(tmp_path, None)
    (tmp_path / "NTUSER.DAT.LOG1").unlink()
    snap = read_hive(path)
    assert [r["version"] for r in snap.software] == ["1.0"]
    assert "no transaction logs" in snap.skipped[0].reason


def test_amcache_executables_give_binary_paths_for_process_names(tmp_path):
    tree = {"Root": {"InventoryApplicationFile": {
        "avp.exe|4f2a": {"@values": {
            "Name": "avp.exe", "ProductName": "Kaspersky Endpoint Security for Windows",
            "ProductVersion": "11.11.0.452", "Publisher": "AO Kaspersky Lab",
            "LowerCaseLongPath": "c:\\program files (x86)\\kaspersky lab\\kes.11.11.0\\avp.exe",
            "FileId": "0000" + "ab" * 20}},
        "tool.exe|01": {"@values": {"Name": "tool.exe",
                                    "LowerCaseLongPath": "c:\\tools\\tool.exe"}}}}}
    snap = read_hive(regf.write_hive(tmp_path / "Amcache.hve", tree))
    avp, tool = snap.software
    assert avp["source"] == "registry:amcache-file"
    assert (avp["name"], avp["version"], avp["publisher"]) == (
        "Kaspersky Endpoint Security for Windows", "11.11.0.452", "AO Kaspersky Lab")
    assert avp["path"].endswith("\\avp.exe")
    assert tool["name"] == "tool.exe"  # no product name: the file name
    # the FileId is the file's SHA-1: a file row carries it with the path
    assert [(f["path"], f["name"], f["sha1"]) for f in snap.files] == [
        ("c:\\program files (x86)\\kaspersky lab\\kes.11.11.0\\avp.exe", "avp.exe", "ab" * 20),
        ("c:\\tools\\tool.exe", "tool.exe", None)]

    from kitvet.identify.software import identify_software

    assert {a.kind for a in identify_software(avp)} == {"publisher", "process_name"}
