"""``kitvet enforce``: export bans to enforcement tools, plan removal, verify it happened."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kitvet.cli import EXIT_FINDINGS, EXIT_OK
from kitvet.cli.review import list_options, load_lists_and_policy, write_output
from kitvet.model import STATUSES

if TYPE_CHECKING:
    from kitvet.enforce import BanSet
    from kitvet.enforce.verify import Verification
    from kitvet.model import Snapshot

logger = logging.getLogger(__name__)


def _targets() -> list[str]:
    from kitvet.enforce import EXPORTERS

    return list(EXPORTERS)


def selection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options choosing what to enforce."""
    f = click.option("--include-unverified", is_flag=True,
                     help="Also use identifiers the lists mark unverified.")(f)
    f = click.option("--date", help="Date written into the export (default: the lists' date).")(f)
    f = click.option("--subject", "subjects", multiple=True,
                     help="Enforce this subject (id or name; repeatable) instead of a status.")(f)
    f = click.option("--status", default="ban", show_default=True,
                     type=click.Choice(STATUSES),
                     help="Enforce every subject with this status under the profile.")(f)
    f = click.option("--inventory", "inventory", multiple=True,
                     type=click.Path(exists=True, path_type=Path),
                     help="Inventory file or folder (repeatable).")(f)
    return list_options(f)


def _bans(list_paths: tuple[str, ...], no_bundled: bool, allow_unsigned: bool, profile: str,
          status: str, subjects: tuple[str, ...], date: str | None,
          include_unverified: bool) -> BanSet:
    from kitvet.enforce.select import select_bans

    lists, policy = load_lists_and_policy(list_paths, no_bundled, allow_unsigned, profile)
    return select_bans(lists, policy=policy, status=status, subject_ids=subjects, date=date,
                       include_unverified=include_unverified)


def read_inventory(paths: list[Path], institution: str | None = None) -> list[Snapshot]:
    """Read inventory files, with a progress bar when there are several."""
    from rich.console import Console
    from rich.progress import Progress

    from kitvet.sources.registry import read_paths

    if len(paths) <= 1:
        return read_paths(paths, institution=institution)
    snaps: list[Snapshot] = []
    con = Console(stderr=True)  # stdout carries only the result (an export, JSON)
    with Progress(transient=True, console=con, disable=not con.is_terminal) as progress:
        task = progress.add_task("Reading inventory", total=len(paths))
        for p in paths:
            snaps.extend(read_paths([p], institution=institution))
            progress.advance(task)
    return snaps


@click.group()
def enforce() -> None:
    """Compile bans into enforcement rules, plan removal, and verify the ban was carried out."""


@enforce.command("targets")
def targets() -> None:
    """List the export targets and their formats."""
    from kitvet.enforce import exporter

    for name in _targets():
        ex = exporter(name)
        click.echo(f"{name:13} {'/'.join(ex.formats):22} {ex.description}")


@enforce.command("export")
@click.option("--target", "-t", required=True, type=click.Choice(_targets()),
              help="Enforcement tool to export for.")
@click.option("--format", "fmt", help="Output format of the target (see `enforce targets`).")
@click.option("--usb-action", type=click.Choice(["block", "reject"]), default="block",
              show_default=True, help="USBGuard: block or reject banned devices.")
@click.option("--enforce", "enforce_mode", is_flag=True,
              help="WDAC/AppLocker: enforcing policy instead of audit mode.")
@click.option("--wdac-revision", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="WDAC: last part of VersionEx, for a second export of the same date.")
@click.option("--applocker-standalone", is_flag=True,
              help="AppLocker: add allow-all path rules (a policy of its own; never merge it).")
@click.option("--nft-family", type=click.Choice(["inet", "bridge", "netdev"]), default="inet",
              show_default=True, help="nac nftables: the table family (and so the hook).")
@click.option("--nft-device", "nft_devices", multiple=True,
              help="nac nftables, netdev family: device whose ingress is filtered (repeatable).")
@click.option("--pin", "pins", multiple=True, metavar="NAME=VERSION",
              help="removal-plan: the fixed version to install for a package banned only in "
                   "some versions (repeatable; overrides the list's fixed_versions).")
@click.option("--institution", help="Institution of hosts whose inventory names none.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the export here (atomically); default stdout.")
@click.option("--deploy-path", help="Where the export's main file goes on hosts, if not the "
                                    "documented default (recorded for `enforce attest`).")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Ledger recording the digests of exports written with -o (default: "
                   "$KITVET_LEDGER or ledger.jsonl in kitvet's data dir).")
@click.option("--no-record", is_flag=True, help="Do not record this export in the ledger.")
@selection_options
def export(target: str, fmt: str | None, institution: str | None, output: str | None,
           deploy_path: str | None, ledger: Path | None, no_record: bool,
           inventory: tuple[Path, ...], status: str, subjects: tuple[str, ...],
           date: str | None, include_unverified: bool, list_paths: tuple[str, ...],
           no_bundled: bool, allow_unsigned: bool, profile: str,
           **target_options: Any) -> None:
    """Export the ban as rules for one enforcement tool (header: lists, policy, date,
    subjects with sources, and what the target cannot express)."""
    from kitvet.enforce import exporter
    from kitvet.errors import EnforceError

    ex = exporter(target)
    if fmt and fmt not in ex.formats:
        raise EnforceError(f"target {target} has formats {', '.join(ex.formats)}, not {fmt!r}")
    if ex.needs_inventory and not inventory:
        raise EnforceError(f"target {target} needs --inventory FILE")
    bans = _bans(list_paths, no_bundled, allow_unsigned, profile, status, subjects, date,
                 include_unverified)
    if inventory and not ex.needs_inventory:
        click.echo(f"kitvet: warning: target {target} does not use --inventory", err=True)
    snaps = read_inventory(list(inventory), institution) if ex.needs_inventory else None
    # target options (usb_action, enforce, nft_family, nft_devices, wdac_revision,
    # applocker_standalone, pins) go to the exporter as they are; each reads its own
    options: dict[str, Any] = dict(target_options)
    options["enforce"] = options.pop("enforce_mode", False)
    result = ex.export(bans, fmt=fmt, options=options, inventory=snaps)
    if output and output != "-" and not no_record:
        from kitvet.cli.enforce_attest import check_wdac_version

        check_wdac_version(result, ledger)
    write_output(result.text, output)
    if output and output != "-":
        gaps = len(set(result.gaps) | set(bans.withheld))  # as the header counts them
        click.echo(f"kitvet: {result.rules} rule(s) for {len(bans.subjects)} subject(s) "
                   f"written to {output}; {gaps} not expressible (see its header)", err=True)
        from kitvet.cli.enforce_attest import record_export

        record_export(result, bans, fmt=fmt or ex.formats[0], output=output,
                      deploy_path=deploy_path, ledger=ledger, record=not no_record)


@enforce.command("verify")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--institution", help="Institution of hosts whose inventory names none.")
@click.option("--estate", "estate_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Estate store: import the inventory, review it (recording the progress of "
                   "open campaigns) and verify from the store.")
@click.option("--actor", help="Who runs the verification (audit log; default: login name).")
@click.option("--attestation", "attestations", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="osquery results of `kitvet enforce attest` queries (repeatable): report "
                   "hosts whose deployed rules are missing, stale or altered.")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path),
              help="Ledger of recorded exports (default: $KITVET_LEDGER or the data dir's).")
@selection_options
def verify_cmd(paths: tuple[Path, ...], fmt: str, institution: str | None,
               estate_dir: Path | None, actor: str | None,
               attestations: tuple[Path, ...], ledger: Path | None,
               inventory: tuple[Path, ...], status: str, subjects: tuple[str, ...],
               date: str | None, include_unverified: bool, list_paths: tuple[str, ...],
               no_bundled: bool, allow_unsigned: bool, profile: str) -> None:
    """Check the latest inventory against the bans: what remains, per institution and host,
    with first and last seen; with --attestation, also whether each host has the current
    rules deployed. Exit 1 if anything banned remains or rules are not in force, 0 if not."""
    from kitvet.cli.enforce_attest import attestation, attestation_dict, print_attestation
    from kitvet.enforce.select import select_bans
    from kitvet.enforce.verify import verify
    from kitvet.errors import EnforceError

    files = list(inventory) + list(paths)
    if not files and estate_dir is None:
        if not attestations:
            raise EnforceError("give inventory files (--inventory FILE or as arguments), "
                               "--estate, or --attestation RESULTS")
        att = attestation(attestations, ledger, [])
        if fmt == "json":
            click.echo(json.dumps({"kitvet_verify": "1.0.0", "attestation":
                                   attestation_dict(att)}, indent=2, ensure_ascii=False))
        else:
            print_attestation(att)
        raise SystemExit(EXIT_OK if all(a.state == "in force" for a in att) else EXIT_FINDINGS)
    lists, policy = load_lists_and_policy(list_paths, no_bundled, allow_unsigned, profile)
    bans = select_bans(lists, policy=policy, status=status, subject_ids=subjects, date=date,
                       include_unverified=include_unverified)
    snaps = read_inventory(files, institution) if files else []
    camps: list[Any] = []
    if estate_dir is not None:
        import getpass

        from kitvet.cli.options import opened_estate
        from kitvet.estate.enforcement import verify_in_estate

        with opened_estate(estate_dir) as est:
            result, camps = verify_in_estate(est, snaps, bans, lists=lists, policy=policy,
                                             profile=profile, actor=actor or getpass.getuser())
    else:
        result = verify(snaps, bans)
    att = attestation(attestations, ledger, snaps) if attestations else []
    if fmt == "json":
        from kitvet.estate.enforcement import campaign_dicts

        doc = {"kitvet_verify": "1.0.0", "policy": bans.policy, "status": bans.status,
               "subjects": sorted(bans.subject_ids()), **result.to_dict()}
        if estate_dir is not None:
            doc["campaigns"] = campaign_dicts(camps)
        if attestations:
            doc["attestation"] = attestation_dict(att)
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _print_table(result, bans)
        _print_campaigns(camps)
        if attestations:
            print_attestation(att)
    in_force = all(a.state == "in force" for a in att)
    raise SystemExit(EXIT_OK if result.clean and in_force else EXIT_FINDINGS)


def _print_campaigns(camps: list[Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    for c in camps:
        rec = c.campaign
        console.print(f"Campaign {rec.campaign_id} ({escape(rec.subject_name or rec.subject_id)}):"
                      f" {c.phase}, remove by {rec.remove_due}, {c.remaining} host(s) remaining")
        for i in c.institutions:
            console.print(f"  {escape(i.institution)}: {i.removed}/{i.affected} removed, "
                          f"{i.remaining} remaining, {i.overdue} overdue")


def _print_table(result: Verification, bans: BanSet) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    if result.clean:
        console.print(f"Nothing banned remains on {result.hosts_checked} host(s) "
                      f"({len(bans.subjects)} subject(s) checked, policy {escape(bans.policy)}).")
        return
    table = Table(title=f"Banned items remaining — {len(result.hosts_with_remaining())} of "
                        f"{result.hosts_checked} host(s)")
    for col in ("Institution", "Host", "Subject", "Item"):
        table.add_column(col, overflow="fold")
    for col in ("First seen", "Last seen"):  # days here; --format json gives the times
        table.add_column(col, no_wrap=True)
    for r in result.remaining:
        table.add_row(*(escape(x or "") for x in (r.institution, r.hostname, r.subject_name,
                                                   r.item, (r.first_seen or "")[:10],
                                                   (r.last_seen or "")[:10])))
    console.print(table)
    for inst, counts in result.by_institution().items():
        console.print(f"{escape(inst)}: {counts['hosts_with_banned_items']} host(s), "
                      f"{counts['items']} banned item(s) remaining")


def _register() -> None:
    from kitvet.cli.enforce_attest import attest

    enforce.add_command(attest)


_register()
