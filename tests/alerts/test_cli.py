"""``kitvet alerts`` end to end against a real receiver on loopback, and every command in
docs/alerts.md."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.receivers import WebhookReceiver, free_port
from kitvet.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


def inventory(path: Path) -> Path:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [
        {"host": {"host_id": "srv-1", "platform": "linux", "collected_at": now,
                  "institution": "Parliament"},
         "software": [{"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"}]}]}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def kv(tmp_path, monkeypatch):
    monkeypatch.setenv("KITVET_ESTATE", str(tmp_path / "estate"))
    monkeypatch.setenv("KITVET_ACTOR", "alice")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(main, list(args), catch_exceptions=False)
        assert res.exit_code == code, res.output
        return res.output

    run("estate", "init")
    return run


def test_alerts_commands(kv, tmp_path, monkeypatch):
    receiver = WebhookReceiver(secret="cli-secret").start()
    port = free_port()
    monkeypatch.setenv("SOC_SECRET", "cli-secret")
    (tmp_path / "estate" / "alerts.toml").write_text(
        f'[[receivers]]\nname = "soc"\nkind = "webhook"\nurl = "{receiver.url}"\n'
        f'secret = "env:SOC_SECRET"\n\n[[receivers]]\nname = "down"\nkind = "webhook"\n'
        f'url = "http://127.0.0.1:{port}/x"\nretry = {{attempts = 1}}\n')
    try:
        out = kv("alerts", "receivers")
        assert "soc" in out and "webhook" in out and "127.0.0.1" in out
        assert "cli-secret" not in out
        assert "delivered to soc" in kv("alerts", "test", "soc")
        assert receiver.bodies()[-1]["event"]["kind"] == "test"
        kv("estate", "import", str(inventory(tmp_path / "inv.json")))
        kv("estate", "review")
        out = kv("alerts", "send", code=1)  # "down" fails: exit 1
        assert "soc: 1 sent" in out
        assert receiver.bodies()[-1]["finding"]["name"] == "xz-utils"
        dead = json.loads(kv("alerts", "dead", "--format", "json"))
        assert [d["receiver"] for d in dead] == ["down"]
        listed = json.loads(kv("alerts", "list", "--state", "sent", "--format", "json"))
        assert {a["receiver"] for a in listed} == {"soc"}
        out = kv("alerts", "replay", str(dead[0]["alert_id"]), "--no-send")
        assert "1 alert(s) back in the queue" in out
        assert kv("alerts", "receivers", "--format", "json").count('"pending": 1') == 1
    finally:
        receiver.stop()


def test_unknown_receiver_is_one_line_exit_2(kv):
    out = kv("alerts", "test", "nobody", code=2)
    assert "no receiver 'nobody'" in out


def test_every_alerts_command_is_documented():
    from kitvet.cli.alerts import alerts

    text = DOCS.read_text(encoding="utf-8")
    for name in alerts.commands:
        assert re.search(rf"kitvet alerts {name}\b", text), f"docs/alerts.md lacks {name}"
