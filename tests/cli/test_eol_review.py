"""End of life through `kitvet review` with kitvet's bundled release data (endoflife.date)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main


def _inventory(path: Path) -> Path:
    doc = {"kitvet_inventory": "1.0.0", "snapshots": [
        {"host": {"host_id": "buster-1", "platform": "linux", "os_name": "Debian GNU/Linux",
                  "os_version": "10", "collected_at": "2026-11-20T00:00:00Z"},
         "software": [{"name": "python3.7", "version": "3.7.3-3+deb10u7", "package_type": "deb"},
                      {"name": "python3.7-minimal", "version": "3.7.3-3+deb10u7",
                       "package_type": "deb"},
                      {"name": "bash", "version": "5.0-4", "package_type": "deb"}]},
        {"host": {"host_id": "trixie-1", "platform": "linux", "os_name": "Debian GNU/Linux",
                  "os_version": "13", "collected_at": "2026-11-20T00:00:00Z"},
         "software": [{"name": "python3.13", "version": "3.13.5-2", "package_type": "deb"}]}]}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KITVET_TODAY", "2026-12-02")
    monkeypatch.delenv("KITVET_RELEASES", raising=False)
    monkeypatch.setenv("KITVET_DATA_DIR", str(tmp_path / "no-updated-data"))
    from kitvet.identify import releases

    releases.reset()
    inv = _inventory(tmp_path / "inv.json")

    def run(*extra: str) -> dict:
        res = CliRunner().invoke(main, ["review", str(inv), "--format", "json",
                                        "--fail-on", "none", *extra])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)
    yield run
    releases.reset()


def test_debian_10_and_python_3_7_show_end_of_life_since_their_real_dates(review):
    doc = review()
    got = {(f["host_id"], f["subject_id"]): f for f in doc["findings"]}
    assert set(got) == {("buster-1", "eol-debian-10"), ("buster-1", "eol-python-3-7")}
    deb, py = got[("buster-1", "eol-debian-10")], got[("buster-1", "eol-python-3-7")]
    assert (deb["item_type"], deb["finding_class"]) == ("os", "end-of-life")
    assert deb["assertions"][0]["instrument"] == "Debian 10 (Buster): end of life since 2022-09-10"
    assert deb["assertions"][0]["date"] == "2022-09-10"
    assert py["assertions"][0]["instrument"] == "Python 3.7: end of life since 2023-06-27"
    assert py["explanation"].startswith("deb package python3.7 3.7.3-3+deb10u7 → Python 3.7")
    # long past the 90-day grace of the bundled profiles: review, not an accusation
    assert deb["status"] == "review" and "end-of-life-grace" in deb["rule"]
    assert doc["summary"]["by_class"] == {"end-of-life": {"ban": 0, "review": 2, "monitor": 0,
                                                          "allow": 0}}
    # Debian 13 and Python 3.13 are supported on this date: nothing to say about them


def test_no_eol_leaves_them_out(review):
    assert review("--no-eol")["findings"] == []
