"""Debian and RPM sort keys agree with univers (dpkg's and rpm's orderings), and vers ranges
checked with them agree with univers' ranges."""

from __future__ import annotations

import itertools

import pytest
from univers import versions as uv
from univers.version_range import VersionRange

from kitvet.match.fastvers import deb_key, in_vers, rpm_key
from kitvet.match.versions import version_matches

DEB = ["1.0", "1.0-0", "1.0~rc1", "1.0.0", "1:0.9", "1.0a", "1.0+dfsg", "1.0-1", "1.0-1ubuntu1",
       "1.0-1+deb12u1", "2.4.49", "2.4.50", "2.4.9", "5.6.1+really5.4.5", "5.6.1", "0",
       "1.0~~", "1.0~", "10", "9.9.9"]
RPM = ["1.0", "1.0.0", "1.0a", "1.0~rc1", "1.0^git1", "1.0-1", "1.0-1.el8", "1.0-2.el8",
       "2.4.49", "2.4.9", "1a", "1.a", "10", "9.9", "1.0.0-1.fc40", "0:1.0", "1:0.1"]


@pytest.mark.parametrize(("cls", "key", "versions"), [(uv.DebianVersion, deb_key, DEB),
                                                      (uv.RpmVersion, rpm_key, RPM)])
def test_keys_order_as_the_tools_do(cls, key, versions) -> None:
    for a, b in itertools.product(versions, versions):
        want = (cls(a) > cls(b)) - (cls(a) < cls(b))
        assert (key(a) > key(b)) - (key(a) < key(b)) == want, (a, b)


@pytest.mark.parametrize(("pt", "key", "versions"), [("deb", deb_key, DEB), ("rpm", rpm_key, RPM)])
def test_ranges_agree_with_univers(pt, key, versions) -> None:
    cls = uv.DebianVersion if pt == "deb" else uv.RpmVersion
    ordered = sorted(set(versions), key=key)
    for n in range(len(ordered) - 3):
        rng = f"vers:{pt}/>={ordered[n]}|<{ordered[n + 2]}|>={ordered[n + 3]}"
        if key(ordered[n]) == key(ordered[n + 2]) or key(ordered[n + 2]) == key(ordered[n + 3]):
            continue  # univers keeps equal bounds oddly; such ranges are degenerate
        r = VersionRange.from_string(rng)
        for v in versions:
            assert in_vers(pt, v, rng) == (cls(v) in r), (rng, v)


def test_other_schemes_are_left_to_univers() -> None:
    assert in_vers("pypi", "1.0", "vers:pypi/>=1.0") is None
    assert in_vers("deb", "1.0", "vers:rpm/>=1.0") is None
    assert version_matches("deb", "5.6.1-1", (), "vers:deb/>=5.6.0|<5.6.2").matched
    assert not version_matches("deb", "5.6.1+really5.4.5-1", (), "vers:deb/>=5.6.0|<5.6.1"
                               ).matched
    assert version_matches("pypi", "2.0.1", (), "vers:pypi/>=2.0|<2.1").matched
