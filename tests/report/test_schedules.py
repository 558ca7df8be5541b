"""Scheduled estate reports: rendered on a cron schedule and delivered through the alert
queue to a real webhook receiver on loopback (signature checked); a restart neither loses nor
repeats an occurrence."""

from __future__ import annotations

import base64
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from receivers import WebhookReceiver


def _configure(root: Path, receiver: WebhookReceiver, schedules: str) -> None:
    (root / "alerts.toml").write_text(
        f'[[receivers]]\nname = "board"\nkind = "webhook"\nurl = "{receiver.url}"\n'
        f'secret = "board-secret"\n')
    (root / "reports.toml").write_text(schedules)


WEEKLY = """
[[schedules]]
name = "weekly"
cron = "0 7 * * mon"
receiver = "board"
format = "xlsx"
institutions = ["Parliament"]
since_days = 60
"""


def test_a_due_report_reaches_the_receiver_once(history, tmp_path):
    from kitvet.estate import open_estate

    receiver = WebhookReceiver(secret="board-secret").start()
    root = tmp_path / "estate"
    _configure(root, receiver, WEEKLY)
    est = open_estate(root)
    try:
        monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # a Monday, 07:00
        # first sight: the schedule starts at its next occurrence, sends nothing
        assert [r.action for r in est.schedules.run_due(actor="t", now=monday)] == ["started"]
        # the next Monday comes (the server was down over the weekend: caught up once)
        later = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
        runs = est.schedules.run_due(actor="t", now=later)
        assert [(r.action, r.due) for r in runs] == [("sent", "2026-12-07T07:00:00Z")]
        assert [r.action for r in est.schedules.run_due(actor="t", now=later)] == ["waiting"]
        est.close()
        est = open_estate(root)  # a restart: still nothing to send
        assert [r.action for r in est.schedules.run_due(actor="t", now=later)] == ["waiting"]
        assert est.alerts.drain(actor="t").sent == 1
        body = receiver.bodies()[-1]
        assert "Parliament" in str(body) and "weekly" in str(body["data"])
        att = body["attachments"][0]
        assert att["filename"] == "kitvet-weekly-2026-12-07.xlsx"
        data = base64.b64decode(att["content_base64"])
        assert data.startswith(b"PK") and len(data) == att["size"]
        sent = est.audit(action="report.sent", limit=None)
        assert len(sent) == 1 and sent[0].object == "report-schedule:weekly"
    finally:
        est.close()
        receiver.stop()


def test_schedules_command_and_bad_files(history, tmp_path):
    receiver = WebhookReceiver(secret="board-secret").start()
    root = tmp_path / "estate"
    try:
        assert "no report schedules" in history("estate", "schedules")
        _configure(root, receiver, WEEKLY)
        out = history("estate", "schedules")
        assert "weekly: cron '0 7 * * mon' → board as xlsx for Parliament; last never" in out
        out = history("estate", "schedules", "--send", "weekly")
        assert "weekly: sent" in out and "alerts: 1 sent, 0 failed" in out
        assert receiver.bodies()[-1]["attachments"][0]["filename"].endswith(".xlsx")
        (root / "reports.toml").write_text(WEEKLY.replace("0 7 * * mon", "every monday"))
        assert "not a cron expression" in history("estate", "schedules", code=2)
        (root / "reports.toml").write_text(WEEKLY.replace('"board"', '"nobody"'))
        assert "no receiver 'nobody'" in history("estate", "schedules", "--run", code=2)
    finally:
        receiver.stop()
