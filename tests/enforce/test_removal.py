"""Removal plan from inventory: commands per institution and platform, hostile values quoted."""

from __future__ import annotations

import json
import shlex

from kitvet.enforce.removal import RemovalPlanExporter, removal_command

from .conftest import check_golden
from .inventory import AGENT_MSI, MSI, estate


def plan(bans, fmt="json", **options):
    return RemovalPlanExporter().export(bans, fmt=fmt, inventory=estate(), options=options)


def steps(bans, **options):
    return json.loads(plan(bans, **options).text)["steps"]


def test_package_manager_commands(bans):
    got = {(s["institution"], s["platform"], s["command"]) for s in steps(bans)}
    assert ("Agency B", "linux", "dnf remove --assumeyes kesl") in got  # every version banned


def test_packages_banned_in_some_versions_are_replaced_not_removed(bans):
    # purging xz-utils / liblzma5 or xz would take the package manager with it: the fix is the
    # fixed version the list names (Debian's 5.6.1+really5.4.5-1, higher than 5.6.1-1), both
    # packages of one host in one command; rpm without a fixed version: the repositories'
    got = {(s["institution"], s["item"], s["command"]) for s in steps(bans)
           if s["subject_id"] == "xz-utils-backdoor-2024"}
    assert got == {
        ("Agency A", "liblzma5 5.6.1-1 (deb), xz-utils 5.6.1-1 (deb)",
         "apt-get install --yes liblzma5=5.6.1+really5.4.5-1 xz-utils=5.6.1+really5.4.5-1"),
        ("Agency B", "xz 5.6.0 (rpm)", "dnf distro-sync --assumeyes xz")}
    assert removal_command("software", "deb", "kesl", None, None) == \
        ("apt-get purge --yes kesl", None)


def test_a_lower_fixed_version_is_pinned_as_a_downgrade(bans):
    pins = ["xz-utils=5.4.1-0.2", "liblzma5=5.4.1-0.2", "xz=5.4.6-3.fc40"]
    got = {s["command"] for s in steps(bans, pins=pins)
           if s["subject_id"] == "xz-utils-backdoor-2024"}
    assert got == {"apt-get install --yes --allow-downgrades liblzma5=5.4.1-0.2 "
                   "xz-utils=5.4.1-0.2",
                   "dnf downgrade --assumeyes xz-5.4.6-3.fc40"}
    assert not any("--only-upgrade" in (s["command"] or "") for s in steps(bans, pins=pins))


def test_no_fixed_version_for_apt_is_a_manual_step_not_a_command_that_does_nothing():
    from kitvet.enforce.replace import Replacement, replacement_command

    cmd, manual = replacement_command([Replacement("deb", "xz-utils", "5.6.1-1", None)])
    assert cmd is None and "--pin PKG=VERSION" in manual and "--only-upgrade does nothing" in manual
    assert replacement_command([Replacement("apk", "xz", "5.6.1-r0", None)]) == \
        ("apk upgrade --available xz", None)
    assert replacement_command([Replacement("apk", "xz", "5.6.1-r0", "5.6.1-r2")]) == \
        ("apk add xz=5.6.1-r2", None)
    assert replacement_command([Replacement("rpm", "xz", "5.6.0-1.fc40", "5.4.6-3.fc40"),
                                Replacement("rpm", "xz-libs", "5.2.5-1", "5.4.6-3.fc40")]) == \
        ("dnf downgrade --assumeyes xz-5.4.6-3.fc40 && dnf upgrade --assumeyes "
         "xz-libs-5.4.6-3.fc40", None)


def test_several_fixed_versions_need_a_pin():
    from kitvet.enforce.replace import fixed_version

    assert fixed_version("xz-utils", ["5.4.1-0.2", "5.6.1+really5.4.5-1"], {})[0] is None
    assert "--pin xz-utils=VERSION" in fixed_version("xz-utils", ["5.4.1-0.2", "5.4.5-1"], {})[1]
    assert fixed_version("xz-utils", ["5.4.5-1"], {"xz-utils": "5.4.1-0.2"}) == ("5.4.1-0.2", None)


def test_hosts_each_step_applies_to(bans):
    s = next(s for s in steps(bans) if s["subject_id"] == "xz-utils-backdoor-2024"
             and s["command"].startswith("apt-get install"))
    assert s["hosts"] == ["lin-1"]


def test_windows_msi_uninstall_is_rebuilt_from_the_guid(bans):
    cmds = [s["command"] for s in steps(bans) if s["platform"] == "windows"]
    assert f"msiexec.exe /x {MSI} /qn /norestart" in cmds
    assert '"C:\\Program Files\\KL\\helper uninstall.exe" /S' in cmds
    # the product code of the Uninstall\{GUID} key it was read from wins over a setup.exe
    assert f"msiexec.exe /x {AGENT_MSI} /qn /norestart" in cmds
    assert '"C:\\Program Files\\KL\\setup.exe" /S' not in cmds


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
    assert not any(c and c.startswith("apt-get install") for c in cmds)  # lin-1 reverted
    assert "dnf distro-sync --assumeyes xz" in cmds  # lin-2 still has it
