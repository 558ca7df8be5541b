"""alerts.toml: what it accepts, what it refuses (naming the place), secrets and routing."""

from __future__ import annotations

import pytest

from kitvet.alerts.config import Retry, load, parse, resolve_secret
from kitvet.errors import AlertError


def test_receivers_and_routing(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text('''
warn_days = 14
[[receivers]]
name = "soc"
kind = "webhook"
url = "https://soc.example.org/h?token=abc"
secret = "env:X"
institutions = ["Parliament"]
statuses = ["ban"]

[[receivers]]
name = "mail"
kind = "email"
smtp = "smtp.example.org:587"
from = "kitvet@example.org"
to = "ciso@example.org"
''')
    cfg = load(path)
    soc, mail = cfg.receivers
    assert cfg.warn_days == 14 and cfg.silent_after_days == 7
    assert soc.wants("finding.ban", "Parliament", "ban")
    assert not soc.wants("finding.ban", "Agency", "ban")
    assert not soc.wants("finding.status-changed", "Parliament", "review")
    assert soc.wants("inventory.host-silent", "Parliament", None)  # no status: passes
    assert soc.wants("test", "Agency", None)
    assert soc.describe()["to"] == "https://soc.example.org/h" and soc.describe()["signed"]
    assert (mail.smtp_host, mail.smtp_port, mail.to, mail.starttls) == (
        "smtp.example.org", 587, ("ciso@example.org",), True)
    assert load(tmp_path / "absent.toml").receivers == ()


@pytest.mark.parametrize("text, message", [
    ('[[receivers]]\nname = "a"\nkind = "fax"\nurl = "https://x"', "kind must be one of"),
    ('[[receivers]]\nname = "a"\nkind = "webhook"\nurl = "ftp://x"', "url must start"),
    ('[[receivers]]\nname = "a b"\nkind = "webhook"\nurl = "https://x"', "name:"),
    ('[[receivers]]\nname = "a"\nkind = "webhook"\nurl = "https://x"\nevents = ["finding.new"]',
     "unknown event kind"),
    ('[[receivers]]\nname = "a"\nkind = "email"\nsmtp = "h:25"\nto = ["x@y"]', "from and to"),
    ('[[receivers]]\nname = "a"\nkind = "webhook"\nurl = "https://x"\ncolour = 1', "colour"),
    ('[[receivers]]\nname = "a"\nkind = "webhook"\nurl = "https://x"\n'
     '[[receivers]]\nname = "a"\nkind = "slack"\nurl = "https://y"', "unique"),
    ('warn_days = -1', "whole number"),
    ('[[receivers]]\nname = ', "invalid TOML"),
])
def test_bad_configurations_are_refused_with_their_place(tmp_path, text, message):
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    with pytest.raises(AlertError, match=message) as e:
        load(path)
    assert str(path) in str(e.value)


def test_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("K", "from-env")
    (tmp_path / "k").write_text("from-file\n")
    assert resolve_secret("env:K", what="r") == "from-env"
    assert resolve_secret(f"file:{tmp_path / 'k'}", what="r") == "from-file"
    assert resolve_secret("plain", what="r") == "plain"
    monkeypatch.delenv("K")
    with pytest.raises(AlertError, match="K is not set"):
        resolve_secret("env:K", what="r")


def test_back_off_doubles_up_to_its_ceiling():
    r = Retry(attempts=10, base_s=30, max_s=600)
    assert [r.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 480, 600]
    assert parse({}).receivers == ()
