"""``kitvet serve`` subcommands: accounts, tokens, and the demo estate's one-time password."""

from __future__ import annotations

import re

from click.testing import CliRunner

from kitvet.cli import main


def _estate(tmp_path):
    from kitvet.estate import init_estate

    root = tmp_path / "estate"
    init_estate(root, actor="tests").close()
    return str(root)


def test_user_and_token_commands(tmp_path):
    from kitvet.estate import open_estate

    root = _estate(tmp_path)
    run = CliRunner().invoke
    r = run(main, ["serve", "--estate", root, "user", "add", "carol", "--role", "reviewer",
                   "--institution", "Alpha Agency", "--password-stdin"],
            input="a long enough password\n")
    assert r.exit_code == 0, r.output
    r = run(main, ["serve", "--estate", root, "user", "add", "dave", "--role", "reviewer",
                   "--password-stdin"], input="a long enough password\n")
    assert r.exit_code == 2 and "needs at least one --institution" in r.output
    r = run(main, ["serve", "--estate", root, "user", "add", "erin", "--role", "auditor",
                   "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = run(main, ["serve", "--estate", root, "token", "add", "--institution", "Alpha Agency",
                   "--name", "alpha agents"])
    assert r.exit_code == 0, r.output
    token = re.search(r"kvt_[A-Za-z0-9_-]{40,}", r.output).group(0)
    with open_estate(root) as est:
        assert est.accounts.get_user("carol").institutions == ("Alpha Agency",)
        assert est.tokens.lookup(token).institution == "Alpha Agency"
        assert [e.action for e in est.audit(action="user.")] == ["user.create"]
    r = run(main, ["serve", "--estate", root, "token", "list"])
    assert "alpha agents" in r.output and token not in r.output
    assert run(main, ["serve", "--estate", root, "token", "revoke", "1"]).exit_code == 0
    with open_estate(root) as est:
        assert est.tokens.lookup(token) is None


def test_demo_estate_prints_the_admin_password_once(tmp_path, capsys):
    from kitvet.cli.serve import _demo_estate
    from kitvet.server.settings import ServerSettings

    est = _demo_estate(tmp_path / "demo", None, ServerSettings())
    out = capsys.readouterr().out
    password = re.search(r"password '([^']+)'", out).group(1)
    assert est.host_count() >= 30 and est.findings().total > 0
    assert est.accounts.authenticate("admin", password, client="t") is not None
    est.close()
    est = _demo_estate(tmp_path / "demo", None, ServerSettings())
    assert password not in capsys.readouterr().out
    est.close()


def test_every_serve_command_and_option_is_documented():
    from pathlib import Path

    import click

    from kitvet.cli.serve import serve

    doc = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    missing = [o for p in serve.params for o in p.opts if o.startswith("--") and o not in doc]

    def walk(group: click.Group, prefix: str) -> None:
        for name, cmd in group.commands.items():
            if f"{prefix} {name}".split(" ", 1)[1] not in doc:
                missing.append(f"{prefix} {name}")
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix} {name}")
            else:
                missing.extend(o for p in cmd.params for o in p.opts
                               if o.startswith("--") and o not in doc)

    walk(serve, "serve")
    assert missing == []
