"""Estate commands: ``estate``, ``findings``, ``decide``, ``exception``, ``campaign``, ``audit``.

Thin: every command gets the estate from :func:`~kitvet.cli.options.with_estate`, calls one
:class:`kitvet.estate.Estate` method and renders the result (rich table, JSON or
spreadsheet-safe CSV). See ``docs/estate.md``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kitvet.cli import EXIT_FINDINGS
from kitvet.cli.options import (
    ESTATE_HELP,
    actor_option,
    console,
    emit_csv,
    emit_json,
    fmt_option,
    with_estate,
)
from kitvet.cli.reports import report as estate_report
from kitvet.cli.reports import schedules as report_schedules
from kitvet.cli.review import list_options, load_lists_and_policy
from kitvet.model import DECISIONS, STATES, STATUSES
from kitvet.model.finding import CLASS_ALIASES, CLASS_LABELS, FINDING_CLASSES

if TYPE_CHECKING:
    from kitvet.estate import Estate, IngestQueue


# -- estate ----------------------------------------------------------------------------------
@click.group()
def estate() -> None:
    """Keep an estate: institutions, hosts, snapshots over time, and their review."""


estate.add_command(estate_report)
estate.add_command(report_schedules)


@estate.command()
@click.option("--estate", "estate_path", type=click.Path(file_okay=False), help=ESTATE_HELP)
@click.option("--db", "db_url", help="postgresql://user@host/db (default: SQLite in the folder).")
@actor_option
def init(estate_path: str | None, db_url: str | None, actor: str) -> None:
    """Create an estate (or upgrade an existing one's database)."""
    from kitvet.cli.options import opened_estate

    with opened_estate(estate_path, db=db_url, create=True, actor=actor) as est:
        click.echo(f"estate ready at {est.root} (database: {est.config.redacted_url()})")


@estate.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--institution", help="Institution of snapshots that name none.")
@click.option("--format", "fmt", help="Inventory format (default: detected per file).")
@click.option("--no-create-institutions", is_flag=True,
              help="Refuse snapshots of institutions the estate does not know yet.")
@actor_option
@with_estate
def import_(est: Estate, files: tuple[Path, ...], institution: str | None, fmt: str | None,
            no_create_institutions: bool, actor: str) -> None:
    """Import inventory files through the estate's ingest queue, as the server does (spooled,
    then stored in batches); exit 1 if a file or snapshot was refused."""
    from rich.progress import Progress

    from kitvet.errors import KitvetError
    from kitvet.estate import IngestLimits

    # the same queue as the server's, with the size limits of a local, trusted import
    queue = est.ingest_queue(IngestLimits(max_body_bytes=1 << 40, max_inventory_bytes=1 << 40))
    queue.start(threads=False)
    con = console()
    try:
        with Progress(transient=True, console=con, disable=not con.is_terminal) as progress:
            task = progress.add_task("spooling inventory", total=len(files))
            ids = {}
            for f in files:
                ids[_spool(queue, f, actor=actor, institution=institution, fmt=fmt,
                           create=not no_create_institutions)] = f
                progress.advance(task)
            progress.add_task("importing", total=None)
            done = queue.run_until_done(list(ids))
    finally:
        queue.stop()
    failed = [f"{ids[j.job_id]}: {j.reason}" + (f" ({j.place})" if j.place else "")
              for j in done if j.status != "done"]
    results = [j.result or {} for j in done if j.status == "done"]
    if failed and not results:  # nothing to import: an error (exit 2), not a partial import
        if len(failed) == 1:
            raise KitvetError(failed[0])
        for err in failed:
            click.echo(f"refused: {err}", err=True)
        raise KitvetError(f"none of the {len(failed)} files could be read")

    def total(key: str) -> list[Any]:
        return [x for r in results for x in r.get(key) or ()]

    rejected, created = total("rejected"), total("institutions_created")
    click.echo(f"{len(total('added'))} snapshot(s) stored ({len(total('became_current'))} now "
               f"current, {len(total('historical'))} older kept as history), "
               f"{len(total('duplicates'))} already present, {len(rejected)} refused"
               + (f", {len(failed)} file(s) could not be read" if failed else ""))
    if created:
        click.echo(f"new institution(s): {', '.join(created)}")
    for err in failed:
        click.echo(f"refused: {err}", err=True)
    for r in rejected:
        click.echo(f"refused: {r['location']}: {r['reason']}", err=True)
    if rejected or failed:
        sys.exit(EXIT_FINDINGS)


def _spool(queue: IngestQueue, path: Path, *, actor: str, institution: str | None,
           fmt: str | None, create: bool) -> str:
    """Queue one file (as it is) or folder (read here, spooled as kitvet inventory JSON)."""
    if not path.is_dir():
        return queue.submit_path(path, actor=actor, institution=institution, fmt=fmt,
                                 create_institutions=create).job_id
    from kitvet.model.document import dump_document
    from kitvet.sources.registry import read_paths
    snaps = read_paths([path], fmt=fmt, institution=institution)
    spooled = queue.receive()
    try:
        spooled.write(json.dumps(dump_document(snaps), ensure_ascii=False).encode())
    except BaseException:
        spooled.discard()
        raise
    return queue.submit(spooled, actor=actor, institution=institution, options={
        "format": "kitvet", "file": f"{path.name}.json", "create_institutions": create,
        "check_institution": False}).job_id


@estate.command("review")
@list_options
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              show_default=True, help="Matching engine: embedded DuckDB, or Apache Spark over the "
              "same Parquet lake (identical findings).")
@click.option("--master", default="local[2]", show_default=True,
              help="Spark master URL with --engine spark (local[N], spark://host:7077, yarn, k8s://...).")
@actor_option
@with_estate
def review_(est: Estate, profile: str, list_paths: tuple[str, ...], no_bundled: bool,
            allow_unsigned: bool, engine: str, master: str, actor: str) -> None:
    """Match current inventory against the lists and update findings."""
    from rich.progress import Progress

    from kitvet.estate import REVIEW_STEPS
    from kitvet.match.engine import DuckDBMatcher
    from kitvet.match.interface import Matcher
    from kitvet.match.spark import SparkMatcher

    lists, policy = load_lists_and_policy(list_paths, no_bundled, allow_unsigned, profile)
    matcher: Matcher = SparkMatcher(master) if engine == "spark" else DuckDBMatcher()
    con = console()
    with Progress(transient=True, console=con, disable=not con.is_terminal) as progress:
        task = progress.add_task("reviewing the estate", total=len(REVIEW_STEPS))

        def step(name: str) -> None:
            done = REVIEW_STEPS.index(name)
            progress.update(task, completed=done, description=f"review: {name}")
        res = est.review(actor=actor, lists=lists, policy=policy, profile=profile,
                         progress=step, matcher=matcher)
    click.echo(f"review {res.review_id}: {res.findings} live finding(s); {res.new} new, "
               f"{res.removed} removed, {res.reappeared} reappeared, {res.reopened} re-opened "
               "by lapsed exceptions")
    for cls in (*FINDING_CLASSES, "unclassified"):
        counts = res.by_class.get(cls)
        if counts:
            by = ", ".join(f"{k} {counts[k]}" for k in STATUSES if counts.get(k))
            click.echo(f"  {CLASS_LABELS.get(cls, cls)}: {sum(counts.values())} ({by})")
    if res.unused_exceptions:
        click.echo("exceptions that matched nothing: "
                   + ", ".join(str(i) for i in res.unused_exceptions))


@estate.command("status")
@fmt_option("table", "json")
@with_estate
def status_(est: Estate, fmt: str) -> None:
    """Counts per institution and status, freshness, open campaigns with burndown."""
    from kitvet.cli.display import estate_status

    st = est.status()
    if fmt == "json":
        emit_json(st.to_dict())
    else:
        console().print(estate_status(st))


# -- findings --------------------------------------------------------------------------------
@click.group()
def findings() -> None:
    """List, show and review the estate's findings."""


@findings.command("list")
@click.option("--status", multiple=True, type=click.Choice(STATUSES))
@click.option("--state", multiple=True, type=click.Choice(STATES))
@click.option("--institution")
@click.option("--subject", help="Subject id, e.g. kaspersky-lab.")
@click.option("--host", help="Host id.")
@click.option("--reappeared", is_flag=True, help="Only findings whose item came back.")
@click.option("--class", "classes", multiple=True,
              type=click.Choice((*FINDING_CLASSES, *CLASS_ALIASES), case_sensitive=False),
              help="Finding class (repeatable): confirmed-malicious, incident, high-risk-vendor, "
                   "vulnerability, end-of-life; eol = end-of-life, vulnerable = vulnerability "
                   "and end-of-life.")
@click.option("--all", "all_", is_flag=True, help="Include findings no longer live.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--fail-on", type=click.Choice((*STATUSES, "none")), default="none",
              show_default=True, help="Exit 1 if a listed finding has this status or worse.")
@fmt_option("table", "json", "csv")
@with_estate
def list_(est: Estate, status: tuple[str, ...], state: tuple[str, ...], institution: str | None,
          subject: str | None, host: str | None, reappeared: bool, classes: tuple[str, ...],
          all_: bool, limit: int, offset: int, fail_on: str, fmt: str) -> None:
    """Findings, class by class, most severe first."""
    from kitvet.model import status_rank

    page = est.findings(status=status or None, state=state or None, institution=institution,
                        subject=subject, host=host, live=None if all_ else True,
                        reappeared=True if reappeared else None,
                        finding_class=classes or None, limit=limit, offset=offset)
    if fmt == "json":
        emit_json(page.to_dict())
    elif fmt == "csv":
        emit_csv([f.to_dict() for f in page.items])
    else:
        from kitvet.cli.display import findings_table

        console().print(findings_table(page.items, page.total, page.offset))
    if fail_on != "none" and any(status_rank(f.status) >= status_rank(fail_on)
                                 for f in page.items):
        sys.exit(EXIT_FINDINGS)


@findings.command("show")
@click.argument("finding_id")
@fmt_option("table", "json")
@with_estate
def show(est: Estate, finding_id: str, fmt: str) -> None:
    """A finding with its evidence and history (a unique id prefix is enough)."""
    d = est.finding(finding_id)
    if fmt == "json":
        emit_json(d.to_dict())
    else:
        from kitvet.cli.display import finding_detail

        console().print(finding_detail(d))


@findings.command("set-state")
@click.argument("finding_id")
@click.argument("state", type=click.Choice(STATES))
@click.option("--reason", required=True, help="Why (recorded in history and audit log).")
@actor_option
@with_estate
def set_state(est: Estate, finding_id: str, state: str, reason: str, actor: str) -> None:
    """Move a finding to another state (never to removed: that takes a fresh snapshot)."""
    rec = est.set_state(finding_id, state, actor=actor, reason=reason)
    click.echo(f"finding {rec.finding_id} is now {rec.state}")


# -- decide ----------------------------------------------------------------------------------
@click.command()
@click.argument("subject")
@click.option("--decision", required=True, type=click.Choice(list(DECISIONS)))
@click.option("--rationale", required=True, help="Why, in a sentence (recorded).")
@click.option("--evidence", multiple=True, help="URL or reference backing it (repeatable).")
@actor_option
@with_estate
def decide(est: Estate, subject: str, decision: str, rationale: str, evidence: tuple[str, ...],
           actor: str) -> None:
    """Rule on a subject; overrides the policy's status on all its findings."""
    from kitvet.lists import bundled

    unknown = est.unknown_subject(subject, bundled())  # fine if a review found it or a list names it
    if unknown:
        click.echo(f"warning: {unknown}; the decision is recorded and applies if a review ever "
                   "finds it", err=True)
    d = est.decide(subject, decision, actor=actor, rationale=rationale, evidence=evidence)
    click.echo(f"decision {d.decision_id}: {subject} {decision} (status {d.status}) — "
               f"{d.findings_affected} finding(s) updated")


# -- exception -------------------------------------------------------------------------------
@click.group()
def exception() -> None:
    """Waivers for a subject on a host, an institution or the whole estate."""


@exception.command("add")
@click.option("--subject", required=True, help="Subject id.")
@click.option("--scope", required=True, help="host:HOST_ID, institution:NAME or estate.")
@click.option("--reason", required=True)
@click.option("--approver", required=True, help="Who approved the waiver.")
@click.option("--expires", required=True, help="Last day of validity, YYYY-MM-DD.")
@actor_option
@with_estate
def exception_add(est: Estate, subject: str, scope: str, reason: str, approver: str,
                  expires: str, actor: str) -> None:
    """Add an exception; the findings it covers become accepted."""
    e = est.add_exception(subject_id=subject, scope=scope, reason=reason, approver=approver,
                          expires=expires, actor=actor)
    click.echo(f"exception {e.exception_id} active until {e.expires}: covers {e.matched} "
               "finding(s)" + ("" if e.matched else " (nothing matched yet)"))


@exception.command("list")
@click.option("--active", is_flag=True, help="Only active exceptions.")
@fmt_option("table", "json")
@with_estate
def exception_list(est: Estate, active: bool, fmt: str) -> None:
    """Exceptions and how many findings each covers."""
    items = est.exceptions(active_only=active)
    if fmt == "json":
        emit_json([e.to_dict() for e in items])
    else:
        from kitvet.cli.display import exceptions_table

        console().print(exceptions_table(items))


@exception.command("revoke")
@click.argument("exception_id", type=int)
@click.option("--reason", required=True)
@actor_option
@with_estate
def exception_revoke(est: Estate, exception_id: int, reason: str, actor: str) -> None:
    """Revoke an exception; its findings re-open."""
    est.revoke_exception(exception_id, actor=actor, reason=reason)
    click.echo(f"exception {exception_id} revoked")


# -- campaign --------------------------------------------------------------------------------
@click.group()
def campaign() -> None:
    """Removal programmes for banned subjects."""


@campaign.command("start")
@click.argument("subject")
@click.option("--identify-days", type=click.IntRange(0), help="Default: from the policy (30).")
@click.option("--plan-days", type=click.IntRange(0), help="Default: from the policy (60).")
@click.option("--remove-days", type=click.IntRange(0), help="Default: from the policy (90).")
@list_options
@actor_option
@with_estate
def campaign_start(est: Estate, subject: str, identify_days: int | None, plan_days: int | None,
                   remove_days: int | None, profile: str, list_paths: tuple[str, ...],
                   no_bundled: bool, allow_unsigned: bool, actor: str) -> None:
    """Start removing a banned subject, with identify/plan/remove deadlines."""
    lists, policy = load_lists_and_policy(list_paths, no_bundled, allow_unsigned, profile)
    c = est.start_campaign(subject, actor=actor, lists=lists, policy=policy, deadlines={
        "identify": identify_days, "plan": plan_days, "remove": remove_days})
    click.echo(f"campaign {c.campaign_id} for {subject}: identify by {c.identify_due}, plan by "
               f"{c.plan_due}, remove by {c.remove_due}")


@campaign.command("status")
@click.argument("campaign_id", type=int, required=False)
@fmt_option("table", "json")
@with_estate
def campaign_status(est: Estate, campaign_id: int | None, fmt: str) -> None:
    """Progress per institution and burndown (all campaigns if no id)."""
    items = [est.campaign(campaign_id)] if campaign_id else est.campaigns()
    if fmt == "json":
        emit_json([dict(c.to_dict(), remaining=c.remaining) for c in items])
        return
    from kitvet.cli.display import campaign_status as render

    if not items:
        click.echo("no campaigns")
    for c in items:
        console().print(render(c))


@campaign.command("close")
@click.argument("campaign_id", type=int)
@click.option("--reason", default="removed everywhere", show_default=True)
@actor_option
@with_estate
def campaign_close(est: Estate, campaign_id: int, reason: str, actor: str) -> None:
    """Close a campaign (refused while fresh inventory still shows the subject)."""
    c = est.close_campaign(campaign_id, actor=actor, reason=reason)
    click.echo(f"campaign {c.campaign_id} closed")


# -- audit -----------------------------------------------------------------------------------
@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("list")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.option("--action", help="Action prefix, e.g. campaign. or finding.state")
@fmt_option("table", "json")
@with_estate
def audit_list(est: Estate, limit: int, action: str | None, fmt: str) -> None:
    """The newest entries."""
    entries = est.audit(limit=limit, action=action, newest_first=True)
    if fmt == "json":
        emit_json([e.to_dict() for e in entries])
        return
    from kitvet.cli.display import audit_table

    console().print(audit_table(entries))


@audit.command("verify")
@click.option("--expect-head", help="Head hash recorded earlier, kept outside the estate.")
@with_estate
def audit_verify(est: Estate, expect_head: str | None) -> None:
    """Check the chain; exit 1 and name the first bad entry if it was tampered with."""
    check = est.verify_audit(expect_head=expect_head)
    if check.ok:
        click.echo(f"audit log intact: {check.entries} entries, head {check.head_hash}")
        return
    where = f" (first bad entry: {check.first_bad_seq})" if check.first_bad_seq else ""
    click.echo(f"audit log NOT intact{where}: {check.problem}", err=True)
    sys.exit(EXIT_FINDINGS)


@audit.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: stdout). JSON lines, one entry each.")
@with_estate
def audit_export(est: Estate, output: Path | None) -> None:
    """Export every entry as JSON lines (with hashes, for external verification)."""
    if output is None:
        est.export_audit(sys.stdout)
        return
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=output.parent or Path("."), prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            n = est.export_audit(fh)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"{n} entries written to {output}", err=True)
