"""``kitvet enforce attest`` and the attestation half of ``enforce verify``: the ledger of
exports written for deployment, the osquery queries that ask hosts what they have, and the table
of hosts where the deployed rules are missing, stale or altered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kitvet.cli.review import write_output

if TYPE_CHECKING:
    from kitvet.enforce import BanSet, Export
    from kitvet.enforce.attest import Attestation
    from kitvet.model import Snapshot


def check_wdac_version(result: Export, ledger: Path | None) -> None:
    """Refuse a WDAC export whose VersionEx is not above the one recorded for the same
    PolicyID with other content: Windows would not replace the deployed policy with it."""
    from kitvet.enforce import ledger as led
    from kitvet.errors import EnforceError

    pid, version = result.extra.get("wdac_policy_id"), result.extra.get("wdac_version")
    path = led.ledger_path(ledger)
    if not pid or not version or not path.exists():
        return
    records, _ = led.read(path)
    digest = led.sha256(result.text)

    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    for r in records:
        if (r.extra.get("wdac_policy_id") == pid and r.export_sha256 != digest
                and parts(str(r.extra.get("wdac_version", "0.0.0.0"))) >= parts(version)):
            raise EnforceError(
                f"WDAC policy {pid}: VersionEx {version} is not higher than "
                f"{r.extra['wdac_version']} of the export recorded at {r.recorded_at}; Windows "
                "would keep the deployed policy — give a later --date or --wdac-revision N")


def record_export(result: Export, bans: BanSet, *, fmt: str, output: str,
                  deploy_path: str | None, ledger: Path | None, record: bool) -> None:
    """After ``export -o``: the nftables elements file beside the export, and the ledger line."""
    from kitvet.enforce import ledger as led
    from kitvet.util import atomic_write_text

    if "nft_elements" in result.extra:
        elements = Path(f"{output}.elements")
        atomic_write_text(elements, result.extra["nft_elements"])
        click.echo(f"kitvet: the set's elements as a host lists them: {elements}", err=True)
    if not record or not result.extra.get("artefacts"):
        return
    path = led.ledger_path(ledger)
    rec = led.make_record(result, bans, fmt=fmt, output=output, deploy_path=deploy_path)
    led.append(rec, path)
    for a in rec.artefacts:
        what = f"sha256 {a.sha256}" if a.sha256 else a.check
        click.echo(f"kitvet: recorded in {path}: {a.name} at {a.path} ({what})", err=True)


@click.command("attest")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Ledger of recorded exports (default: $KITVET_LEDGER or the data dir's).")
@click.option("--target", "targets", multiple=True,
              help="Only the artefacts of this target (repeatable; default: all recorded).")
@click.option("--interval", type=click.IntRange(60, 604800), default=3600, show_default=True,
              help="Seconds between runs of each query.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the pack here (atomically); default stdout.")
def attest(ledger: Path | None, targets: tuple[str, ...], interval: int,
           output: str | None) -> None:
    """osquery queries (a pack) proving on each host that the recorded exports are in place:
    file digests, AppLocker rule ids, the nftables set's elements. Feed their results to
    `kitvet enforce verify --attestation`."""
    from kitvet.enforce import ledger as led
    from kitvet.enforce.attest import attest_pack

    path = led.ledger_path(ledger)
    records, problems = led.read(path)
    for p in problems:
        click.echo(f"kitvet: warning: {p}", err=True)
    pack = attest_pack(records, targets=targets, interval=interval)
    write_output(json.dumps(pack, indent=2, ensure_ascii=False) + "\n", output)
    if output and output != "-":
        click.echo(f"kitvet: {len(pack['queries'])} attestation queries written to {output}",
                   err=True)


def attestation(results: tuple[Path, ...], ledger: Path | None,
                snapshots: list[Snapshot]) -> list[Attestation]:
    """The attestation of each reporting host (and of inventory hosts that did not report)."""
    from kitvet.enforce import ledger as led
    from kitvet.enforce.attest import check, read_results

    records, problems = led.read(led.ledger_path(ledger))
    rows, bad = read_results(results)
    for p in problems + bad:
        click.echo(f"kitvet: warning: {p}", err=True)
    hosts = {(s.host.hostname or s.host.host_id, s.host.platform) for s in snapshots}
    return check(records, rows, hosts=sorted(hosts))


def attestation_dict(items: list[Attestation]) -> dict[str, Any]:
    """JSON-ready attestation summary."""
    bad = sorted({a.host for a in items if a.state != "in force"})
    return {"hosts_reporting": len({a.host for a in items if a.state != "no report"}),
            "hosts_not_in_force": len(bad), "hosts": bad,
            "results": [a.__dict__ for a in items]}


def print_attestation(items: list[Attestation]) -> None:
    """The attestation as a table (hosts not in force first)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    summary = attestation_dict(items)
    if not summary["hosts_not_in_force"]:
        console.print(f"Deployed rules in force on all {summary['hosts_reporting']} reporting "
                      "host(s).")
        return
    table = Table(title=f"Deployed rules not in force — {summary['hosts_not_in_force']} host(s)")
    for col in ("Host", "Artefact", "State", "Detail"):
        table.add_column(col, overflow="fold")
    for a in sorted(items, key=lambda a: (a.state == "in force", a.host, a.artefact)):
        if a.state != "in force":
            table.add_row(*(escape(x) for x in (a.host, f"{a.artefact} ({a.path})", a.state,
                                               a.detail)))
    console.print(table)
