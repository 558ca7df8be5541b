"""osquery rows converted once per distinct row: same purls, same rows as one by one."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from kitvet.sources.osquery import OsqueryImporter
from kitvet.sources.osquery_tables import _fast_purl

_TEXT = st.text(alphabet="aZ09._~+:-_/@ %é", min_size=1, max_size=12)


@settings(max_examples=400, deadline=None)
@given(ptype=st.sampled_from(["deb", "rpm", "pypi", "npm"]), ns=st.none() | _TEXT,
       name=_TEXT, version=_TEXT, arch=st.none() | _TEXT, epoch=st.none() | _TEXT)
def test_fast_purl_is_packageurls_purl(ptype, ns, name, version, arch, epoch) -> None:
    quals = {k: v for k, v in (("arch", arch), ("epoch", epoch)) if v}
    fast = _fast_purl(ptype, ns, name, version, quals)
    if fast is not None:  # None: left to packageurl itself
        assert fast == PackageURL(type=ptype, namespace=ns, name=name, version=version,
                                  qualifiers=quals or None).to_string()


def test_fast_purl_takes_the_common_packages() -> None:
    assert _fast_purl("deb", "debian", "libc6", "2.36-9+deb12u4", {"arch": "amd64"}) == \
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64"
    assert _fast_purl("pypi", None, "Foo_Bar", "1.0", {}) == "pkg:pypi/foo-bar@1.0"
    assert _fast_purl("npm", None, "@scope/x", "1.0", {}) is None


def _event(host: str, rows: list[dict], line_host_rows: str = "deb_packages") -> str:
    return json.dumps({"name": f"pack/p/{line_host_rows}", "hostIdentifier": host,
                       "action": "snapshot", "unixTime": 1700000000, "snapshot": rows})


def test_rows_shared_by_hosts_are_each_hosts_own(tmp_path: Path) -> None:
    rows = [{"name": "bash", "version": "5.2-1", "arch": "amd64", "maintainer": "Deb",
             "status": "install ok installed"},
            {"name": "gone", "version": "1", "status": "deinstall ok config-files"}]
    osv = {"name": "Debian", "platform": "debian", "major": "12", "minor": "0"}
    lines = [_event("a", rows), _event("b", rows), _event("a", [osv], "os_version")]
    f = tmp_path / "osqueryd.results.log"
    f.write_text("\n".join(lines) + "\n")
    snaps = {s.host.host_id: s for s in OsqueryImporter().read(f)}
    a, b = snaps["a"].software, snaps["b"].software
    assert [r["location"] for r in a] == [f"{f}:1"] and [r["location"] for r in b] == [f"{f}:2"]
    assert a[0]["purl"] == "pkg:deb/debian/bash@5.2-1?arch=amd64"  # a's distro only
    assert "purl" in b[0] and b[0]["purl"] == "pkg:deb/bash@5.2-1?arch=amd64"
    a[0]["name"] = "changed"
    assert b[0]["name"] == "bash"  # each host has its own row objects
    assert [s.reason for s in snaps["b"].skipped] == \
        ["package not installed (status 'deinstall ok config-files')"]


def test_a_host_after_one_with_bad_rows_keeps_its_locations(tmp_path: Path) -> None:
    f = tmp_path / "osqueryd.results.log"
    f.write_text("\n".join([_event("a", ["not a row"], "programs"),
                            _event("b", [{"name": "7-Zip", "identifying_number": "{1}"}],
                                   "programs")]) + "\n")
    snaps = {s.host.host_id: s for s in OsqueryImporter().read(f)}
    assert [(s.reason, s.location) for s in snaps["a"].skipped] == \
        [("query 'pack/p/programs': a row is not an object", f"{f}:1")]
    assert [r["location"] for r in snaps["b"].software] == [f"{f}:2"]
