"""The removal plan's package commands run by the real tools: ``apt-get -s`` (simulate) against
a dpkg status and a local repository the test writes, and version ordering checked against
``dpkg --compare-versions`` and rpm's own ``rpm.vercmp``."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from kitvet.enforce.removal import RemovalPlanExporter
from kitvet.enforce.replace import compare

from .conftest import snapshot

APT = shutil.which("apt-get")
DPKG = shutil.which("dpkg")
RPM = shutil.which("rpm")


def _needs(tool: str | None, what: str) -> None:
    if tool:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is needed in CI")
    pytest.skip(f"{what} not installed")


def _stanza(name: str, version: str, depends: str | None = None, status: bool = False) -> str:
    lines = [f"Package: {name}"]
    if status:
        lines.append("Status: install ok installed")
    lines += [f"Version: {version}", "Architecture: amd64"]
    if depends:
        lines.append(f"Depends: {depends}")
    if not status:
        lines += [f"Filename: pool/{name}_{version}_amd64.deb", "Size: 1000"]
    lines.append(f"Description: {name} for the kitvet tests")
    return "\n".join(lines) + "\n"


class AptSandbox:
    """apt-get on a dpkg status and a file: repository of the test's own (nothing of the
    machine's apt state is read or written)."""

    def __init__(self, root: Path, installed: dict[str, str], available: list[tuple[str, str]]):
        self.root = root
        for d in ("repo", "state/lists/partial", "cache/archives/partial", "etc/apt.conf.d",
                  "etc/preferences.d", "etc/trusted.gpg.d"):
            (root / d).mkdir(parents=True, exist_ok=True)

        def dep(name: str, version: str) -> str | None:
            up = version.rsplit("-", 1)[0]
            return f"liblzma5 (>= {up})" if name == "xz-utils" else None

        (root / "status").write_text("\n".join(
            _stanza(n, v, dep(n, v), status=True) for n, v in installed.items()))
        (root / "repo" / "Packages").write_text("\n".join(
            _stanza(n, v, dep(n, v)) for n, v in available))
        (root / "sources.list").write_text(f"deb [trusted=yes] file:{root}/repo ./\n")
        self.opts = [f"-oDir::State={root}/state", f"-oDir::State::status={root}/status",
                     f"-oDir::Cache={root}/cache", f"-oDir::Etc={root}/etc",
                     f"-oDir::Etc::sourcelist={root}/sources.list", "-oDir::Etc::sourceparts=-",
                     "-oAPT::Architecture=amd64", "-oAPT::Architectures::=amd64",
                     "-oDebug::NoLocking=1", "-oAcquire::Languages=none",
                     "-oAPT::Sandbox::User=root"]
        self.run(["apt-get", "update"])

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        assert argv[0] == "apt-get"
        return subprocess.run([APT, *self.opts, *argv[1:]], capture_output=True, text=True,
                              timeout=120, check=False)

    def simulate(self, command: str) -> dict[str, str]:
        """Run a plan's apt-get command with -s; package -> version it would install."""
        argv = shlex.split(command)
        r = self.run([argv[0], "-s", *argv[1:]])
        assert r.returncode == 0, r.stdout + r.stderr
        got = {}
        for line in r.stdout.splitlines():
            if line.startswith("Inst "):  # Inst xz-utils [5.6.1-1] (5.6.1+really5.4.5-1 ...)
                parts = line.split()
                got[parts[1]] = line.split("(", 1)[1].split()[0]
        return got


def plan_commands(bans, pins=()) -> list[str]:
    host = snapshot("deb-host", software=[
        {"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"},
        {"name": "liblzma5", "version": "5.6.1-1", "package_type": "deb"}])
    out = RemovalPlanExporter().export(bans, fmt="json", inventory=[host],
                                       options={"pins": pins})
    return [s["command"] for s in json.loads(out.text)["steps"] if s["command"]]


INSTALLED = {"xz-utils": "5.6.1-1", "liblzma5": "5.6.1-1"}


def test_the_lists_fixed_version_installs_both_packages(bans, tmp_path):
    _needs(APT, "apt-get")
    (cmd,) = plan_commands(bans)
    apt = AptSandbox(tmp_path, INSTALLED, [("xz-utils", "5.6.1+really5.4.5-1"),
                                           ("liblzma5", "5.6.1+really5.4.5-1"),
                                           ("xz-utils", "5.6.1-1"), ("liblzma5", "5.6.1-1")])
    assert apt.simulate(cmd) == {"xz-utils": "5.6.1+really5.4.5-1",
                                 "liblzma5": "5.6.1+really5.4.5-1"}


def test_a_lower_fix_is_installed_where_only_upgrade_did_nothing(bans, tmp_path):
    """A bookworm host that took 5.6.1-1 from sid: its repository has only 5.4.1-0.2."""
    _needs(APT, "apt-get")
    apt = AptSandbox(tmp_path, INSTALLED, [("xz-utils", "5.4.1-0.2"), ("liblzma5", "5.4.1-0.2")])
    old = apt.run(["apt-get", "-s", "install", "--only-upgrade", "--yes", "xz-utils"])
    assert old.returncode == 0 and "Inst " not in old.stdout  # the former plan: nothing
    (cmd,) = plan_commands(bans, pins=("xz-utils=5.4.1-0.2", "liblzma5=5.4.1-0.2"))
    assert "--allow-downgrades" in cmd
    assert apt.simulate(cmd) == {"xz-utils": "5.4.1-0.2", "liblzma5": "5.4.1-0.2"}
    # without --allow-downgrades apt refuses, which is why the plan adds it
    refused = apt.run(["apt-get", "-s", *shlex.split(cmd.replace(" --allow-downgrades", ""))[1:]])
    assert refused.returncode != 0 and "--allow-downgrades" in refused.stderr


PAIRS = [("5.6.1+really5.4.5-1", "5.6.1-1"), ("5.4.1-0.2", "5.6.1-1"), ("1:5.4.1-1", "5.6.1-1"),
         ("5.6.1~rc1-1", "5.6.1-1"), ("5.6.1-1", "5.6.1-1"), ("5.6.10-1", "5.6.9-1")]


@pytest.mark.parametrize("a,b", PAIRS)
def test_debian_order_is_dpkgs(a, b):
    _needs(DPKG, "dpkg")
    real = [op for op in ("lt", "eq", "gt")
            if subprocess.run([DPKG, "--compare-versions", a, op, b], check=False).returncode == 0]
    assert real == [{-1: "lt", 0: "eq", 1: "gt"}[compare("deb", a, b)]]


@pytest.mark.parametrize("a,b", [("5.4.6-3.fc40", "5.6.0-1.fc40"), ("1:5.4.6", "5.6.0"),
                                 ("5.6.0-2.fc40", "5.6.0-10.fc40"), ("5.6.0~rc1", "5.6.0"),
                                 ("5.6.0", "5.6.0")])
def test_rpm_order_is_rpms(a, b):
    _needs(RPM, "rpm")
    r = subprocess.run([RPM, "--eval", f"%{{lua: print(rpm.vercmp('{a}', '{b}'))}}"],
                       capture_output=True, text=True, check=False)
    assert int(r.stdout.strip()) == compare("rpm", a, b)
