"""The end-of-life list: cycles that ended, or end within the horizon, as subjects."""

from __future__ import annotations

from pathlib import Path

from kitvet.identify.endoflife import read_paths
from kitvet.identify.eol import eol_list
from kitvet.model.finding import finding_class

FIX = Path(__file__).parents[1] / "identify" / "fixtures" / "endoflife"


def _list(today: str, horizon: int = 180):
    cat, _ = read_paths([FIX], source="endoflife.date test pages", date="2026-11-30")
    return eol_list(cat, today=today, horizon_days=horizon)


def test_ended_and_ending_cycles_become_subjects_with_their_dates():
    rl = _list("2026-12-02")
    ids = {s.id for s in rl.subjects}
    # ended: Debian 10/11/12 (12's security support ended 2026-06-10), Python 3.7, 3.1, 2.7,
    # 3.10 (2026-10-31), Node.js 18 and 20, 0.10 (no date), Windows 10 22H2 ...
    assert {"eol-debian-10", "eol-debian-12", "eol-python-3-7", "eol-python-3-10",
            "eol-nodejs-0-10", "eol-windows-10-22h2", "eol-windows-7-sp1"} <= ids
    # supported beyond the horizon: not a subject
    assert "eol-python-3-12" not in ids and "eol-python-3-11" not in ids
    assert "eol-windows-10-21h2-e-lts" in ids  # ends 2027-01-12: within 180 days
    deb = next(s for s in rl.subjects if s.id == "eol-debian-10")
    a = deb.assertions[0]
    assert deb.name == "Debian 10 (Buster)" and finding_class([a.kind]) == "end-of-life"
    assert (a.kind, a.date, a.jurisdiction) == ("end-of-life", "2022-09-10", "INT")
    assert a.instrument == "Debian 10 (Buster): end of life since 2022-09-10"
    assert "Extended support (LTS, ESU: often paid or by subscription) ended on 2024-06-30" \
        in a.scope
    assert a.reference_url == "https://endoflife.date/debian"
    assert a.source == "endoflife.date test pages (data of 2026-11-30)"
    assert [(i.kind, i.value) for i in deb.identifiers] == [("release_cycle", "debian:10")]
    assert rl.name == "endoflife" and rl.version == "2026-11-30" and rl.signed_by is None


def test_a_cycle_ending_soon_says_in_how_many_days():
    rl = _list("2026-12-02")
    lts = next(s for s in rl.subjects if s.id == "eol-windows-10-21h2-e-lts")
    a = lts.assertions[0]
    assert a.instrument == "Microsoft Windows 10 21H2 (E): end of life on 2027-01-12"
    assert "ends on 2027-01-12, in 41 days (as of 2026-12-02)" in a.scope
    assert "eol-windows-10-21h2-e-lts" not in {s.id for s in _list("2026-12-02", 30).subjects}


def test_an_end_without_a_date_is_said_so():
    node = next(s for s in _list("2026-12-02").subjects if s.id == "eol-nodejs-0-10")
    a = node.assertions[0]
    assert a.date is None and a.date_note == "the maker ended support without a published date"
    assert "A distribution's own package may still get backported fixes" in a.scope


def test_before_its_end_a_cycle_is_not_listed():
    assert "eol-debian-12" not in {s.id for s in _list("2025-06-01", 90).subjects}
