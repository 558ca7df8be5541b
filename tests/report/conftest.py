"""Fixtures of the report tests: a small estate with a history, built through the command line as a user would: two
institutions, an inventory on 2026-11-01, a cleaner one on 2026-11-27 from all hosts but
one, a decision, a campaign and an exception; hostile names in hosts and packages."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main

HOSTILE_HOST = '<script>alert("host")</script>'
HOSTILE_PACKAGE = '=HYPERLINK("http://evil.example","x")\x1b[31m\x07'
HOSTILE_INSTITUTION = "+Ops <b>Unit</b>"
HOSTILE_REASON = "@SUM(1+1)*cmd|' /C calc'!A0 forensic image\x1b[2J"


def _snap(host: str, institution: str, at: str, software: list[dict], hostname: str | None = None
          ) -> dict:
    return {"host": {"host_id": host, "hostname": hostname or host, "institution": institution,
                     "platform": "linux", "collected_at": at}, "software": software}


XZ = {"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"}
LZMA = {"name": "liblzma5", "version": "5.6.1-1", "package_type": "deb"}
KASP = {"name": "Kaspersky Endpoint Security for Windows", "version": "11.11",
        "publisher": "AO Kaspersky Lab", "package_type": "windows"}
HOSTILE = {"name": HOSTILE_PACKAGE, "version": "1", "publisher": "AO Kaspersky Lab",
           "package_type": "windows"}
BASH = {"name": "bash", "version": "5.2", "package_type": "deb"}


def write_inventory(path: Path, at: str, *, cleaned: bool) -> Path:
    snaps = [
        _snap("pa-1", "Parliament", at, [BASH] if cleaned else [XZ, LZMA, BASH]),
        _snap("pa-2", "Parliament", at, [KASP, HOSTILE]),
        _snap("ag-1", "Agency", at, [XZ, BASH] if cleaned else [XZ, LZMA, BASH]),
        _snap("op-1", HOSTILE_INSTITUTION, at, [KASP]),
    ]
    if not cleaned:  # this host reports once and then falls silent
        snaps.append(_snap("ag-silent", "Agency", at, [KASP], hostname=HOSTILE_HOST))
    path.write_text(json.dumps({"kitvet_inventory": "1.0.0", "snapshots": snaps}))
    return path


Run = Callable[..., str]


def _runner(estate: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run kitvet in ``estate`` (today pinned to 2026-12-01)."""
    monkeypatch.setenv("KITVET_ESTATE", str(estate))
    monkeypatch.setenv("KITVET_ACTOR", "ciso")
    monkeypatch.setenv("KITVET_TODAY", "2026-12-01")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(main, list(args), catch_exceptions=False)
        assert res.exit_code == code, res.output
        return res.output
    return run


@pytest.fixture
def kv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run kitvet in a fresh estate (today pinned to 2026-12-01)."""
    return _runner(tmp_path / "estate", monkeypatch)


@pytest.fixture(scope="session")
def _history_estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The estate with its history, built once through the command line (eight commands,
    two imports and two reviews: about a second a test)."""
    base = tmp_path_factory.mktemp("history")
    with pytest.MonkeyPatch.context() as mp:
        kv = _runner(base / "estate", mp)
        kv("estate", "init")
        kv("estate", "import", str(write_inventory(base / "a.json", "2026-11-01T09:00:00Z",
                                                    cleaned=False)))
        kv("estate", "review")
        kv("decide", "xz-utils-backdoor-2024", "--decision", "confirmed-malicious",
           "--rationale", "CVE-2024-3094")
        kv("campaign", "start", "xz-utils-backdoor-2024")
        kv("exception", "add", "--subject", "kaspersky-lab", "--scope", "host:pa-2",
           "--reason", HOSTILE_REASON, "--approver", "ciso", "--expires", "2026-12-10")
        kv("estate", "import", str(write_inventory(base / "b.json", "2026-11-27T09:00:00Z",
                                                    cleaned=True)))
        kv("estate", "review")
    return base / "estate"


@pytest.fixture
def history(kv: Run, tmp_path: Path, _history_estate: Path) -> Run:
    """The estate with its history (see the module's docstring): a copy of one built once per
    test session (the folder moves: its database path is relative), for the test to change."""
    shutil.copytree(_history_estate, tmp_path / "estate")
    return kv


@pytest.fixture
def hostile() -> dict[str, str]:
    """The hostile names the estate's inventory carries."""
    return {"host": HOSTILE_HOST, "package": HOSTILE_PACKAGE, "institution": HOSTILE_INSTITUTION,
            "reason": HOSTILE_REASON}
