"""Scheduled estate reports: rendered on a cron schedule and sent through the alert channels.

Read from ``reports.toml`` in the estate folder (or the file ``$KITVET_REPORTS`` names)::

    [[schedules]]
    name = "weekly-board"            # letters, digits, . _ -
    cron = "0 7 * * mon"             # minute hour day month weekday, UTC
    receiver = "ciso-mail"           # a receiver of alerts.toml (e-mail, webhook, Slack, Teams)
    format = "pdf"                   # pdf | html | xlsx | csv | json
    institutions = ["Parliament"]    # default: the whole estate
    since_days = 90                  # the trend's window (default: from the first inventory)
    stale_days = 7
    expiring_days = 30
    title = "Estate report"

:meth:`ReportSchedules.run_due` renders every schedule whose latest due time has not been sent
and queues it, as a message with the report attached, for its receiver (sent at least once, in
order, by the alert queue). What was sent is recorded in the audit log (``report.sent``, with
the due time), which is also how the schedule knows where it stands: a restart neither loses
nor repeats an occurrence, and a schedule seen for the first time starts at its next one.
Missed occurrences (the server was down) are caught up with one report, not one per miss.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from kitvet.errors import ReportError
from kitvet.estate.scope import EVERYTHING, Scope
from kitvet.store import audit as audit_log
from kitvet.store import tables as t
from kitvet.store.db import read, write

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from kitvet.estate.alerting import EstateAlerts
    from kitvet.report.estate.model import EstateReport


class _Estate(Protocol):
    """What the schedules use of :class:`~kitvet.estate.Estate` (which holds them: importing
    it here would make a circle)."""

    root: Path
    engine: Engine

    @property
    def alerts(self) -> EstateAlerts: ...

    def report(self, *, scope: Scope = ..., since: str | None = ..., stale_days: int = ...,
               expiring_days: int = ..., title: str = ...) -> EstateReport: ...

CONFIG_NAME = "reports.toml"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FIELDS = {"name", "cron", "receiver", "format", "institutions", "since_days", "stale_days",
          "expiring_days", "title"}


@dataclass(frozen=True)
class Schedule:
    """One scheduled report."""

    name: str
    cron: str
    receiver: str
    format: str = "pdf"
    institutions: tuple[str, ...] = ()
    since_days: int | None = None
    stale_days: int = 7
    expiring_days: int = 30
    title: str = "Estate report"

    def previous(self, now: datetime) -> datetime:
        """The latest due time at or before ``now`` (UTC)."""
        from croniter import croniter

        return croniter(self.cron, now + timedelta(seconds=1)).get_prev(datetime)

    def following(self, now: datetime) -> datetime:
        """The next due time after ``now`` (UTC)."""
        from croniter import croniter

        return croniter(self.cron, now).get_next(datetime)


@dataclass(frozen=True)
class ScheduleRun:
    """What :meth:`ReportSchedules.run_due` did with one schedule."""

    schedule: str
    due: str
    action: str  # sent | started | waiting
    alert_id: int | None = None
    bytes: int = 0


def config_path(root: Path) -> Path:
    """``$KITVET_REPORTS``, else ``reports.toml`` in the estate folder."""
    env = os.environ.get("KITVET_REPORTS")
    return Path(env) if env else root / CONFIG_NAME


def load(path: Path) -> list[Schedule]:
    """The schedules of ``path`` (none when it does not exist)."""
    from croniter import croniter

    from kitvet.report.estate import ESTATE_FORMATS

    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ReportError(f"cannot read report schedules: {e}", file=str(path)) from e
    unknown = set(data) - {"schedules"}
    if unknown:
        raise ReportError(f"unknown setting(s): {', '.join(sorted(unknown))}", file=str(path))
    out: list[Schedule] = []
    for i, raw in enumerate(data.get("schedules", [])):
        place = f"schedules[{i}]"
        bad = set(raw) - FIELDS
        if bad:
            raise ReportError(f"unknown field(s): {', '.join(sorted(bad))}", file=str(path),
                              place=place)
        try:
            s = Schedule(name=str(raw["name"]), cron=str(raw["cron"]),
                         receiver=str(raw["receiver"]), format=str(raw.get("format", "pdf")),
                         institutions=tuple(str(x) for x in raw.get("institutions", [])),
                         since_days=(int(raw["since_days"]) if "since_days" in raw else None),
                         stale_days=int(raw.get("stale_days", 7)),
                         expiring_days=int(raw.get("expiring_days", 30)),
                         title=str(raw.get("title", "Estate report")))
        except (KeyError, TypeError, ValueError) as e:
            raise ReportError(f"missing or bad field: {e}", file=str(path), place=place) from e
        if not NAME_RE.match(s.name) or s.name in {o.name for o in out}:
            raise ReportError(f"bad or repeated name {s.name!r}", file=str(path), place=place)
        if not croniter.is_valid(s.cron):
            raise ReportError(f"not a cron expression: {s.cron!r}", file=str(path), place=place)
        if s.format not in ESTATE_FORMATS:
            raise ReportError(f"unknown format {s.format!r} ({', '.join(ESTATE_FORMATS)})",
                              file=str(path), place=place)
        out.append(s)
    return out


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReportSchedules:
    """The estate's scheduled reports (``est.schedules``)."""

    def __init__(self, estate: _Estate):
        self.estate = estate

    def config_file(self) -> Path:
        """The schedules file in force."""
        return config_path(self.estate.root)

    def schedules(self) -> list[Schedule]:
        """The schedules, read now (edits take effect without a restart)."""
        return load(self.config_file())

    def last_due(self, name: str) -> str | None:
        """The due time of the latest occurrence sent (or started from) for a schedule."""
        a = t.audit_log
        with read(self.estate.engine) as conn:
            row = conn.execute(select(a.c.details).where(
                a.c.object == f"report-schedule:{name}",
                a.c.action.in_(("report.sent", "report.schedule-start")))
                .order_by(a.c.seq.desc()).limit(1)).first()
        return str(json.loads(row[0]).get("due")) if row else None

    def run_due(self, *, actor: str, now: datetime | None = None) -> list[ScheduleRun]:
        """Render and queue every schedule due and not yet sent (see the module)."""
        now = now or datetime.now(UTC)
        cfg = self.estate.alerts.config()
        out = []
        for s in self.schedules():
            cfg.receiver(s.receiver)  # a schedule for an unknown receiver is an error
            due = _iso(s.previous(now))
            last = self.last_due(s.name)
            if last is None:
                self._record(s, "report.schedule-start", due, actor, {})
                out.append(ScheduleRun(s.name, due, "started"))
            elif due > last:
                out.append(self._send(s, due, now, actor))
            else:
                out.append(ScheduleRun(s.name, _iso(s.following(now)), "waiting"))
        return out

    def send(self, name: str, *, actor: str, now: datetime | None = None) -> ScheduleRun:
        """Render and queue one schedule's report now, whatever its calendar says."""
        now = now or datetime.now(UTC)
        found = next((s for s in self.schedules() if s.name == name), None)
        if found is None:
            raise ReportError(f"no report schedule {name!r} in {self.config_file()}")
        return self._send(found, _iso(now), now, actor)

    def _send(self, s: Schedule, due: str, now: datetime, actor: str) -> ScheduleRun:
        from kitvet.model.alert import Attachment
        from kitvet.report.estate import estate_format

        scope = Scope(institutions=frozenset(s.institutions)) if s.institutions else EVERYTHING
        since = ((now - timedelta(days=s.since_days)).date().isoformat()
                 if s.since_days is not None else None)
        data = self.estate.report(scope=scope, since=since, stale_days=s.stale_days,
                                  expiring_days=s.expiring_days, title=s.title)
        form = estate_format(s.format)
        body = form.render(data)
        filename = f"kitvet-{s.name}-{due[:10]}{form.suffix}"
        summary = ", ".join(f"{cls}: {sum(data.by_class(cls).values())}"
                            for cls in data.classes) or "no live findings"
        aid = self.estate.alerts.enqueue(
            s.receiver, title=f"{s.title} ({due[:10]})",
            text=f"{s.title} of {', '.join(s.institutions) or 'the whole estate'}: "
                 f"{data.hosts} hosts, {len(data.silent_hosts)} not reporting; live findings "
                 f"by class: {summary}. The report is attached ({filename}).",
            attachments=[Attachment(filename, form.media_type.split(";")[0], body)],
            data={"schedule": s.name, "due": due, "format": s.format}, link="/reports",
            institution=s.institutions[0] if len(s.institutions) == 1 else None, actor=actor)
        self._record(s, "report.sent", due, actor, {"alert_id": aid, "receiver": s.receiver,
                                                     "format": s.format, "bytes": len(body)})
        return ScheduleRun(s.name, due, "sent", aid, len(body))

    def _record(self, s: Schedule, action: str, due: str, actor: str,
                details: dict[str, Any]) -> None:
        with write(self.estate.engine) as conn:
            audit_log.append(conn, actor=actor, action=action, obj=f"report-schedule:{s.name}",
                             details={"due": due, "cron": s.cron, **details})
