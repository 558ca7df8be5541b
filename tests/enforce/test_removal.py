"""Removal plan from inventory: commands per institution and platform, hostile values quoted."""

from __future__ import annotations

import json
import shlex

from kitvet.enforce.removal import RemovalPlanExporter, removal_command

from .conftest import check_golden
from .inventory import MSI, estate


def plan(bans, fmt="json"):
    return RemovalPlanExporter().export(bans, fmt=fmt, inventory=estate())


def steps(bans):
    return json.loads(plan(bans).text)["steps"]


def test_package_manager_commands(bans):
    got = {(s["institution"], s["platform"], s["command"]) for s in steps(bans)}
    assert ("Agency B", "linux", "dnf remove --assumeyes kesl") in got  # every version banned


def test_packages_banned_in_some_versions_are_replaced_not_removed(bans):
    # purging xz-utils / liblzma5 or xz would take the package manager with it: the fix is the
    # distribution's current version (Debian's 5.6.1+really5.4.5, Fedora's 5.4.6 downgrade)
    got = {(s["institution"], s["command"]) for s in steps(bans)
           if s["subject_id"] == "xz-utils-backdoor-2024"}
    assert got == {("Agency A", "apt-get install --only-upgrade --yes xz-utils"),
                   ("Agency B", "dnf distro-sync --assumeyes xz")}
    assert removal_command("software", "apk", "xz", None, None, versions_only=True) == \
        ("apk upgrade xz", None)
    assert removal_command("software", "deb", "kesl", None, None) == \
        ("apt-get purge --yes kesl", None)


def test_hosts_each_step_applies_to(bans):
    s = next(s for s in steps(bans)
             if s["command"] == "apt-get install --only-upgrade --yes xz-utils")
    assert s["hosts"] == ["lin-1"] and s["subject_id"] == "xz-utils-backdoor-2024"


def test_windows_msi_uninstall_is_rebuilt_from_the_guid(bans):
    cmds = [s["command"] for s in steps(bans) if s["platform"] == "windows"]
    assert f"msiexec.exe /x {MSI} /qn /norestart" in cmds
    assert '"C:\\Program Files\\KL\\helper uninstall.exe" /S' in cmds


def test_uninstall_string_with_shell_metacharacters_is_manual(bans):
    s = next(s for s in steps(bans) if s["item"].startswith("Kaspersky Tools"))
    assert s["command"] is None and "shell metacharacters" in s["manual"]
    assert all("del /q" not in (x["command"] or "") for x in steps(bans))


def test_macos_paths_are_shell_quoted(bans):
    cmds = [s["command"] for s in steps(bans) if s["platform"] == "macos" and s["command"]]
    assert "rm -rf -- '/Applications/3CX Desktop App.app'" in cmds
    evil = next(c for c in cmds if "Kaspersky" in c)
    assert shlex.split(evil) == ["rm", "-rf", "--", "/Applications/Kaspersky'; rm -rf ~; echo '.app"]


def test_devices_are_manual_steps(bans):
    s = next(s for s in steps(bans) if s["subject_id"] == "huawei")
    assert s["command"] is None and "disconnect" in s["manual"]


def test_removal_command_rejects_hostile_package_names():
    cmd, manual = removal_command("software", "deb", "-oDebug::pkgProblemResolver=1", None, None)
    assert cmd is None and "not a valid deb name" in manual
    cmd, _ = removal_command("software", "apk", "busybox", None, None)
    assert cmd == "apk del busybox"
    cmd, manual = removal_command("software", "macos", "X", "/tmp/X.app", None)
    assert cmd is None


def test_markdown_escapes_hostile_hostnames(bans):
    md = plan(bans, fmt="markdown").text
    assert md.startswith("<!--\nkitvet enforce export — target: removal-plan")
    assert "<img" not in md.split("-->", 1)[1]
    assert "hosts (1): &lt;img src=x onerror=alert(1)&gt;\\|\\`reboot\\`" in md
    assert "## Agency A" in md and "### linux" in md
    assert "` rm -rf -- '/Applications/Kaspersky'\"'\"'; rm -rf ~; echo '\"'\"'.app' `" in md


def test_code_spans_cannot_be_broken_out_of():
    from kitvet.enforce.removal import _code

    assert _code("a`b") == "`` a`b ``"
    assert _code("plain") == "` plain `"


def test_golden(bans):
    check_golden("removal-plan.md", plan(bans, fmt="markdown").text)
    check_golden("removal-plan.json", plan(bans).text)


def test_only_the_latest_snapshot_of_each_host_is_planned(bans):
    out = RemovalPlanExporter().export(bans, fmt="json", inventory=estate() + estate(later=True))
    got = json.loads(out.text)["steps"]
    assert not any(s["platform"] == "windows" for s in got)  # win-1 cleaned in the later one
    cmds = [s["command"] for s in got]
    assert "apt-get install --only-upgrade --yes xz-utils" not in cmds  # lin-1 reverted
    assert "dnf distro-sync --assumeyes xz" in cmds  # lin-2 still has it
