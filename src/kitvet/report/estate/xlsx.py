"""The estate report as a spreadsheet (openpyxl): one sheet per table, real types.

Numbers are numbers, days are dates, times are date-times (UTC). Every text cell is stored as
a string, never a formula, whatever it starts with; control characters (which the format
cannot hold) are shown as ``\\xNN``.
"""

from __future__ import annotations

import io
from typing import Any

from kitvet.lists.format import printable
from kitvet.report.estate.interface import EstateReportFormat
from kitvet.report.estate.model import EstateReport
from kitvet.report.estate.tabular import tables

DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _put(ws: Any, row: int, col: int, value: Any) -> None:
    from datetime import date, datetime

    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = printable(value)
        cell.data_type = "s"  # text, even when it starts with "=": never a formula
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = TIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT


def render(report: EstateReport) -> bytes:
    """The report as an .xlsx workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    about = wb.create_sheet("About")
    for i, (k, v) in enumerate((
            ("title", report.title), ("generated_at", report.generated_at),
            ("generator", report.generator),
            ("institutions", ", ".join(report.scope) if report.scope is not None
             else "the whole estate"),
            ("since", report.since or ""), ("stale_days", report.stale_days),
            ("expiring_days", report.expiring_days),
            ("note", "Counts are per finding class and status; classes are never summed.")),
            start=1):
        _put(about, i, 1, k)
        _put(about, i, 2, v)
    for tb in tables(report):
        ws = wb.create_sheet(tb.name)
        for c, name in enumerate(tb.columns, start=1):
            _put(ws, 1, c, name)
            ws.cell(row=1, column=c).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(c)].width = max(12, len(name) + 4)
        for r, row in enumerate(tb.rows, start=2):
            for c, value in enumerate(row, start=1):
                _put(ws, r, c, value)
        ws.freeze_panes = "A2"
        if tb.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(tb.columns))}{len(tb.rows) + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class XlsxFormat(EstateReportFormat):
    """A spreadsheet: one sheet per table, real numbers and dates, text never a formula."""

    name = "xlsx"
    description = "A spreadsheet: one sheet per table, real numbers and dates, text never a formula."
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    suffix = ".xlsx"

    def render(self, report: EstateReport) -> bytes:
        """The report as an .xlsx workbook."""
        return render(report)
