"""The estate commands end to end: init, import, review, findings, decide, exception,
campaign, audit — and every command documented in docs/estate.md."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "estate.md"


def inventory(path: Path, collected_at: str, with_xz: bool = True) -> Path:
    software = [{"name": "Kaspersky Endpoint Security for Windows", "version": "11.11",
                 "publisher": "AO Kaspersky Lab", "package_type": "windows"},
                {"name": "=HYPERLINK(\"http://evil\")", "version": "1",
                 "publisher": "AO Kaspersky Lab", "package_type": "windows"}]
    xz = [{"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"}] if with_xz else []
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [
        {"host": {"host_id": "pc-1", "platform": "windows", "collected_at": collected_at},
         "software": software},
        {"host": {"host_id": "srv-1", "platform": "linux", "collected_at": collected_at},
         "software": [*xz, {"name": "bash", "version": "5.2", "package_type": "deb"}]}]}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def kv(tmp_path, monkeypatch):
    monkeypatch.setenv("KITVET_ESTATE", str(tmp_path / "estate"))
    monkeypatch.setenv("KITVET_ACTOR", "alice")
    monkeypatch.setenv("COLUMNS", "250")  # rich tables without wrapping
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(main, list(args), catch_exceptions=False)
        assert res.exit_code == code, res.output
        return res.output
    return run


def test_review_workflow(kv, tmp_path):
    assert "estate ready" in kv("estate", "init")
    out = kv("estate", "import", str(inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")),
             "--institution", "Parliament")
    assert "2 snapshot(s) stored" in out and "Parliament" in out
    again = kv("estate", "import", str(tmp_path / "a.json"), "--institution", "Parliament")
    assert "0 snapshot(s) stored" in again and "2 already present" in again
    assert "3 live finding(s)" in kv("estate", "review")

    rows = json.loads(kv("findings", "list", "--format", "json"))
    assert rows["total"] == 3
    by_subject = {r["subject_id"]: r for r in rows["items"]}
    xz = next(r for s, r in by_subject.items() if s.startswith("xz"))
    assert xz["status"] == "ban"
    kv("findings", "list", "--fail-on", "ban", code=1)

    # spreadsheet-safe CSV: the hostile software name is not a formula
    text = kv("findings", "list", "--format", "csv", "--subject", "kaspersky-lab")
    names = [r["name"] for r in csv.DictReader(io.StringIO(text))]
    assert "'=HYPERLINK(\"http://evil\")" in names

    fid = xz["finding_id"]
    assert "in_review" in kv("findings", "set-state", fid[:10], "in_review", "--reason", "check")
    assert "only when a fresh snapshot" in kv("findings", "set-state", fid, "removed",
                                              "--reason", "x", code=2)
    shown = kv("findings", "show", fid)
    assert "History" in shown and "alice" in shown
    kasp = kv("findings", "show", by_subject["kaspersky-lab"]["finding_id"])
    assert "What authorities said" in kasp and "removal-order" in kasp
    assert "no-evidence-found" in kasp and "shown beside, never hidden" in kasp

    assert "2 finding(s) updated" in kv("decide", "kaspersky-lab", "--decision", "banned",
                                         "--rationale", "Bureau decision 14",
                                         "--evidence", "https://example.org/d14")
    assert "remove by" in kv("campaign", "start", "kaspersky-lab")
    assert "still have kaspersky-lab" in kv("campaign", "close", "1", code=2)

    assert "covers 1 finding" in kv("exception", "add", "--subject", fid and xz["subject_id"],
                                    "--scope", "host:srv-1", "--reason", "forensics",
                                    "--approver", "CISO", "--expires", "2099-01-01")
    listed = json.loads(kv("exception", "list", "--format", "json"))
    assert listed[0]["matched"] == 1 and listed[0]["active"]

    # the machines are cleaned: a fresh inventory without the banned items
    clean = tmp_path / "b.json"
    doc = json.loads(inventory(clean, "2026-11-10T00:00:00Z", with_xz=False).read_text())
    doc["snapshots"][0]["software"] = [{"name": "Firefox", "version": "120",
                                        "publisher": "Mozilla"}]
    clean.write_text(json.dumps(doc))
    kv("estate", "import", str(clean), "--institution", "Parliament")
    assert "3 removed" in kv("estate", "review")
    status = json.loads(kv("campaign", "status", "1", "--format", "json"))
    assert status[0]["remaining"] == 0
    assert [p["remaining"] for p in status[0]["burndown"]] == [1, 0]
    assert "closed" in kv("campaign", "close", "1")
    assert "Parliament" in kv("estate", "status")

    assert "audit log intact" in kv("audit", "verify")
    exported = tmp_path / "audit.jsonl"
    kv("audit", "export", "-o", str(exported))
    actions = [json.loads(x)["action"] for x in exported.read_text().splitlines()]
    assert actions[0] == "estate.init" and "campaign.close" in actions
    assert all(json.loads(x)["actor"] == "alice" for x in exported.read_text().splitlines())


def test_audit_verify_fails_on_tampering(kv, tmp_path):
    kv("estate", "init")
    kv("estate", "import", str(inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")),
       "--institution", "P")
    db = sqlite3.connect(tmp_path / "estate" / "estate.db")
    db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    db.commit()
    db.close()
    res = CliRunner().invoke(main, ["audit", "verify"])
    assert res.exit_code == 1 and "first bad entry: 2" in res.output


def test_clear_errors(kv, tmp_path):
    assert "no estate here" in kv("findings", "list", code=2)
    kv("estate", "init")
    assert "no finding" in kv("findings", "show", "doesnotexist", code=2)
    assert "at least 6 characters" in kv("findings", "show", "3f2a", code=2)
    assert "bad scope" in kv("exception", "add", "--subject", "x", "--scope", "planet:mars",
                             "--reason", "r", "--approver", "a", "--expires", "2099-01-01",
                             code=2)
    bad = tmp_path / "bad.json"
    bad.write_text('{"kitvet_inventory": "1.0.0", "snapshots": [')
    assert "not valid JSON" in kv("estate", "import", str(bad), code=2)
    nameless = inventory(tmp_path / "n.json", "2026-11-01T00:00:00Z")
    out = kv("estate", "import", str(nameless), code=1)  # no institution anywhere
    assert "refused: host pc-1: snapshot has no institution" in out


def _section(docs: str, path: str) -> str:
    start = docs.index(f"- **`kitvet {path}")
    end = docs.find("\n- **`kitvet", start + 1)
    return docs[start:end if end > 0 else None]


def test_every_estate_command_and_option_is_documented():
    import click

    from kitvet.cli import estate as mod

    docs = DOCS.read_text()
    commands = [(f"{g.name} {n}", c) for g in (mod.estate, mod.findings, mod.exception,
                                              mod.campaign, mod.audit)
                for n, c in g.commands.items()] + [("decide", mod.decide)]
    for path, cmd in commands:
        assert f"- **`kitvet {path}" in docs, f"kitvet {path} is not documented"
        section = _section(docs, path)
        for p in cmd.params:
            if isinstance(p, click.Option) and p.name != "estate_path":
                flag = max(p.opts, key=len)
                assert f"`{flag}`" in section, f"kitvet {path} {flag} is not documented"


@pytest.mark.postgres
def test_estate_on_postgresql(kv, tmp_path, pg_schema_url):
    import psycopg

    out = kv("estate", "init", "--db", pg_schema_url)
    assert "postgresql" in out
    toml = (tmp_path / "estate" / "estate.toml").read_text()
    assert "postgresql+psycopg://" in toml and not (tmp_path / "estate" / "estate.db").exists()
    kv("estate", "import", str(inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")),
       "--institution", "Parliament")
    assert "3 live finding(s)" in kv("estate", "review")
    assert json.loads(kv("findings", "list", "--format", "json"))["total"] == 3
    assert "audit log intact: 3 entries" in kv("audit", "verify")
    schema = pg_schema_url.rsplit("%3D", 1)[1]
    with psycopg.connect(pg_schema_url.split("?")[0]) as c:
        tables = {r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))}
    assert {"findings", "audit_log", "snapshots"} <= tables


def test_hostile_names_are_shown_literally(kv, tmp_path):
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [{
        "host": {"host_id": "h-1", "hostname": "[link=http://evil.example]click[/link]",
                 "collected_at": "2026-11-01T00:00:00Z"},
        "software": [{"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"}]}]}
    (tmp_path / "h.json").write_text(json.dumps(doc))
    kv("estate", "init")
    kv("estate", "import", str(tmp_path / "h.json"), "--institution", "[bold]P[/bold]")
    kv("estate", "review")
    out = kv("findings", "list")
    assert "[link=http://evil.example]click[/link]" in out
    assert "[bold]P[/bold]" in kv("estate", "status")


def test_status_and_findings_fit_a_narrow_terminal(kv, tmp_path, monkeypatch):
    """At 80 columns `estate status` keeps each institution on one line with an honest
    unresolved/live count; at 100 the findings table keeps every id whole (the id is what
    `findings show` takes) and names the subject by the id `decide` takes."""
    kv("estate", "init")
    kv("estate", "import", str(inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")),
       "--institution", "Parliament")
    kv("estate", "review")
    page = json.loads(kv("findings", "list", "--format", "json"))["items"]
    xz = next(f for f in page if f["subject_id"].startswith("xz"))
    kv("exception", "add", "--subject", xz["subject_id"], "--scope", "host:srv-1",
       "--reason", "forensics", "--approver", "CISO", "--expires", "2099-01-01")
    monkeypatch.setenv("COLUMNS", "80")
    status = kv("estate", "status")
    assert max(len(line) for line in status.splitlines()) <= 80
    rows = [line.rstrip() for line in status.splitlines() if "Parliament" in line]
    # one line per institution in each class's table: counts are never summed over classes
    assert rows[0].split() == ["│", "Parliament", "│", "2", "│", "1", "│", "2", "│"]
    assert rows[1].endswith("0/1 │")  # confirmed malicious: the one xz finding is accepted
    assert rows[2].endswith("2/2 │")  # high-risk vendor: both Kaspersky findings unresolved
    monkeypatch.setenv("COLUMNS", "100")
    table = kv("findings", "list")
    for f in page:
        assert f["finding_id"][:12] in table
    assert "kaspersky-lab" in table and xz["subject_id"][:12] in table


def test_burndown_axis_starts_at_zero(kv, tmp_path):
    kv("estate", "init")
    kv("estate", "import", str(inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")),
       "--institution", "Parliament")
    kv("estate", "review")
    kv("campaign", "start", "xz-utils-backdoor-2024")
    chart = kv("campaign", "status", "1").split("Burndown", 1)[1]
    lines = [line.strip("│ ") for line in chart.splitlines()]
    assert any(line.startswith("1 ┤█") for line in lines)  # one host remaining at the top
    assert any(line.startswith("0 └") for line in lines)  # zero on the axis, not a bar row


def test_decide_warns_about_a_subject_nobody_knows(kv, tmp_path):
    kv("estate", "init")
    kv("estate", "import", str(inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")),
       "--institution", "Parliament")
    kv("estate", "review")
    out = kv("decide", "kasperksy-lab", "--decision", "banned", "--rationale", "typo")
    assert "warning: no subject 'kasperksy-lab'" in out and "did you mean 'kaspersky-lab'" in out
    # a subject of the bundled lists that no review found yet is a deliberate, quiet decision
    quiet = kv("decide", "hytera", "--decision", "banned", "--rationale", "pre-emptive")
    assert "warning" not in quiet and "0 finding(s) updated" in quiet


def test_one_unreadable_file_never_keeps_the_others_out(kv, tmp_path):
    kv("estate", "init")
    bad = tmp_path / "bad.json"
    bad.write_text('{"kitvet_inventory": "1.0.0", "snapshots": [')
    good = inventory(tmp_path / "a.json", "2026-11-01T00:00:00Z")
    out = kv("estate", "import", str(bad), str(good), "--institution", "P", code=1)
    assert "2 snapshot(s) stored" in out and "1 file(s) could not be read" in out
    assert "refused: " in out and "bad.json" in out
    assert json.loads(kv("estate", "status", "--format", "json"))["hosts"] == 2
    # nothing readable at all: an error, and the estate is unchanged
    only_bad = kv("estate", "import", str(bad), str(bad), "--institution", "P", code=2)
    assert "none of the 2 files could be read" in only_bad
    assert json.loads(kv("estate", "status", "--format", "json"))["snapshots"] == 2
