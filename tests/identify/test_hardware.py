"""Hardware identification: usb.ids, pci.ids, IEEE MA-L/MA-M/MA-S/IAB, and update-data."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.identify.hardware import HardwareDB

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture
def system(tmp_path: Path) -> HardwareDB:
    """A database reading the fixtures as if they were the system's files."""
    misc = tmp_path / "misc"
    ieee = tmp_path / "ieee-data"
    misc.mkdir()
    ieee.mkdir()
    for name in ("usb.ids", "pci.ids"):
        shutil.copy(FIX / name, misc / name)
    for name in ("oui.csv", "mam.csv", "oui36.csv", "iab.csv"):
        shutil.copy(FIX / name, ieee / name)
    return HardwareDB(system_dirs=(str(misc),), ieee_dir=str(ieee), data=tmp_path / "nodata",
                      bundled=False)


def test_usb_and_pci_names_name_their_database(system: HardwareDB, tmp_path: Path) -> None:
    usb = f"usb.ids ({tmp_path / 'misc' / 'usb.ids'})"
    assert system.usb_vendor_name("12d1") == ("Huawei Technologies Co., Ltd.", usb)
    assert system.usb_vendor_name("0x12D1") == ("Huawei Technologies Co., Ltd.", usb)
    assert system.usb_product_name("12d1", "1506") == ("Modem/Networkcard", usb)
    assert system.usb_product_name("1d6b", "2") == ("2.0 root hub", usb)
    assert system.pci_vendor_name("8086")[0] == "Intel Corporation"
    assert system.pci_device_name("1af4", "1041")[0] == "Virtio 1.0 network device"
    assert system.pci_device_name("19e5", "1822")[0] == "Hi1822 Family (4*25GE)"


def test_products_never_leak_across_vendors(system: HardwareDB) -> None:
    assert system.usb_product_name("19d2", "1001") is None  # 1001 is Huawei's, not ZTE's
    assert system.pci_device_name("1af4", "1237") is None  # 1237 is Intel's
    assert system.pci_device_name("8086", "fffb") is None  # a subsystem id, not a device
    assert system.usb_vendor_name("ffff") is None
    assert system.usb_vendor_name("not-hex") is None
    assert system.usb_vendor_name("") is None


@pytest.mark.parametrize("mac, org, registry", [
    ("70:b3:d5:f2:f0:01", "TELEPLATFORMS", "IEEE MA-S"),  # 36-bit block inside an RA MA-L
    ("74-1A-E0-90-00-01", "Private", "IEEE MA-M"),
    ("741a.e05a.bcde", "FUJIAN TAILI COMMUNICATION TECHNOLOGY CO.,LTD", "IEEE MA-M"),
    ("00:50:c2:7d:50:01", "DEUTA-WERKE GmbH", "IEEE IAB"),
    ("48AD08001122", "HUAWEI TECHNOLOGIES CO.,LTD", "IEEE MA-L"),
    ("bc:5e:33:00:11:22", "Hangzhou Hikvision Digital Technology Co.,Ltd.", "IEEE MA-L"),
])
def test_oui_longest_match_wins(system: HardwareDB, mac: str, org: str, registry: str) -> None:
    found = system.oui_org(mac)
    assert found is not None
    assert found[0] == org
    assert found[1].startswith(registry + " ")


def test_a_subdivided_block_is_never_attributed_to_the_registration_authority(
        system: HardwareDB) -> None:
    # 74:1A:E0 is the IEEE RA's MA-L, split into MA-M blocks; this one is in no MA-M entry
    assert system.oui_org("74:1a:e0:10:00:00") is None


def test_bundled_registries_are_all_there_with_their_date(tmp_path: Path) -> None:
    db = HardwareDB(system_dirs=(), ieee_dir=None, data=tmp_path, use_netaddr=False)
    labels = dict(db.ieee_registries())
    assert set(labels) == {"MA-L", "MA-M", "MA-S", "IAB"}
    assert all(" 2024-07-22 (kitvet bundled, Debian ieee-data 20240722)" in v
               for v in labels.values())
    # an MA-S block inside the RA's 70:B3:D5 is its registrant's, not the RA's
    assert db.oui_org("70:b3:d5:0a:e1:23") == (
        "Norsat International Inc.",
        "IEEE MA-S 2024-07-22 (kitvet bundled, Debian ieee-data 20240722)")
    assert db.oui_org("2c:c4:4f:90:00:01")[0] == "Kaspersky Lab Middle-East FZ-LLC"  # MA-M
    assert db.oui_org("00:e0:fc:00:00:01")[0] == "HUAWEI TECHNOLOGIES CO.,LTD"


def test_the_newest_copy_of_a_registry_wins(tmp_path: Path) -> None:
    ddir = tmp_path / "data"
    ddir.mkdir()
    (ddir / "oui.csv").write_text("Registry,Assignment,Organization Name,Organization Address\n"
                                  "MA-L,00E0FC,Renamed Later Ltd,Somewhere\n")
    (ddir / "sources.json").write_text(json.dumps(
        {"oui.csv": {"url": "x", "fetched_at": "2030-01-02T00:00:00Z"}}))
    db = HardwareDB(system_dirs=(), ieee_dir=None, data=ddir)
    assert db.oui_org("00:e0:fc:00:00:01") == ("Renamed Later Ltd",
                                               f"IEEE MA-L 2030-01-02 ({ddir / 'oui.csv'})")
    (ddir / "sources.json").write_text(json.dumps(
        {"oui.csv": {"url": "x", "fetched_at": "2020-01-02T00:00:00Z"}}))
    db = HardwareDB(system_dirs=(), ieee_dir=None, data=ddir)
    assert db.oui_org("00:e0:fc:00:00:01")[0] == "HUAWEI TECHNOLOGIES CO.,LTD"  # bundled newer


def test_unknown_and_garbage_macs(system: HardwareDB) -> None:
    assert system.oui_org("02:00:00:00:00:01") is None
    assert system.oui_org("zz") is None
    assert system.oui_org("") is None


def test_many_lookups_build_an_index_with_the_same_answers(system: HardwareDB) -> None:
    first = system.oui_org("74:1a:e0:50:00:00")
    for i in range(200):
        system.oui_org(f"02:00:00:00:{i // 256:02x}:{i % 256:02x}")
    assert system.oui_org("74:1a:e0:50:00:00") == first
    assert system.oui_org("48:ad:08:00:00:00")[0] == "HUAWEI TECHNOLOGIES CO.,LTD"


def test_netaddr_registry_when_the_system_has_none(tmp_path: Path) -> None:
    db = HardwareDB(system_dirs=(), ieee_dir=None, data=tmp_path, bundled=False)
    org, registry = db.oui_org("bc:5e:33:00:11:22")
    assert "Hikvision" in org and registry == "IEEE MA-L (netaddr oui.txt, undated)"
    assert db.sources().get("MA-M") is None  # netaddr carries no MA-M


def test_bundled_subset_names_vendors_without_system_files(tmp_path: Path) -> None:
    db = HardwareDB(system_dirs=(), ieee_dir=None, data=tmp_path)
    assert db.usb_vendor_name("12d1") == ("Huawei Technologies Co., Ltd.",
                                          "usb.ids (kitvet bundled subset)")
    assert db.pci_vendor_name("19e5")[0] == "Huawei Technologies Co., Ltd."
    assert db.usb_product_name("12d1", "1506")[0] == "Modem/Networkcard"


def test_system_files_come_before_fetched_ones(tmp_path: Path) -> None:
    sysdir, ddir = tmp_path / "sys", tmp_path / "data"
    sysdir.mkdir()
    ddir.mkdir()
    (sysdir / "usb.ids").write_text("12d1  From The System\n")
    (ddir / "usb.ids").write_text("12d1  From The Data Dir\n")
    (ddir / "pci.ids").write_text("19e5  Fetched Huawei\n")
    db = HardwareDB(system_dirs=(str(sysdir),), ieee_dir=None, data=ddir)
    assert db.usb_vendor_name("12d1")[0] == "From The System"
    assert db.pci_vendor_name("19e5") == ("Fetched Huawei", f"pci.ids ({ddir / 'pci.ids'})")


def test_hostile_ids_file_does_not_break_lookups(tmp_path: Path) -> None:
    (tmp_path / "usb.ids").write_bytes(b"\x00\xff" * 1000 + b"\n12d1  Huawei\xff\n\t" +
                                       b"A" * 100000 + b"\n")
    db = HardwareDB(system_dirs=(str(tmp_path),), ieee_dir=None, data=tmp_path / "none")
    assert db.usb_vendor_name("12d1")[0] == "Huawei\ufffd"
    assert db.usb_product_name("12d1", "0001") is None


def test_truncated_compressed_ids_file_answers_nothing_instead_of_raising(tmp_path: Path) -> None:
    import gzip

    whole = gzip.compress((FIX / "usb.ids").read_bytes())
    (tmp_path / "usb.ids.gz").write_bytes(whole[: len(whole) // 2])  # EOFError when read
    (tmp_path / "pci.ids.gz").write_bytes(whole[:10] + b"\xff" * 64)  # a corrupt stream
    db = HardwareDB(system_dirs=(str(tmp_path),), ieee_dir=None, data=tmp_path / "none")
    assert db.usb_vendor_name("12d1") is None
    assert db.pci_vendor_name("8086") is None


# --- kitvet update-data against a real HTTP server on 127.0.0.1 ---------------------------

@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    for name in ("usb.ids", "pci.ids", "oui.csv", "mam.csv", "oui36.csv", "iab.csv"):
        shutil.copy(FIX / name, root / name)
    # a mirror of kitvet's data dir also holds the release data (kitvet_releases JSON)
    from kitvet.identify.endoflife import catalog_to_json, read_paths

    releases, _ = read_paths([FIX / "endoflife" / "debian.md"], source="mirror", date="2026-11-30")
    (root / "endoflife.json").write_text(catalog_to_json(releases))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_update_data_fetches_every_file_atomically(served: tuple[str, Path],
                                                   tmp_path: Path) -> None:
    url, _ = served
    ddir = tmp_path / "data"
    result = CliRunner().invoke(main, ["update-data", "--url-base", url, "--data-dir", str(ddir)])
    assert result.exit_code == 0, result.output
    for name in ("usb.ids", "pci.ids", "oui.csv", "mam.csv", "oui36.csv", "iab.csv"):
        assert (ddir / name).read_bytes() == (FIX / name).read_bytes()
    assert '"debian"' in (ddir / "endoflife.json").read_text()
    manifest = json.loads((ddir / "sources.json").read_text())
    assert manifest["usb.ids"]["url"] == url + "usb.ids"
    assert len(manifest["oui36.csv"]["sha256"]) == 64
    db = HardwareDB(system_dirs=(), ieee_dir=None, data=ddir)
    fetched = manifest["oui36.csv"]["fetched_at"][:10]
    assert db.oui_org("70:b3:d5:f2:f0:01") == (
        "TELEPLATFORMS", f"IEEE MA-S {fetched} ({ddir / 'oui36.csv'})")
    assert db.usb_vendor_name("12d1")[1] == f"usb.ids ({ddir / 'usb.ids'})"
    assert not list(ddir.glob(".*"))  # no temporary files left behind


def test_update_data_keeps_the_old_file_when_a_download_is_bad(served: tuple[str, Path],
                                                               tmp_path: Path) -> None:
    url, www = served
    ddir = tmp_path / "data"
    ddir.mkdir()
    (ddir / "pci.ids").write_text("19e5  Old But Good\n")
    (www / "pci.ids").write_text("<html><body>Service unavailable</body></html>\n")
    (www / "mam.csv").unlink()  # 404
    result = CliRunner().invoke(main, ["update-data", "--url-base", url, "--data-dir", str(ddir)])
    assert result.exit_code == 2
    assert "pci.ids: no vendor lines" in result.output
    assert "HTTP 404" in result.output
    assert (ddir / "pci.ids").read_text() == "19e5  Old But Good\n"
    assert not (ddir / "mam.csv").exists()
    assert (ddir / "usb.ids").is_file()  # the good files were still saved
    assert not list(ddir.glob(".*.part"))


def test_pci_class_names(system: HardwareDB) -> None:
    assert system.pci_class_name("0x020000")[0] == "Ethernet controller"
    assert system.pci_class_name("0x0680")[0] == "Bridge"  # subclass not listed: the class
    assert system.pci_class_name("0x060000")[0] == "Host bridge"
    assert system.pci_class_name("0x990000") is None
    assert system.pci_class_name("<script>") is None


def test_update_data_says_when_fetched_files_will_not_be_read(
        served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = served
    ddir = tmp_path / "data"
    monkeypatch.setenv("KITVET_DATA_DIR", str(tmp_path / "elsewhere"))
    result = CliRunner().invoke(main, ["update-data", "--url-base", url, "--data-dir", str(ddir),
                                       "--only", "usb.ids"])
    assert result.exit_code == 0, result.output
    assert f"set KITVET_DATA_DIR={ddir} to use these files" in result.stderr
    assert (ddir / "usb.ids").stat().st_mode & 0o777 == 0o644  # readable by a service account
    assert (ddir / "sources.json").stat().st_mode & 0o777 == 0o644
    # the system's copy is read before the fetched one: say so instead of letting it look used
    misc = tmp_path / "misc"
    misc.mkdir()
    shutil.copy(FIX / "usb.ids", misc / "usb.ids")
    real = HardwareDB
    monkeypatch.setattr("kitvet.identify.hardware.HardwareDB",
                        lambda data: real(system_dirs=(str(misc),), ieee_dir=None, data=data))
    monkeypatch.setenv("KITVET_DATA_DIR", str(ddir))
    result = CliRunner().invoke(main, ["update-data", "--url-base", url, "--only", "usb.ids",
                                       "--only", "pci.ids"])
    assert result.exit_code == 0, result.output
    assert f"usb.ids: the system's copy is read first (usb.ids ({misc / 'usb.ids'}))" \
        in result.stderr
    assert "pci.ids: the system" not in result.stderr and "KITVET_DATA_DIR" not in result.stderr
