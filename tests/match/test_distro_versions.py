"""A distribution's own vulnerability record names package versions whole: its fix is often a
new revision of the same upstream version (openssl 3.0.11-1~deb12u2), so the host that
installed it has no finding, while 3.0.11-1~deb12u1 (the same upstream) has one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists import load_list
from kitvet.match import review_snapshots
from kitvet.match.versions import version_matches
from kitvet.model import Host, Snapshot
from kitvet.model.risk import ListSet
from kitvet.policy import load_profile

HERE = Path(__file__).parent


def test_a_debian_security_update_is_a_new_revision(tmp_path: Path) -> None:
    out = tmp_path / "debian.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(HERE / "fixtures" / "osv-debian"),
                                  "--format", "osv", "--vulnerabilities", "-o", str(out)])
    assert r.exit_code == 0, r.output
    snaps = []
    for host, version in (("patched", "3.0.11-1~deb12u2"), ("behind", "3.0.11-1~deb12u1"),
                          ("newer", "3.0.13-1~deb12u1")):
        s = Snapshot(host=Host(host_id=host, hostname=host, platform="linux"))
        s.add_software(host_id=host, source="dpkg", location="/var/lib/dpkg/status",
                       name="openssl", version=version, package_type="deb",
                       purl=f"pkg:deb/debian/openssl@{version}?arch=amd64")
        snaps.append(s)
    rl = load_list(out, allow_unsigned=True)
    found = review_snapshots(snaps, ListSet((rl,)), load_profile("default")).findings
    assert found.column("host_id").to_pylist() == ["behind"]
    assert "version 3.0.11-1~deb12u1 is in vers:deb/" in found.column("explanation")[0].as_py()


def test_upstream_lists_still_compare_the_upstream_part() -> None:
    # xz-utils 5.6.1 as a malicious-build list names it: Debian's 5.6.1-1 is 5.6.1
    assert version_matches("deb", "5.6.1-1", ("5.6.1",)).matched
    assert version_matches("rpm", "5.6.0-1.fc40", (), "vers:rpm/>=5.6.0|<5.6.2").matched
    # an epoch in the record: the installed version is compared with its epoch
    assert not version_matches("rpm", "1:1.1.1k-12.el8_9", (), "vers:rpm/<1:1.1.1k-12.el8_9"
                               ).matched
    assert version_matches("rpm", "1:1.1.1k-7.el8_6", (), "vers:rpm/<1:1.1.1k-12.el8_9").matched
    assert version_matches("apk", "3.1.4-r5", (), "vers:apk/>=0|<3.1.4-r6").matched
    assert not version_matches("apk", "3.1.4-r6", (), "vers:apk/>=0|<3.1.4-r6").matched
