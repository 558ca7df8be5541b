"""The estate-wide sweep: a planted ransom note is found on its host, by every inventory source."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.model import Host, Snapshot
from kitvet.sources import files as files_source


def run(args: list[str], ours: tuple[Path, Path], tmp: Path):
    path, keys = ours
    env = {"KITVET_TRUSTED_KEYS": str(keys), "XDG_CONFIG_HOME": str(tmp),
           "XDG_DATA_HOME": str(tmp / "data")}
    return CliRunner().invoke(main, [*args, "--list", str(path)], env=env)


def plant(root: Path) -> Path:
    (root / "Finance" / "2026").mkdir(parents=True)
    (root / "Finance" / "2026" / "budget.xlsx").write_bytes(b"ok")
    (root / "Finance" / "readme.txt").write_text("an ordinary readme")
    note = root / "Finance" / "2026" / "GLASSWING-README.txt"
    note.write_text("GLASSWING\nyour network was breached")
    (root / "Finance" / "2026" / "ledger.ods.glasswing").write_bytes(os.urandom(64))
    return note


def test_collect_files_then_sweep_finds_the_planted_note(ours, tmp_path: Path) -> None:
    share = tmp_path / "share"
    note = plant(share)
    inv = tmp_path / "ws-0042.json"
    r = CliRunner().invoke(main, ["collect", "--root", str(tmp_path), "--host-id", "ws-0042",
                                  "--files", str(share), "-o", str(inv)])
    assert r.exit_code == 0, r.output
    doc = json.loads(inv.read_text())
    names = {f["name"] for f in doc["snapshots"][0]["files"]}
    assert {"GLASSWING-README.txt", "budget.xlsx", "readme.txt"} <= names
    r = run(["ransom", "sweep", str(inv), "--format", "json"], ours, tmp_path)
    assert r.exit_code == 1, r.output
    out = json.loads(r.output)
    assert out["finding_class"] == "incident"
    hits = {(h["host_id"], h["path"], h["family"], h["indicator_kind"]) for h in out["hits"]}
    assert ("ws-0042", str(note), "Glasswing", "note-name") in hits
    assert any(h[2] == "Glasswing" and h[3] == "extension" for h in hits)
    assert not any(h[1].endswith("readme.txt") for h in hits)  # ordinary: never swept
    assert any("ordinary file name" in x for x in out["not_swept"])


def test_a_clean_host_exits_0(ours, tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "notes.txt").write_text("x")
    inv = tmp_path / "clean.json"
    CliRunner().invoke(main, ["collect", "--root", str(tmp_path), "--host-id", "clean",
                              "--files", str(tmp_path / "clean"), "-o", str(inv)])
    r = run(["ransom", "sweep", str(inv)], ours, tmp_path)
    assert r.exit_code == 0 and "no file" in r.output


def test_osquery_file_results_and_csv_listings_are_swept(ours, tmp_path: Path) -> None:
    osq = tmp_path / "WS-0077.json"  # osqueryi --json "SELECT * FROM file WHERE ..."
    osq.write_text(json.dumps([
        {"path": "C:\\Users\\ana\\Desktop\\GLASSWING-README.txt",
         "directory": "C:\\Users\\ana\\Desktop", "filename": "GLASSWING-README.txt",
         "inode": "0", "size": "512", "mtime": "1764633600", "type": "regular"},
        {"path": "C:\\Users\\ana\\Desktop", "directory": "C:\\Users\\ana",
         "filename": "Desktop", "inode": "0", "size": "0", "mtime": "1764633600",
         "type": "directory"}]))
    csv = tmp_path / "files.csv"
    csv.write_text('Computer,Full Path\nWS-0100,"D:\\Shares\\Q3 budget.xlsx.glasswing"\n'
                   "WS-0101,D:\\Shares\\plan.docx\n")
    inv = tmp_path / "inv.json"
    r = CliRunner().invoke(main, ["import", str(csv), "--map", "host=Computer,path=Full Path",
                                  "-o", str(inv)])
    assert r.exit_code == 0, r.output
    r = run(["ransom", "sweep", str(osq), str(inv), "--format", "csv"], ours, tmp_path)
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("host_id,hostname,institution,path,name")
    assert any(line.startswith("WS-0077") and "GLASSWING-README.txt" in line
               and "osquery:file" in line for line in lines)
    assert any(line.startswith("WS-0100") and ",extension,.glasswing," in line for line in lines)
    assert not any(line.startswith("WS-0101") for line in lines)


def test_estate_sweep_finds_the_planted_note_on_its_host(ours, tmp_path: Path) -> None:
    share = tmp_path / "share"
    note = plant(share)
    inv = tmp_path / "ws-0042.json"
    CliRunner().invoke(main, ["collect", "--root", str(tmp_path), "--host-id", "ws-0042",
                              "--files", str(share), "-o", str(inv)])
    estate = tmp_path / "estate"
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert CliRunner().invoke(main, ["estate", "init", "--estate", str(estate)],
                              env=env).exit_code == 0
    r = CliRunner().invoke(main, ["estate", "import", str(inv), "--estate", str(estate),
                                  "--institution", "Finance Office"], env=env)
    assert r.exit_code == 0, r.output
    r = run(["ransom", "sweep", "--estate", str(estate), "--format", "json"], ours, tmp_path)
    assert r.exit_code == 1, r.output
    out = json.loads(r.output)
    [host] = out["hosts"]
    assert host["host_id"] == "ws-0042" and host["institution"] == "Finance Office"
    assert str(note) in {h["path"] for h in out["hits"]}


def test_the_walk_is_bounded_and_follows_no_links(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.txt").write_text("x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("x")
    walk = tmp_path / "walk"
    walk.mkdir()
    for i in range(5):
        (walk / f"f{i}.txt").write_text("x")
    (walk / "link").symlink_to(tmp_path / "outside")
    snap = Snapshot(host=Host(host_id="h"))
    assert files_source.collect(snap, walk, max_files=3) == 3
    assert any("stopped after 3 files" in s.reason for s in snap.skipped)
    snap = Snapshot(host=Host(host_id="h"))
    files_source.collect(snap, walk, hashes=True)
    assert {f["name"] for f in snap.files} == {f"f{i}.txt" for i in range(5)}
    assert snap.files[0]["sha256"] == \
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"


def test_estate_review_raises_an_incident_finding_with_its_evidence(ours, tmp_path: Path) -> None:
    """The family list in the organisation's folder is in force for the estate review: the
    planted note becomes a finding of class incident, apart from every other class, and a fresh
    snapshot without it closes the finding."""
    import shutil

    path, keys = ours
    folder = tmp_path / "kitvet" / "ransom"
    folder.mkdir(parents=True)
    shutil.copy(path, folder / path.name)
    shutil.copy(path.with_name(path.name + ".sig"), folder)
    env = {"KITVET_TRUSTED_KEYS": str(keys), "XDG_CONFIG_HOME": str(tmp_path),
           "KITVET_ESTATE": str(tmp_path / "estate")}
    share = tmp_path / "share"
    note = plant(share)

    def cli(*args: str):
        r = CliRunner().invoke(main, list(args), env=env)
        assert r.exit_code in (0, 1), r.output
        return r

    cli("estate", "init")
    inv = tmp_path / "ws-0042.json"
    cli("collect", "--root", str(tmp_path), "--host-id", "ws-0042", "--files", str(share),
        "-o", str(inv))
    cli("estate", "import", str(inv), "--institution", "Finance Office")
    cli("estate", "review")
    found = json.loads(cli("findings", "list", "--class", "incident", "--format", "json").output)
    rows = found["items"]
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"GLASSWING-README.txt", "ledger.ods.glasswing"}
    f = by_name["GLASSWING-README.txt"]
    assert f["finding_class"] == "incident" and f["subject_id"] == "ransomware-glasswing"
    assert f["host_id"] == "ws-0042" and f["institution"] == "Finance Office"
    assert f["item_type"] == "file" and f["state"] == "open"
    detail = cli("findings", "show", f["finding_id"], "--format", "json").output
    assert str(note) in detail.replace("\\\\", "\\")
    assert "ransom-note name recorded for Glasswing" in detail and "MISP galaxy" in detail
    vendor = json.loads(cli("findings", "list", "--class", "vendor", "--format", "json").output)
    vrows = vendor["items"]
    assert not any(r["subject_id"].startswith("ransomware-") for r in vrows)

    note.unlink()
    (share / "Finance" / "2026" / "ledger.ods.glasswing").unlink()
    cli("collect", "--root", str(tmp_path), "--host-id", "ws-0042", "--files", str(share),
        "-o", str(inv))
    cli("estate", "import", str(inv), "--institution", "Finance Office")
    cli("estate", "review")
    after = json.loads(cli("findings", "list", "--class", "incident", "--all",
                           "--format", "json").output)
    arows = after["items"]
    assert {r["state"] for r in arows} == {"removed"}
