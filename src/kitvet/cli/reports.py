"""``kitvet estate report``: the estate (or some institutions) for auditors and managers.

Thin: the estate builds the report's data, :mod:`kitvet.report.estate` lays it out.
See ``docs/reports.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kitvet.cli.options import actor_option, with_estate

if TYPE_CHECKING:
    from kitvet.estate import Estate

FORMATS = ("html", "pdf", "csv", "xlsx", "json")
BINARY = ("pdf", "xlsx")


def _iso_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from datetime import date

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError as e:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from e


@click.command("report")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html (one page, charts), pdf (rendered without a browser), csv, xlsx, json.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here (needed for pdf and xlsx; else standard output).")
@click.option("--institution", "institutions", multiple=True,
              help="Report only this institution (repeatable; default: the whole estate).")
@click.option("--since", callback=_iso_day, help="Start the trend on this day (YYYY-MM-DD); "
              "exceptions that lapsed since then are listed.")
@click.option("--stale-days", type=click.IntRange(1, 3650), default=7, show_default=True,
              help="A host whose latest inventory is older than this is not reporting.")
@click.option("--expiring-days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="List exceptions whose last day is within this many days.")
@click.option("--title", default="Estate report", show_default=True, help="The report's title.")
@with_estate
def report(est: Estate, fmt: str, output: Path | None, institutions: tuple[str, ...],
           since: str | None, stale_days: int, expiring_days: int, title: str) -> None:
    """Summary per institution, class and status; trend; campaigns and burndowns; exceptions
    expiring; hosts not reporting."""
    from kitvet.errors import ReportError
    from kitvet.estate import EVERYTHING, Scope
    from kitvet.report.estate import render_estate
    from kitvet.util import atomic_write_bytes

    if fmt in BINARY and output is None:
        raise ReportError(f"{fmt} is a binary format: write it to a file with -o FILE")
    scope = EVERYTHING
    if institutions:
        known = set(est.institutions())
        unknown = [i for i in institutions if i not in known]
        if unknown:
            raise ReportError(f"no institution {unknown[0]!r} in the estate "
                              f"(known: {', '.join(sorted(known)) or 'none'})")
        scope = Scope(institutions=frozenset(institutions))
    data = est.report(scope=scope, since=since, stale_days=stale_days,
                      expiring_days=expiring_days, title=title)
    doc = render_estate(data, fmt)
    if output is None:
        click.echo(doc, nl=False)
        return
    atomic_write_bytes(output, doc)
    click.echo(f"wrote {output} ({fmt}, {len(doc):,} bytes; {len(data.institutions)} "
               f"institution(s), {data.hosts} host(s))", err=True)


@click.command("schedules")
@click.option("--run", "run_due", is_flag=True,
              help="Render and queue every report due and not yet sent, then send the queue.")
@click.option("--send", "send_name", metavar="NAME",
              help="Render and queue this schedule's report now, then send the queue.")
@actor_option
@with_estate
def schedules(est: Estate, run_due: bool, send_name: str | None, actor: str) -> None:
    """Scheduled reports (reports.toml): cron, receiver, format, last sent and next due."""
    from datetime import UTC, datetime

    who = actor
    items = est.schedules.schedules()
    if send_name or run_due:
        runs = ([est.schedules.send(send_name, actor=who)] if send_name
                else est.schedules.run_due(actor=who))
        for r in runs:
            click.echo(f"{r.schedule}: {r.action} {r.due}"
                       + (f" (alert {r.alert_id}, {r.bytes:,} bytes)" if r.alert_id else ""))
        result = est.alerts.drain(actor=who)
        click.echo(f"alerts: {result.sent} sent, {result.failed} failed")
        return
    if not items:
        click.echo(f"no report schedules ({est.schedules.config_file()} does not name any)")
        return
    now = datetime.now(UTC)
    for s in items:
        last = est.schedules.last_due(s.name) or "never"
        click.echo(f"{s.name}: cron '{s.cron}' → {s.receiver} as {s.format}"
                   f"{' for ' + ', '.join(s.institutions) if s.institutions else ''}; "
                   f"last {last}; next {s.following(now):%Y-%m-%dT%H:%MZ}")
