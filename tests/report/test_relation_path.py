"""A finding reached through the organisation graph shows its path in every report format, and
carries only the assertions whose reach covers it (issue 12)."""

from __future__ import annotations

import json

import pytest

from kitvet.identify import graph as og
from kitvet.lists import bundled
from kitvet.match import review_snapshots
from kitvet.model import Host, Snapshot
from kitvet.policy import load_profile
from kitvet.report import build, render


@pytest.fixture(scope="module")
def model():
    og.configure(og.load_graph([]))
    try:
        snap = Snapshot(host=Host(host_id="h1", hostname="h1", platform="windows",
                                  collected_at="2026-12-01T00:00:00Z"))
        snap.add_software(source="test", name="Phone Manager", version="1.0",
                          package_type="windows", publisher="Huawei Device Co., Ltd.")
        result = review_snapshots([snap], bundled(), load_profile("us-federal"))
        yield build(result)
    finally:
        og.configure(None)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "html", "sarif"])
def test_every_format_shows_the_relation_and_its_source(model, fmt) -> None:
    text = render(model, fmt)
    if fmt == "table":  # the terminal folds the evidence column over several lines
        assert "subsidiary" in text and "rightsta" in text and "reached" in text
        return
    assert "a subsidiary of Huawei Technologies Co., Ltd." in text
    assert "https://rightsta.com/wiki/huawei-devices" in text
    assert "reached by FCC Covered List, DA 21-309" in text


def test_only_the_assertions_that_reach_subsidiaries_are_shown(model) -> None:
    doc = json.loads(render(model, "json"))
    [f] = doc["findings"]
    cited = {a["instrument"][:30] for a in f["assertions"]}
    assert len(f["assertions"]) == 3  # FCC Covered List, NDAA s.889, FCC 22-84
    assert not any("5G" in c or "designation notice" in c.lower() for c in cited)
    assert f["reach_level"] == 1
