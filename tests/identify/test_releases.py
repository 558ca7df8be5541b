"""Release data in endoflife.date's formats, and which cycle an OS or a package is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitvet.identify import releases
from kitvet.identify.endoflife import catalog_to_json, read_paths

FIX = Path(__file__).parent / "fixtures" / "endoflife"


@pytest.fixture
def fixture_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fixture products as the release data in force (KITVET_RELEASES)."""
    got, _ = read_paths([FIX / "debian.md", FIX / "windows.md", FIX / "python.json",
                         FIX / "nodejs.json"], source="test fixtures", date="2026-11-30")
    path = tmp_path / "endoflife.json"
    path.write_text(catalog_to_json(got))
    monkeypatch.setenv("KITVET_RELEASES", str(path))
    releases.reset()
    yield releases.catalog()
    releases.reset()


def test_each_format_reads_with_its_dates_and_bad_cycles_skipped_with_place():
    cat, skipped = read_paths([FIX])
    assert sorted(cat.products) == ["debian", "nodejs", "python", "windows"]
    deb10 = cat.cycle("debian", "10")
    assert (deb10.eol, deb10.eoes, deb10.codename) == ("2022-09-10", "2024-06-30", "Buster")
    assert cat.products["debian"].policy_link == "https://wiki.debian.org/DebianReleases"
    py37 = cat.cycle("python", "3.7")  # API v1: isEol/eolFrom
    assert (py37.eol, py37.latest) == ("2023-06-27", "3.7.17")
    assert cat.cycle("python", "3.12").eol == "2028-10-31"  # announced, not yet reached
    assert cat.cycle("nodejs", "0.10").eol is True  # ended, no date published
    assert cat.cycle("nodejs", "20").eoas == "2024-10-22"  # the old API's "support"
    assert cat.cycle("windows", "10-21h2-e-lts").lts
    reasons = {f"{s.file}: {s.place}": s.reason for s in skipped}
    assert reasons["debian.md: releases[3]"] == "eol 'soon' is not a date, true or false"
    assert "result.releases[6]" in " ".join(reasons)  # a release without a name
    assert reasons["broken.json: (file)"].startswith("not JSON")
    assert "neither an endoflife.date product" in reasons["other.json: (file)"]
    assert cat.cycle("debian", "9") is None  # the bad cycle is skipped, the others kept


def test_kitvet_json_round_trips(tmp_path: Path):
    cat, _ = read_paths([FIX / "debian.md"], source="src", date="2026-11-30")
    (tmp_path / "r.json").write_text(catalog_to_json(cat))
    again, skipped = read_paths([tmp_path / "r.json"])
    assert not skipped and (again.source, again.date) == ("src", "2026-11-30")
    assert again.products["debian"].cycles == cat.products["debian"].cycles


@pytest.mark.parametrize(("key", "expected"), [
    ("linux|Debian GNU/Linux|10", ("debian", "10")),  # os-release NAME / VERSION_ID
    ("linux|Debian GNU/Linux 10 (buster)|", ("debian", "10")),  # pretty name only
    ("linux|Debian GNU/Linux|10 (buster)", ("debian", "10")),  # osquery os_version
    ("linux|Debian GNU/Linux|trixie/sid", None),  # testing: no cycle
    ("windows|Microsoft Windows 10 Pro|10.0.19045", ("windows", "10-22h2")),
    ("windows|Windows 10 Pro|22H2 19045", ("windows", "10-22h2")),  # registry hive
    ("windows|Microsoft Windows 10 Enterprise|10.0.19044", ("windows", "10-21h2-e")),
    ("windows|Microsoft Windows 10 Pro|10.0.19044", ("windows", "10-21h2-w")),
    ("windows|Microsoft Windows 10 Enterprise LTSC|10.0.19044", ("windows", "10-21h2-e-lts")),
    ("windows|Windows 10 Pro|23H2 22631", ("windows", "11-23h2-w")),  # the build decides
    ("windows|Microsoft Windows 7 Professional|6.1.7601", ("windows", "7-sp1")),
    ("windows|Microsoft Windows 10 Pro|10.0.99999", None),  # unknown build
    ("linux|Ubuntu|22.04", None),  # no data for the product in these fixtures
])
def test_operating_system_cycles(fixture_catalog, key, expected):
    got = releases.os_release(key)
    assert (got[:2] if got else None) == expected


@pytest.mark.parametrize(("key", "expected"), [
    ("deb|python3.7|3.7.3-3+deb10u7", ("python", "3.7")),
    ("deb|python3.10|3.10.12-1~22.04", ("python", "3.10")),  # never 3.1
    ("rpm|python3|3.6.8-51.el8", None),  # 3.6 is not in the fixture data: no guess
    ("rpm|python3|3.11.5-1.el9", ("python", "3.11")),
    ("windows|Python 3.7.9 (64-bit)|3.7.9150.0", ("python", "3.7")),
    ("windows|Python 3.7.9 Core Interpreter (64-bit)|3.7.9150.0", None),  # a component
    ("deb|python3.7-minimal|3.7.3-3+deb10u7", None),  # one finding per install, not per part
    ("deb|libpython3.7-stdlib|3.7.3-3", None),
    ("deb|nodejs|18.19.0+dfsg-6~deb12u2", ("nodejs", "18")),
    ("windows|Node.js|20.11.1", ("nodejs", "20")),
    ("npm|nodejs|18.19.0", None),  # an npm package named nodejs is not the runtime
    ("deb|python3.7|", None),  # no version: no cycle
])
def test_package_cycles(fixture_catalog, key, expected):
    got = releases.package_release(key)
    assert (got[:2] if got else None) == expected


def test_why_names_what_was_seen_and_the_cycle(fixture_catalog):
    why = releases.os_release("linux|Debian GNU/Linux|10")[2]
    assert why == "operating system Debian GNU/Linux 10 → Debian 10 (Buster) (endoflife.date debian 10)"


def test_the_bundled_snapshot_says_where_and_when_it_comes_from(monkeypatch):
    monkeypatch.delenv("KITVET_RELEASES", raising=False)
    monkeypatch.setenv("KITVET_DATA_DIR", "/nonexistent-kitvet-data")
    releases.reset()
    try:
        cat = releases.catalog()
        assert "endoflife-date/endoflife.date" in cat.source and cat.date == "2026-08-22"
        assert set(releases.OS_PRODUCTS) <= set(cat.products)
        assert {r.product for r in releases.PACKAGE_RULES} <= set(cat.products)
        doc = json.loads(releases.bundled_path().read_text())
        assert "MIT" in doc["licence"]
        assert (releases.bundled_path().parent / "endoflife.LICENSE.txt").is_file()
    finally:
        releases.reset()
