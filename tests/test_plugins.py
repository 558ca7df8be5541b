"""A third-party package adds a source, an enforcement target, a report format and a command
through entry points, and kitvet uses them as its own (each CLI run in a fresh interpreter,
as a user would run it, with the package on its path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = '''
"""A third-party kitvet plug-in: the ACME agent's inventory, the ACME firewall, a one-line
report and a command."""

from pathlib import Path

import click

from kitvet.enforce.interface import Export, Exporter
from kitvet.model import Host, Snapshot
from kitvet.report.interface import ReportFormat
from kitvet.sources.interface import Importer


class AcmeImporter(Importer):
    name = "acme"
    description = "ACME agent inventory"

    def detect(self, path, head):
        return head.startswith(b"ACME-INVENTORY ")

    def read(self, path, *, institution=None):
        first, *rows = Path(path).read_text().splitlines()
        host = first.split(" ", 1)[1]
        snap = Snapshot(host=Host(host_id=host, hostname=host, institution=institution,
                                  platform="linux"))
        for row in rows:
            name, version = row.split(" ", 1)
            snap.add_software(host_id=host, source="acme", name=name, version=version,
                              package_type="deb")
        return [snap]


class AcmeFirewall(Exporter):
    name = "acme-firewall"
    description = "ACME firewall block list"
    formats = ("text",)

    def export(self, bans, *, fmt=None, options=None, inventory=None):
        lines = [f"block {b.id}" for b in bans.subjects]
        return Export(self.name, "\\n".join(lines) + "\\n", len(lines))


class AcmeReport(ReportFormat):
    name = "acme"
    description = "one line"

    def render(self, model):
        return f"acme: {len(model.findings)} finding(s)\\n"


@click.command()
def hello():
    """Say hello from ACME."""
    click.echo("hello from acme")
'''

ENTRY_POINTS = """
[kitvet.sources]
acme = acme_kitvet:AcmeImporter
nmap = acme_kitvet:AcmeImporter

[kitvet.targets]
acme-firewall = acme_kitvet:AcmeFirewall

[kitvet.report_formats]
acme = acme_kitvet:AcmeReport

[kitvet.commands]
acme-hello = acme_kitvet:hello
"""


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A folder holding an installed third-party distribution (module + dist-info)."""
    root = tmp_path_factory.mktemp("site")
    (root / "acme_kitvet.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "acme_kitvet-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kitvet\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def kitvet(plugin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(plugin))
    return subprocess.run([sys.executable, "-m", "kitvet", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_a_plugin_source_is_read_by_import(plugin, tmp_path):
    inv = tmp_path / "agent.txt"
    inv.write_text("ACME-INVENTORY ws-7\nxz-utils 5.6.1-1\nbash 5.2\n")
    r = kitvet(plugin, "import", str(inv), "--institution", "Agency", "-o", "inv.json",
               cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "inv.json").read_text())
    (host,) = doc["snapshots"]
    assert host["host"]["host_id"] == "ws-7"
    assert {s["name"] for s in host["software"]} == {"xz-utils", "bash"}


def test_a_plugin_report_and_target_and_command(plugin, tmp_path):
    inv = tmp_path / "agent.txt"
    inv.write_text("ACME-INVENTORY ws-7\nxz-utils 5.6.1-1\n")
    r = kitvet(plugin, "review", str(inv), "--format", "acme", "--fail-on", "none", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "acme: 1 finding(s)\n"
    r = kitvet(plugin, "enforce", "export", "--target", "acme-firewall", "--subject",
               "xz-utils-backdoor-2024", "--no-record", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "block xz-utils-backdoor-2024" in r.stdout
    r = kitvet(plugin, "acme-hello", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "hello from acme\n")
    r = kitvet(plugin, "--help", cwd=tmp_path)
    assert "acme-hello" in r.stdout


def test_a_plugin_cannot_take_a_builtin_name(plugin, monkeypatch, caplog):
    from kitvet.sources.nmap import NmapImporter
    from kitvet.sources.registry import IMPORTERS, importer

    monkeypatch.syspath_prepend(str(plugin))
    IMPORTERS.refresh()
    try:
        assert IMPORTERS["acme"] == "acme_kitvet:AcmeImporter"
        assert isinstance(importer("nmap"), NmapImporter)
        assert "nmap=acme_kitvet:AcmeImporter of kitvet.sources ignored" in caplog.text
        assert list(IMPORTERS)[-1] == "acme"  # kitvet's own are detected first
    finally:
        monkeypatch.undo()
        IMPORTERS.refresh()
    assert "acme" not in IMPORTERS


def test_a_broken_plugin_is_one_clear_error(tmp_path, monkeypatch):
    from kitvet.enforce import EXPORTERS, exporter
    from kitvet.errors import EnforceError

    info = tmp_path / "broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[kitvet.targets]\nbroken = json:dumps\n"
                                           "gone = no_such_module:X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    EXPORTERS.refresh()
    try:
        with pytest.raises(EnforceError, match="'broken' .* is not a Exporter"):
            exporter("broken")
        with pytest.raises(EnforceError, match="'gone' .* cannot be loaded"):
            exporter("gone")
        with pytest.raises(EnforceError, match="unknown target 'nope' .*broken"):
            exporter("nope")
    finally:
        monkeypatch.undo()
        EXPORTERS.refresh()
