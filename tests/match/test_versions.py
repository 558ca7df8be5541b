import pytest

from kitvet.match.versions import upstream_of, version_matches

XZ = ("5.6.0", "5.6.1")


@pytest.mark.parametrize("ptype, installed, expected", [
    ("deb", "5.6.1-1", True),                 # Debian's backdoored upload
    ("deb", "5.6.0-0.1", True),
    ("deb", "5.6.1+really5.4.5-1", False),    # Debian's revert: upstream is not 5.6.1
    ("deb", "5.4.5-0.3", False),
    ("deb", "1:5.6.1-1", True),               # epoch does not change the upstream version
    ("rpm", "5.6.1-2.fc40", True),
    ("rpm", "5.6.1~really5.4.6-1", False),
    ("rpm", "5.4.6-1.fc40", False),
    ("apk", "5.6.1-r0", True),
    ("apk", "5.6.2-r0", False),
])
def test_xz_versions_follow_each_package_types_semantics(ptype, installed, expected):
    assert version_matches(ptype, installed, XZ).matched is expected


def test_string_equality_is_not_used():
    # "5.6.10" starts with "5.6.1" and "05.6.1" equals it numerically under rpm ordering
    assert not version_matches("deb", "5.6.10-1", XZ).matched
    assert version_matches("pypi", "0.2.0", ("0.2",)).matched  # PEP 440: 0.2 == 0.2.0


def test_generic_versions_ignore_trailing_zero_segments():
    assert version_matches("windows", "18.12.416.0", ("18.12.416",)).matched
    assert not version_matches("windows", "18.12.422", ("18.12.416",)).matched


def test_version_range():
    assert version_matches("deb", "5.6.1-1", (), "vers:deb/>=5.6.0|<=5.6.1").matched
    assert not version_matches("deb", "5.6.1+really5.4.5-1", (), "vers:deb/>=5.6.0|<=5.6.1").matched


def test_explanation_names_the_upstream_version():
    check = version_matches("deb", "5.6.1-1", XZ)
    assert check.upstream == "5.6.1"
    assert "5.6.1-1" in check.explanation and "listed version 5.6.1" in check.explanation


def test_upstream_of():
    assert upstream_of("deb", "2:1.2.3-4ubuntu1") == "1.2.3"
    assert upstream_of("rpm", "1:5.6.1-2.fc40") == "5.6.1"
    assert upstream_of("npm", "1.0.0-beta.1") == "1.0.0-beta.1"
