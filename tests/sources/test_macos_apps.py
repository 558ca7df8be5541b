"""macOS .app bundle importer: XML and binary Info.plist, nesting, hostile bundles."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path

import pytest

from kitvet.errors import SourceError
from kitvet.sources.macos_apps import MacosAppsImporter, copyright_holder, read_apps


def make_app(folder: Path, name: str, info: dict | bytes, *, fmt=plistlib.FMT_XML) -> Path:
    contents = folder / f"{name}.app" / "Contents"
    contents.mkdir(parents=True)
    data = info if isinstance(info, bytes) else plistlib.dumps(info, fmt=fmt)
    (contents / "Info.plist").write_bytes(data)
    return contents.parent


@pytest.fixture
def applications(tmp_path):
    apps = tmp_path / "Applications"
    make_app(apps, "Kaspersky Internet Security", {
        "CFBundleName": "Kaspersky Internet Security", "CFBundleIdentifier": "com.kaspersky.kav",
        "CFBundleShortVersionString": "21.0.15", "CFBundleVersion": "21.0.15.519",
        "NSHumanReadableCopyright": "© 2021 AO Kaspersky Lab. All Rights Reserved."})
    make_app(apps, "Firefox", {
        "CFBundleName": "Firefox", "CFBundleDisplayName": "Firefox",
        "CFBundleIdentifier": "org.mozilla.firefox", "CFBundleShortVersionString": "124.0.1"},
        fmt=plistlib.FMT_BINARY)
    make_app(apps / "Utilities", "Console", {"CFBundleIdentifier": "com.apple.Console",
                                             "CFBundleVersion": "1.1"})
    return apps


def test_every_bundle_becomes_a_macos_software_row(applications):
    snap = read_apps(applications)
    rows = {r["bundle_id"]: r for r in snap.software}
    assert set(rows) == {"com.kaspersky.kav", "org.mozilla.firefox", "com.apple.Console"}
    kav = rows["com.kaspersky.kav"]
    assert (kav["name"], kav["version"]) == ("Kaspersky Internet Security", "21.0.15")
    assert kav["publisher"] == "AO Kaspersky Lab"
    assert kav["package_type"] == "macos"
    assert kav["location"] == "Applications/Kaspersky Internet Security.app/Contents/Info.plist"
    assert rows["org.mozilla.firefox"]["version"] == "124.0.1"  # binary plist
    console = rows["com.apple.Console"]
    # no CFBundleName: the folder name; no short version: CFBundleVersion
    assert (console["name"], console["version"]) == ("Console", "1.1")
    assert snap.host.platform == "macos"


def test_detects_a_folder_of_bundles_and_a_single_bundle(applications, tmp_path):
    imp = MacosAppsImporter()
    assert imp.detect(applications, b"")
    assert imp.detect(applications / "Firefox.app", b"")
    (tmp_path / "empty").mkdir()
    assert not imp.detect(tmp_path / "empty", b"")
    assert [r["name"] for r in read_apps(applications / "Firefox.app").software] == ["Firefox"]


def test_bundles_inside_bundles_are_not_listed(applications):
    make_app(applications / "Firefox.app" / "Contents" / "MacOS", "Helper", {"CFBundleName": "H"})
    assert "H" not in [r["name"] for r in read_apps(applications).software]


@pytest.mark.parametrize("content,reason", [
    (b"", "unreadable Info.plist"),
    (b"\x00\x01binary junk\xff\xfe", "unreadable Info.plist"),
    (b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     b"<plist><dict><key>CFBundleName</key><string>&b;</string></dict></plist>",
     "unreadable Info.plist"),
    (plistlib.dumps(["not", "a", "dict"]), "not a dictionary"),
    (plistlib.dumps({"CFBundleName": "A"})[:60], "unreadable Info.plist"),
])
def test_bad_plists_are_skipped_and_the_good_bundles_kept(applications, content, reason):
    make_app(applications, "Broken", content)
    snap = read_apps(applications)
    assert len(snap.software) == 3
    (skip,) = snap.skipped
    assert reason in skip.reason
    assert skip.location == "Applications/Broken.app/Contents/Info.plist"


def test_bundle_without_info_plist_is_skipped(applications):
    (applications / "Empty.app").mkdir()
    snap = read_apps(applications)
    assert snap.skipped[0].reason == "bundle without Contents/Info.plist"


def test_hostile_values_are_bounded(applications):
    evil = "<img src=x onerror=alert(1)>\x07" + "A" * 10000
    make_app(applications, "Evil", {"CFBundleName": evil,
                                    "CFBundleIdentifier": {"nested": "dict"},
                                    "CFBundleShortVersionString": 5}, fmt=plistlib.FMT_BINARY)
    (row,) = [r for r in read_apps(applications).software if r["name"].startswith("<img")]
    assert len(row["name"]) <= 4096 and "\x07" not in row["name"]
    assert row["bundle_id"] is None and row["version"] == "5"


def test_oversized_plist_is_skipped(applications):
    app = make_app(applications, "Huge", {"CFBundleName": "Huge"})
    with (app / "Contents" / "Info.plist").open("ab") as fh:
        fh.truncate(5 << 20)
    snap = read_apps(applications)
    assert "larger than" in snap.skipped[0].reason


@pytest.mark.skipif(os.name != "posix", reason="needs byte file names")
def test_non_utf8_bundle_name(applications):
    raw = os.fsencode(applications) + b"/Caf\xe9.app/Contents"
    os.makedirs(raw)
    with open(raw + b"/Info.plist", "wb") as fh:
        fh.write(plistlib.dumps({"CFBundleIdentifier": "com.example.cafe"}))
    (row,) = [r for r in read_apps(applications).software if r["bundle_id"] == "com.example.cafe"]
    assert row["name"] == "Caf\ufffd"
    row["location"].encode("utf-8")  # writable as JSON text


def test_not_a_folder_is_a_clear_error(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(SourceError):
        read_apps(f)


def test_copyright_holder_extraction():
    assert copyright_holder("Copyright © 2009-2023 Mozilla Corporation") == "Mozilla Corporation"
    assert copyright_holder("(c) 2020, 2021 Zoom Video Communications, Inc. All rights reserved.") \
        == "Zoom Video Communications, Inc"
    assert copyright_holder("© 2023") is None
    assert copyright_holder(None) is None


def test_a_folder_walked_file_by_file_gives_the_same_host_and_rows(applications):
    imp = MacosAppsImporter()
    plists = sorted(applications.rglob("Info.plist"))
    assert all(imp.detect(p, p.read_bytes()[:65536]) for p in plists)
    per_file = [imp.read(p)[0] for p in plists]
    whole = read_apps(applications)
    assert {s.host.host_id for s in per_file} == {whole.host.host_id}
    assert sorted(r["location"] for s in per_file for r in s.software) == sorted(
        r["location"] for r in whole.software)


def test_info_plists_of_nested_bundles_and_frameworks_are_not_detected(applications):
    nested = make_app(applications / "Firefox.app" / "Contents" / "MacOS", "Helper", {"x": 1})
    imp = MacosAppsImporter()
    assert not imp.detect(nested / "Contents" / "Info.plist", b"")
    other = applications / "Firefox.app" / "Contents" / "Resources" / "Info.plist"
    other.parent.mkdir()
    other.write_bytes(plistlib.dumps({"x": 1}))
    assert not imp.detect(other, b"")


def _cms(common_name: str) -> bytes:
    """A CMS SignedData with a self-signed certificate of this common name."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "2Y8XE5CQ94")])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    return (pkcs7.PKCS7SignatureBuilder().set_data(b"code directory hash")
            .add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature]))


def _macho(cms: bytes | None) -> bytes:
    """A 64-bit little-endian Mach-O executable with an embedded code signature SuperBlob."""
    import struct

    sig = b""
    if cms is not None:
        wrapper = struct.pack(">II", 0xFADE0B01, 8 + len(cms)) + cms
        sig = struct.pack(">IIIII", 0xFADE0CC0, 20 + len(wrapper), 1, 0x10000, 20) + wrapper
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 1, 16, 0, 0)
    dataoff = 4096
    lc = struct.pack("<IIII", 0x1D, 16, dataoff, len(sig)) if cms is not None else \
        struct.pack("<IIII", 0x19, 16, 0, 0)
    return (header + lc).ljust(dataoff, b"\0") + sig


def _fat(slice_: bytes) -> bytes:
    import struct

    return (struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x01000007, 3, 4096,
                                                            len(slice_), 12)).ljust(4096, b"\0") \
        + slice_


@pytest.mark.parametrize("wrap", [lambda b: b, _fat], ids=["thin", "fat"])
def test_signer_is_read_from_the_executables_code_signature(applications, wrap):
    identity = "Developer ID Application: AO Kaspersky Lab (2Y8XE5CQ94)"
    app = make_app(applications, "KAV", {"CFBundleName": "KAV", "CFBundleExecutable": "kav",
                                         "CFBundleIdentifier": "com.kaspersky.kav"})
    (app / "Contents" / "MacOS").mkdir()
    (app / "Contents" / "MacOS" / "kav").write_bytes(wrap(_macho(_cms(identity))))
    (row,) = [r for r in read_apps(applications).software if r["name"] == "KAV"]
    assert row["signer"] == identity

    from kitvet.identify.software import identify_software

    kinds = {a.kind: a.org_id for a in identify_software(row)}
    assert kinds["signer"] == "kaspersky-lab" and kinds["bundle_id_prefix"] == "kaspersky-lab"


@pytest.mark.parametrize("content", [_macho(None), b"#!/bin/sh\necho hi\n", b"",
                                     b"\xcf\xfa\xed\xfe" + b"\xff" * 60,
                                     b"\xca\xfe\xba\xbe\x00\x00\x00\x01" + b"\xff" * 30])
def test_unsigned_scripts_or_broken_executables_have_no_signer(applications, content):
    app = make_app(applications, "Plain", {"CFBundleName": "Plain", "CFBundleExecutable": "p"})
    (app / "Contents" / "MacOS").mkdir()
    (app / "Contents" / "MacOS" / "p").write_bytes(content)
    (row,) = [r for r in read_apps(applications).software if r["name"] == "Plain"]
    assert row.get("signer") is None


def test_executable_name_cannot_escape_the_bundle(applications, tmp_path):
    (tmp_path / "outside").write_bytes(_macho(_cms("Developer ID Application: X (ABCDE12345)")))
    make_app(applications, "Sneaky", {"CFBundleName": "Sneaky",
                                      "CFBundleExecutable": "../../../../outside"})
    (row,) = [r for r in read_apps(applications).software if r["name"] == "Sneaky"]
    assert row.get("signer") is None
