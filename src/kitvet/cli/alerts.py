"""``kitvet alerts``: receivers, test, send (drain the queue), list, dead letters, replay.

Thin: every command calls :attr:`kitvet.estate.Estate.alerts`. See ``docs/alerts.md``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kitvet.cli import EXIT_FINDINGS
from kitvet.cli.options import actor_option, console, emit_json, fmt_option, with_estate

if TYPE_CHECKING:
    from kitvet.estate import Estate
    from kitvet.model.alert import AlertRecord


@click.group()
def alerts() -> None:
    """Alerts to receivers (webhook, e-mail, Slack, Teams) on estate events."""


@alerts.command("receivers")
@fmt_option("table", "json")
@with_estate
def receivers(est: Estate, fmt: str) -> None:
    """The receivers of alerts.toml, their routing and their queues."""
    depth = est.alerts.depth()
    rows = []
    for r in est.alerts.receivers():
        d = r.describe()
        d.update({s: depth.get((r.name, s), 0) for s in ("pending", "sent", "dead")})
        rows.append(d)
    if fmt == "json":
        emit_json({"config": str(est.alerts.config_file), "receivers": rows})
        return
    from rich.table import Table

    table = Table(title=f"receivers ({est.alerts.config_file})")
    for col in ("name", "kind", "to", "events", "institutions", "statuses", "pending", "sent",
                "dead"):
        table.add_column(col, justify="right" if col in ("pending", "sent", "dead") else "left")
    for d in rows:
        table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in (
            d["name"], d["kind"], d["to"], d["events"], d["institutions"], d["statuses"],
            d["pending"], d["sent"], d["dead"])))
    console().print(table)
    if not rows:
        click.echo(f"no receivers configured: events are recorded and wait in the outbox "
                   f"(write {est.alerts.config_file}, see docs/alerts.md)")


@alerts.command("test")
@click.argument("receiver")
@actor_option
@with_estate
def test(est: Estate, receiver: str, actor: str) -> None:
    """Queue a test alert for RECEIVER and send its queue now; exit 1 if it was not delivered."""
    aid, result = est.alerts.test(receiver, actor=actor)
    sent = est.alerts.listing(receiver=receiver, limit=1000, newest_first=True)
    state = next((a.state for a in sent if a.alert_id == aid), "pending")
    if state == "sent":
        click.echo(f"test alert {aid} delivered to {receiver}")
        return
    errs = "; ".join(e for o in result.receivers for e in o.errors) or "not sent yet"
    click.echo(f"test alert {aid} to {receiver} is {state}: {errs}", err=True)
    sys.exit(EXIT_FINDINGS)


@alerts.command("send")
@click.option("--receiver", "names", multiple=True, help="Only this receiver (repeatable).")
@click.option("--retry-now", is_flag=True, help="Retry failed alerts now, not after back-off.")
@click.option("--no-scan", is_flag=True,
              help="Do not look at the calendar first (deadlines, expiries, silent hosts).")
@fmt_option("text", "json")
@actor_option
@with_estate
def send(est: Estate, names: tuple[str, ...], retry_now: bool, no_scan: bool, fmt: str,
         actor: str) -> None:
    """Raise due calendar events, route the outbox and send what is due (run it from cron or
    a systemd timer; `kitvet serve` does it by itself). Exit 1 if a delivery failed."""
    raised = 0 if no_scan else est.alerts.scan(actor=actor)
    result = est.alerts.drain(receivers=list(names) or None, retry_now=retry_now, actor=actor)
    if fmt == "json":
        emit_json(dict(result.to_dict(), raised=raised))
    else:
        click.echo(f"{raised} new event(s), {result.routed} alert(s) queued, "
                   f"{result.sent} sent, {result.failed} failed")
        for o in result.receivers:
            if o.sent or o.retrying or o.dead:
                click.echo(f"  {o.receiver}: {o.sent} sent, {o.retrying} waiting to retry, "
                           f"{o.dead} dead-lettered")
            for e in o.errors[:5]:
                click.echo(f"    {e}", err=True)
        for name in result.unconfigured:
            click.echo(f"  {name}: alerts queued for a receiver no longer configured", err=True)
    if result.failed:
        sys.exit(EXIT_FINDINGS)


def _table(items: list[AlertRecord], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("id", "receiver", "kind", "state", "attempts", "created", "title", "error"):
        table.add_column(col)
    for a in items:
        table.add_row(str(a.alert_id), a.receiver, a.kind, a.state, str(a.attempts),
                      a.created_at[:19], a.title[:80], (a.last_error or "")[:80])
    console().print(table)


@alerts.command("list")
@click.option("--receiver")
@click.option("--state", type=click.Choice(["pending", "sent", "dead"]))
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@fmt_option("table", "json")
@with_estate
def list_(est: Estate, receiver: str | None, state: str | None, limit: int, fmt: str) -> None:
    """Alerts in the queue, newest first."""
    items = est.alerts.listing(receiver=receiver, state=state, limit=limit)
    if fmt == "json":
        emit_json([a.to_dict() for a in items])
        return
    _table(items, "alerts")


@alerts.command("dead")
@click.option("--receiver")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@fmt_option("table", "json")
@with_estate
def dead(est: Estate, receiver: str | None, limit: int, fmt: str) -> None:
    """The dead letters: alerts that failed for good, with the last error."""
    items = est.alerts.dead_letters(receiver=receiver, limit=limit)
    if fmt == "json":
        emit_json([a.to_dict() for a in items])
        return
    _table(items, "dead letters")


@alerts.command("replay")
@click.argument("alert_ids", nargs=-1, type=int)
@click.option("--receiver", help="Every dead letter of this receiver.")
@click.option("--send/--no-send", "send_now", default=True, show_default=True,
              help="Send the replayed alerts at once.")
@actor_option
@with_estate
def replay(est: Estate, alert_ids: tuple[int, ...], receiver: str | None, send_now: bool,
           actor: str) -> None:
    """Put dead letters back in their queues (by id, or all of a receiver's)."""
    ids = est.alerts.replay(actor=actor, alert_ids=alert_ids, receiver=receiver)
    click.echo(f"{len(ids)} alert(s) back in the queue")
    if ids and send_now:
        result = est.alerts.drain(actor=actor)
        click.echo(f"{result.sent} sent, {result.failed} failed")
        if result.failed:
            sys.exit(EXIT_FINDINGS)
