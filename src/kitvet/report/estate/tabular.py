"""The estate report as tables: typed rows for the spreadsheet, and one CSV of them all.

Each table (summary, trend, campaigns, burndown, exceptions, hosts not reporting) is a list of
rows with real types (int, date, datetime, str). The CSV puts every table in one file with a
``section`` column; its cells are neutralised for spreadsheets (a leading ``= + - @``, tab or
carriage return gets a quote) and control characters are shown as ``\\xNN``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kitvet.lists.format import printable
from kitvet.model.finding import CLASS_LABELS
from kitvet.report.csvfmt import safe_cell
from kitvet.report.estate.interface import EstateReportFormat
from kitvet.report.estate.model import EstateReport

STATUSES = ("ban", "review", "monitor", "allow")


@dataclass(frozen=True)
class Table:
    """One table of the report: a name, its columns and typed rows."""

    name: str
    section: str  # the CSV's section value
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def day(text: str | None) -> date | None:
    """An ISO date (or the date of an ISO timestamp) as a date."""
    return date.fromisoformat(text[:10]) if text else None


def moment(text: str | None) -> datetime | None:
    """An ISO UTC timestamp as a naive UTC datetime (spreadsheets know no time zones)."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def class_label(cls: str) -> str:
    """The human heading of a finding class."""
    return CLASS_LABELS.get(cls, cls)


def tables(r: EstateReport) -> list[Table]:
    """Every table of the report, in the order the other formats show them."""
    summary = []
    for i in r.institutions:
        classes = [c for c in r.classes if any(i.by_class.get(c, {}).values())]
        for cls in classes or [""]:
            counts = i.by_class.get(cls, {})
            summary.append((i.institution, i.hosts, i.hosts_reporting,
                            class_label(cls) if cls else "",
                            *(counts.get(s, 0) for s in STATUSES),
                            i.unresolved_by_class.get(cls, 0)))
    trend = [(day(p.day), class_label(cls), *(p.by_class.get(cls, {}).get(s, 0)
                                              for s in STATUSES))
             for p in r.trend for cls in r.classes]
    camps = [(c.campaign_id, c.subject_name, c.phase, day(c.remove_due), p.institution,
              p.affected, p.removed, p.remaining, p.overdue)
             for c in r.campaigns for p in c.institutions]
    burn = [(c.campaign_id, c.subject_name, moment(b.at), b.affected, b.remaining, b.overdue)
            for c in r.campaigns for b in c.burndown]
    exc = [(e.exception_id, e.subject_id, e.scope, day(e.expires), e.days_left, e.matched,
            e.approver, e.reason) for e in r.exceptions]
    silent = [(h.institution, h.host_id, h.hostname or "", moment(h.last_collected),
               h.days_silent) for h in r.silent_hosts]
    return [
        Table("Summary", "summary", ("institution", "hosts", "hosts_reporting", "finding_class",
                                     *STATUSES, "unresolved"), summary),
        Table("Trend", "trend", ("date", "finding_class", *STATUSES), trend),
        Table("Campaigns", "campaign", ("campaign_id", "subject", "phase", "remove_due",
                                        "institution", "affected", "removed", "remaining",
                                        "overdue"), camps),
        Table("Burndown", "burndown", ("campaign_id", "subject", "at", "affected",
                                       "remaining", "overdue"), burn),
        Table("Exceptions due", "exception", ("exception_id", "subject", "scope", "expires",
                                              "days_left", "findings", "approver", "reason"),
              exc),
        Table("Hosts not reporting", "silent-host", ("institution", "host_id", "hostname",
                                                     "last_inventory", "days_silent"), silent),
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(printable(str(value))) if isinstance(value, str) else str(value)


def csv_rows(r: EstateReport) -> Iterator[list[str]]:
    """The header, then every row of every table under one set of columns."""
    all_tables = tables(r)
    columns: list[str] = ["section"]
    for tb in all_tables:
        columns += [c for c in tb.columns if c not in columns]
    yield columns
    for tb in all_tables:
        where = [columns.index(c) for c in tb.columns]
        for row in tb.rows:
            out = [""] * len(columns)
            out[0] = tb.section
            for i, v in zip(where, row, strict=True):
                out[i] = _text(v)
            yield out


def render_csv(r: EstateReport) -> str:
    """The report as one CSV document."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows(csv_rows(r))
    return buf.getvalue()


class CsvFormat(EstateReportFormat):
    """Every table in one CSV (a section column), safe to open in a spreadsheet."""

    name = "csv"
    description = "Every table in one CSV (a section column), safe to open in a spreadsheet."
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"

    def render(self, report: EstateReport) -> bytes:
        """The report as UTF-8 CSV."""
        return render_csv(report).encode("utf-8")
