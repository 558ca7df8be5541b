"""The USBGuard export deployed as the documented commands deploy it, under the real
``usbguard-daemon`` (its umockdev device backend, in a network namespace of the test's own, so
its IPC is the test's alone): the kitvet rules in the RuleFile block a Huawei modem that the
host's own rules in rules.d allow; the same rules in rules.d (the old advice) do not; and a
permanent rule added with the ``usbguard`` command leaves the RuleFile byte for byte as
exported (so the digest ``enforce attest`` checks still holds)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kitvet.enforce.usbguard import UsbguardExporter

from .netns import netns, run

DAEMON = shutil.which("usbguard-daemon")
CLI = shutil.which("usbguard")
WRAPPER = shutil.which("umockdev-wrapper")
DEVICES = Path(__file__).parent / "fixtures" / "usbguard" / "devices.umockdev"
HOST_RULES = "allow id 1d6b:0002\nallow id 12d1:1506\n"  # the host allows its modem


def _needs_tools() -> None:
    if DAEMON and CLI and WRAPPER:
        return
    why = "usbguard-daemon, usbguard and umockdev-wrapper are needed (packages usbguard, umockdev)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why)
    pytest.skip(why)


def deploy(export_text: str, etc: Path, *, into_rules_d: bool = False) -> None:
    """The documented deployment: the rule lines become the RuleFile; the host's rules live in
    rules.d (``into_rules_d``: the old, wrong advice — kitvet's rules after the host's)."""
    rules_d = etc / "rules.d"
    rules_d.mkdir(mode=0o700)
    (rules_d / "50-host.conf").write_text(HOST_RULES)
    lines = run("grep", "-Ev", "^(#|$)", stdin=export_text).stdout
    target = rules_d / "99-kitvet.conf" if into_rules_d else etc / "rules.conf"
    target.write_text(lines)
    (etc / "rules.conf").touch()
    for f in (*rules_d.iterdir(), etc / "rules.conf"):
        f.chmod(0o600)


@contextmanager
def daemon(etc: Path) -> Iterator[str]:
    """usbguard-daemon on ``etc``'s RuleFile and rules.d, in a fresh network namespace."""
    _needs_tools()
    devs = etc / "devices"
    devs.mkdir()
    shutil.copy(DEVICES, devs / "devices.umockdev")
    conf = etc / "usbguard-daemon.conf"
    conf.write_text(f"RuleFile={etc}/rules.conf\nRuleFolder={etc}/rules.d/\n"
                    "ImplicitPolicyTarget=block\nPresentDevicePolicy=apply-policy\n"
                    "PresentControllerPolicy=keep\nInsertedDevicePolicy=apply-policy\n"
                    "DeviceManagerBackend=umockdev\nIPCAllowedUsers=root\n"
                    f"AuditBackend=FileAudit\nAuditFilePath={etc}/audit.log\n")
    conf.chmod(0o600)
    with netns() as (ns,):
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "env", f"USBGUARD_UMOCKDEV_DEVICEDIR={devs}",
             WRAPPER, DAEMON, "-K", "-c", str(conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.monotonic() + 20
            while "12d1:1506" not in run(CLI, "list-devices", ns=ns, check=False).stdout:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("usbguard-daemon did not start: "
                                         + (proc.stderr.read().decode() if proc.stderr else ""))
                time.sleep(0.05)
            yield ns
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def _huawei(ns: str) -> str:
    line = next(ln for ln in run(CLI, "list-devices", ns=ns).stdout.splitlines()
                if "12d1:1506" in ln)
    return line.split(": ", 1)[1].split(" id ", 1)[0]


def only(bans, *ids):
    return dataclasses.replace(bans, subjects=tuple(b for b in bans.subjects if b.id in ids))


def test_the_rulefile_blocks_what_the_hosts_rules_allow(bans, tmp_path):
    out = UsbguardExporter().export(only(bans, "huawei"))
    deploy(out.text, tmp_path)
    with daemon(tmp_path) as ns:
        rules = run(CLI, "list-rules", ns=ns).stdout.splitlines()
        assert [r.split(": ", 1)[1] for r in rules] == [
            *out.extra["usbguard_rules"].splitlines(), "allow id 1d6b:0002", "allow id 12d1:1506"]
        assert _huawei(ns) == "block"
        labelled = run(CLI, "list-rules", "--label", "kitvet:huawei", ns=ns).stdout
        assert labelled.count("kitvet:huawei") == 2
        # a permanent rule added on the host goes to the last file of rules.d; the daemon
        # rewrites every rule file, and the RuleFile stays byte for byte as exported
        run(CLI, "append-rule", "allow id 046d:c52b", ns=ns)
        assert "allow id 046d:c52b" in (tmp_path / "rules.d" / "50-host.conf").read_text()
    deployed = (tmp_path / "rules.conf").read_bytes()
    assert deployed == out.extra["usbguard_rules"].encode()
    assert f"sha256 {hashlib.sha256(deployed).hexdigest()}" in out.text
    # ... which is the digest the ledger records and `enforce attest` asks hosts for
    assert out.extra["artefacts"][0]["sha256"] == hashlib.sha256(deployed).hexdigest()


def test_the_same_rules_in_rules_d_come_too_late(bans, tmp_path):
    deploy(UsbguardExporter().export(only(bans, "huawei")).text, tmp_path, into_rules_d=True)
    with daemon(tmp_path) as ns:
        assert _huawei(ns) == "allow"  # why the export must be the RuleFile
