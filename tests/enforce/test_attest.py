"""Proof that the ban is in force: every export written for deployment is recorded in the
ledger, ``enforce attest`` turns the ledger into osquery queries, and ``enforce verify
--attestation`` reads their results. The queries run here in SQLite over osquery's own tables of
each platform (osquery's engine is SQLite), on hosts holding the current rules, an older export,
altered rules and nothing; their rows go through an osquery result log as osqueryd writes it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.enforce import ledger as led
from kitvet.enforce.attest import attest_pack, check, query_name, read_results
from kitvet.enforce.nac import NacExporter
from kitvet.enforce.santa import SantaExporter
from kitvet.enforce.usbguard import UsbguardExporter
from kitvet.enforce.windows import SRPV2, ApplockerExporter, WdacExporter

from .osquery_schema import osquery_db

FIX = Path(__file__).parent / "fixtures"
LIST = ["--list", str(FIX / "enforce-list.yaml"), "--allow-unsigned", "--no-bundled"]
EXPORTS = [(UsbguardExporter(), None), (NacExporter(), "nftables"), (WdacExporter(), None),
           (ApplockerExporter(), None), (SantaExporter(), None)]


def only(bans, *ids):
    return dataclasses.replace(bans, subjects=tuple(b for b in bans.subjects if b.id in ids))


@pytest.fixture
def ledger(bans, tmp_path):
    """Two rounds of exports: January (all subjects), then March (Huawei taken off)."""
    path = tmp_path / "ledger.jsonl"
    rounds = {}
    for date, b in (("2026-01-15", bans), ("2026-03-02", only(
            bans, "hikvision", "kaspersky-lab", "3cx-desktopapp-2023", "xz-utils-backdoor-2024"))):
        b = dataclasses.replace(b, date=date)
        for ex, fmt in EXPORTS:
            out = ex.export(b, fmt=fmt)
            led.append(led.make_record(out, b, fmt=fmt, output=str(tmp_path / ex.name)), path)
            rounds.setdefault(date, {})[ex.name] = out
    records, problems = led.read(path)
    assert not problems and len(records) == 10
    return path, records, rounds


def artefacts(out) -> dict[str, led.Artefact]:
    return {a["name"]: led.Artefact.from_dict(a) for a in out.extra["artefacts"]}


def host_tables(platform: str, files: dict[str, str | None], registry_ids=()):
    """osquery's tables of a host holding these files (path -> sha256, None: present with a
    content made on the host) and AppLocker rule ids."""
    rows = {"hash": [{"path": p, "sha256": h} for p, h in files.items() if h],
            "file": [{"path": p, "mtime": 1770000000} for p in files]}
    if registry_ids:
        rows["registry"] = [{"key": f"{SRPV2}\\{i.split('/')[0].capitalize()}",
                             "path": f"{SRPV2}\\{i}", "name": i.split("/")[1].upper(),
                             "type": "subkey"} for i in registry_ids]
    return osquery_db(platform, **{k: v for k, v in rows.items() if v})


def results_log(pack, hosts, path: Path) -> Path:
    """Each host runs the pack's queries of its platform; one osquery snapshot event per
    query and host, as osqueryd's filesystem logger writes them."""
    with path.open("w") as f:
        for host, platform, con in hosts:
            for name, q in pack["queries"].items():
                if q["platform"] != platform:
                    continue
                cur = con.execute(q["query"])
                cols = [c[0] for c in cur.description]
                rows = [{k: ("" if v is None else str(v)) for k, v in zip(cols, r, strict=True)}
                        for r in cur.fetchall()]
                assert len(rows) == 1  # one row per host, also when nothing is there
                f.write(json.dumps({"name": f"pack_kitvet-attest_{name}", "hostIdentifier": host,
                                    "calendarTime": "Mon Mar  9 10:00:00 2026 UTC",
                                    "unixTime": 1773050400, "epoch": 0, "counter": 0,
                                    "numerics": False, "decorations": {"hostname": host},
                                    "snapshot": rows, "action": "snapshot"}) + "\n")
    return path


def test_every_deployable_export_records_its_artefacts(ledger):
    _, records, rounds = ledger
    march = rounds["2026-03-02"]
    assert artefacts(march["usbguard"])["usbguard-rules"].sha256 == \
        led.sha256(march["usbguard"].extra["usbguard_rules"])
    assert artefacts(march["nac"])["nftables-set"].sha256 == \
        led.sha256(march["nac"].extra["nft_elements"])
    pid = march["wdac"].extra["wdac_policy_id"]
    assert artefacts(march["wdac"])["wdac-policy-active"].path.endswith(f"\\Active\\{pid}.cip")
    ids = artefacts(march["applocker"])["applocker-rules"].ids
    assert ids and all(i.startswith(("exe/", "msi/")) for i in ids)
    assert {r.target for r in records} == {"usbguard", "nac", "wdac", "applocker", "santa"}


def test_queries_run_over_osquerys_tables_and_say_what_each_host_has(ledger, tmp_path):
    _, records, rounds = ledger
    pack = attest_pack(records)
    jan, mar = rounds["2026-01-15"], rounds["2026-03-02"]
    a_now = {n: a for out in mar.values() for n, a in artefacts(out).items()}
    a_old = {n: a for out in jan.values() for n, a in artefacts(out).items()}
    linux = ["usbguard-rules", "nftables-file", "nftables-set"]
    hosts = [
        ("lin-ok", "linux", host_tables("linux", {a_now[n].path: a_now[n].sha256 for n in linux})),
        ("lin-stale", "linux", host_tables("linux", {
            a_now["usbguard-rules"].path: a_old["usbguard-rules"].sha256,
            a_now["nftables-file"].path: a_old["nftables-file"].sha256})),
        ("lin-altered", "linux", host_tables("linux", {
            a_now["usbguard-rules"].path: "f" * 64,
            a_now["nftables-file"].path: a_now["nftables-file"].sha256,
            a_now["nftables-set"].path: a_now["nftables-set"].sha256})),
        ("win-ok", "windows", host_tables(
            "windows", {a_now["wdac-policy-xml"].path: a_now["wdac-policy-xml"].sha256,
                        a_now["wdac-policy-active"].path: None},
            (*a_now["applocker-rules"].ids, "exe/921cc481-6e17-4653-8f75-050b80acca20"))),
        ("win-none", "windows", host_tables("windows", {})),
        ("mac-ok", "darwin", host_tables("darwin", {
            a_now["santa-rules-file"].path: a_now["santa-rules-file"].sha256})),
    ]
    log = results_log(pack, hosts, tmp_path / "osqueryd.results.log")
    rows, problems = read_results([log])
    assert not problems
    got = {(a.host, a.artefact): a.state for a in check(records, rows)}
    assert {k: v for k, v in got.items() if k[0] == "lin-ok"} == {
        ("lin-ok", n): "in force" for n in linux}
    assert got[("lin-stale", "usbguard-rules")] == "stale"
    assert got[("lin-stale", "nftables-file")] == "stale"
    assert got[("lin-stale", "nftables-set")] == "missing"
    assert got[("lin-altered", "usbguard-rules")] == "altered"
    assert got[("win-ok", "wdac-policy-xml")] == got[("win-ok", "wdac-policy-active")] == \
        got[("win-ok", "applocker-rules")] == "in force"  # the organisation's own rule is fine
    assert {got[("win-none", n)] for n in ("wdac-policy-xml", "wdac-policy-active",
                                           "applocker-rules")} == {"missing"}
    assert got[("mac-ok", "santa-rules-file")] == "in force"
    stale = next(a for a in check(records, rows) if a.host == "lin-stale"
                 and a.artefact == "usbguard-rules")
    assert stale.detail.startswith("the export of 2026-01-15 recorded ")


def test_inventory_hosts_that_do_not_report_are_named(ledger):
    _, records, _ = ledger
    got = check(records, [], hosts=[("lin-9", "linux"), ("mac-9", "macos")])
    assert {(a.host, a.artefact, a.state) for a in got} == {
        ("lin-9", "usbguard-rules", "no report"), ("lin-9", "nftables-file", "no report"),
        ("lin-9", "nftables-set", "no report"), ("mac-9", "santa-rules-file", "no report")}


def test_hostile_result_logs_are_read_line_by_line(tmp_path):
    log = tmp_path / "bad.log"
    good = {"hostIdentifier": "h1", "unixTime": 5, "snapshot": [
        {"kitvet_attest": "kitvet", "artefact": "usbguard-rules",
         "path": "/etc/usbguard/rules.conf", "sha256": "not-a-digest' OR 1=1"}]}
    log.write_text("not json\n" + json.dumps({"snapshot": [{"kitvet_attest": "kitvet"}]}) + "\n"
                   + json.dumps(good) + "\n" + json.dumps([1, 2]) + "\n")
    rows, problems = read_results([log])
    assert [(r.host, r.sha256) for r in rows] == [("h1", None)]  # not a digest: nothing there
    assert any("bad.log:1: not JSON" in p for p in problems)
    assert any("bad.log:2: attestation row without a host" in p for p in problems)


def test_query_names_are_unique_per_artefact_and_path(ledger):
    _, records, _ = ledger
    pack = attest_pack(records)
    assert len(pack["queries"]) == 7  # usbguard, nft file and set; wdac xml and .cip, applocker; santa
    assert all(n.startswith("kitvet_attest_") for n in pack["queries"])
    from kitvet.enforce.attest import deployed

    assert {query_name(d) for d in deployed(records)} == set(pack["queries"])


def run(*args: str):
    return CliRunner().invoke(main, ["enforce", *args], catch_exceptions=False)


def test_cli_export_attest_verify(tmp_path):
    ledger = str(tmp_path / "ledger.jsonl")
    rules = str(tmp_path / "kitvet-ban.rules")
    for date, action in (("2026-01-15", "reject"), ("2026-02-01", "block")):
        r = run("export", "-t", "usbguard", "--subject", "examplecom", "--date", date,
                "--usb-action", action, "-o", rules, "--ledger", ledger, *LIST)
        assert r.exit_code == 0, r.output
        assert "recorded in" in r.stderr and "usbguard-rules at /etc/usbguard/rules.conf" in r.stderr
    nft = str(tmp_path / "kitvet-ban.nft")
    r = run("export", "-t", "nac", "--format", "nftables", "--subject", "examplecom",
            "--deploy-path", "/etc/nftables/kitvet.nft", "-o", nft, "--ledger", ledger, *LIST)
    assert r.exit_code == 0 and Path(nft + ".elements").exists()
    r = run("attest", "--ledger", ledger, "-o", str(tmp_path / "pack.json"))
    assert r.exit_code == 0, r.output
    pack = json.loads((tmp_path / "pack.json").read_text())
    paths = {q["query"].split("AS artefact, '", 1)[1].split("'", 1)[0]
             for q in pack["queries"].values()}
    assert "/etc/nftables/kitvet.nft" in paths and "/etc/usbguard/rules.conf" in paths
    records, _ = led.read(Path(ledger))
    jan, feb = (r for r in records if r.target == "usbguard")
    log = tmp_path / "results.log"
    log.write_text("".join(json.dumps(
        {"hostIdentifier": h, "unixTime": 1, "snapshot": [
            {"kitvet_attest": "kitvet", "artefact": "usbguard-rules",
             "path": "/etc/usbguard/rules.conf", "sha256": s}]}) + "\n"
        for h, s in (("alpha", feb.artefacts[0].sha256), ("bravo", jan.artefacts[0].sha256))))
    r = run("verify", "--attestation", str(log), "--ledger", ledger, "--format", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)["attestation"]
    assert doc["hosts_not_in_force"] == 1 and doc["hosts"] == ["bravo"]
    r = run("verify", "--attestation", str(log), "--ledger", ledger)
    assert "Deployed rules not in force — 1 host(s)" in r.stdout and "stale" in r.stdout
    log.write_text(log.read_text().splitlines()[0] + "\n")
    assert run("verify", "--attestation", str(log), "--ledger", ledger).exit_code == 0


def test_cli_errors_are_one_line(tmp_path):
    r = run("attest", "--ledger", str(tmp_path / "none.jsonl"))
    assert r.exit_code == 2 and "no ledger here" in r.stderr and "Traceback" not in r.output
    (tmp_path / "l.jsonl").write_text("{}\n")
    r = run("attest", "--ledger", str(tmp_path / "l.jsonl"))
    assert r.exit_code == 2 and "l.jsonl:1: not a ledger record" in r.stderr
    assert "holds no deployable export" in r.stderr


def test_stdout_exports_and_no_record_write_no_ledger(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    run("export", "-t", "usbguard", "--subject", "examplecom", "--ledger", str(ledger), *LIST)
    run("export", "-t", "usbguard", "--subject", "examplecom", "--ledger", str(ledger),
        "-o", str(tmp_path / "r"), "--no-record", *LIST)
    assert not ledger.exists()


def test_a_wdac_update_that_windows_would_not_take_is_refused(tmp_path):
    ledger = str(tmp_path / "ledger.jsonl")
    xml = str(tmp_path / "ban.xml")
    args = ("export", "-t", "wdac", "--subject", "examplecom", "-o", xml, "--ledger", ledger)
    assert run(*args, "--date", "2026-02-01", *LIST).exit_code == 0
    assert run(*args, "--date", "2026-02-01", *LIST).exit_code == 0  # the same file again
    r = run(*args, "--date", "2026-02-01", "--enforce", *LIST)  # other content, same version
    assert r.exit_code == 2 and "VersionEx 2026.2.1.0 is not higher than 2026.2.1.0" in r.stderr
    assert "--wdac-revision" in r.stderr
    assert run(*args, "--date", "2026-02-01", "--enforce", "--wdac-revision", "1",
               *LIST).exit_code == 0
    assert run(*args, "--date", "2026-03-01", "--enforce", *LIST).exit_code == 0
