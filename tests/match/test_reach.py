"""Matching through the organisation graph: as far as each assertion reaches, and no further.

Fairness: a finding reached through a relation says so (path and source) and carries only the
assertions whose reach covers it; a relation that ended before the snapshot attributes nothing;
an instrument that names one entity does not flag its affiliates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kitvet.identify import graph as og
from kitvet.match import review_snapshots
from kitvet.model import Assertion, Host, RiskList, Snapshot, Subject
from kitvet.model.risk import ListSet

FIX = Path(__file__).parent.parent / "identify" / "fixtures" / "orgs-small.yaml"


@pytest.fixture
def small_graph() -> Iterator[og.OrgGraph]:
    g = og.load_graph([FIX], allow_unsigned=True, bundled=False)
    og.configure(g)
    yield g
    og.configure(None)


def _lists(*reaches: str | None) -> ListSet:
    kinds = ["high-risk-vendor", "removal-order", "warning"]
    assertions = tuple(Assertion(authority=f"Authority {n}", kind=kinds[n], instrument=f"Act {n}",
                                 citation=f"Act {n}", date="2021-01-01", reach=r)
                       for n, r in enumerate(reaches))
    subject = Subject(id="acme", name="Acme Networks", organisation="acme",
                      assertions=assertions)
    return ListSet((RiskList(name="t", publisher="t", version="1", date="2024-01-01",
                             subjects=(subject,)),))


def _snap(host: str, day: str, devices: list[dict] | None = None,
          software: list[dict] | None = None) -> Snapshot:
    snap = Snapshot(host=Host(host_id=host, hostname=host, platform="linux",
                              collected_at=f"{day}T10:00:00Z"))
    for d in devices or []:
        snap.add_device(source="test", **d)
    for s in software or []:
        snap.add_software(source="test", **s)
    return snap


class KindStatus:
    name = "test"

    def evaluate(self, subject: Subject) -> object:
        from dataclasses import dataclass

        @dataclass
        class V:
            status: str
            rule: str

        order = {"high-risk-vendor": "ban", "removal-order": "review", "warning": "monitor"}
        got = [order[a.kind] for a in subject.assertions if a.kind in order]
        best = next((s for s in ("ban", "review", "monitor") if s in got), "allow")
        return V(best, f"test: {','.join(a.citation or '' for a in subject.assertions)}")


def _findings(snaps: list[Snapshot], lists: ListSet) -> dict[str, dict]:
    rows = review_snapshots(snaps, lists, KindStatus()).findings.to_pylist()
    return {r["host_id"]: r for r in rows}


def test_a_subsidiary_finding_shows_the_relation_and_its_source(small_graph) -> None:
    lists = _lists("subsidiaries-and-affiliates", None)
    found = _findings([_snap("h1", "2025-01-01", devices=[
        {"bus": "network", "mac": "02:00:00:00:00:01", "oui_org": "Acme Device Co., Ltd."}])],
        lists)
    f = found["h1"]
    assert f["subject_id"] == "acme"
    assert "a subsidiary of Acme Networks Co., Ltd." in f["explanation"]
    assert "https://example.org/filing-1" in f["explanation"] and "since 2019-05" in f["explanation"]
    assert "reached by Act 0 (and its subsidiaries and affiliates)" in f["explanation"]
    # only the assertion that reaches subsidiaries sets the status (Act 1 names acme alone)
    assert f["status"] == "ban" and f["rule"] == "test: Act 0"
    [m] = [m for m in json.loads(f["matched"]) if m["level"] == 1]
    assert m["via"].startswith("via Acme Device Co., Ltd. → a subsidiary of")


def test_the_entity_itself_gets_every_assertion_and_its_registry_names(small_graph) -> None:
    lists = _lists("subsidiaries-and-affiliates", None)
    found = _findings([_snap("h1", "2025-01-01", devices=[
        {"bus": "usb", "vendor_id": "fff1", "product_id": "0001"}])], lists)
    assert found["h1"]["rule"] == "test: Act 0,Act 1" and " via " not in found["h1"]["explanation"]


def test_an_instrument_that_names_one_entity_does_not_flag_affiliates(small_graph) -> None:
    snaps = [_snap("h1", "2025-01-01", software=[{"name": "Lab Tool", "version": "1",
                                                  "publisher": "Acme Research Lab"}]),
             _snap("h2", "2025-01-01", software=[{"name": "Phone App", "version": "1",
                                                  "publisher": "ACME DEVICE"}])]
    # Act 0 reaches subsidiaries only: the subsidiary is flagged, the affiliate is not
    found = _findings(snaps, _lists("subsidiaries", None))
    assert set(found) == {"h2"}
    # entity only: neither
    assert _findings(snaps, _lists(None, None)) == {}
    # and subsidiaries and affiliates: both, the affiliate through its relation
    found = _findings(snaps, _lists("subsidiaries-and-affiliates"))
    assert set(found) == {"h1", "h2"}
    assert "an affiliate of Acme Networks Co., Ltd." in found["h1"]["explanation"]


def test_a_relation_that_ended_before_the_snapshot_attributes_nothing(small_graph) -> None:
    dev = [{"bus": "network", "mac": "02:00:00:00:00:02", "oui_org": "Oldco Phones Ltd."}]
    lists = _lists("subsidiaries-and-affiliates")
    found = _findings([_snap("before", "2020-11-16", devices=dev),
                       _snap("after", "2020-11-17", devices=dev)], lists)
    assert set(found) == {"before"}
    assert "until 2020-11-17" in found["before"]["explanation"]
    # and a relation that had not begun yet attributes nothing either
    early = [{"bus": "network", "mac": "02:00:00:00:00:03", "oui_org": "Acme Device Co., Ltd."}]
    assert _findings([_snap("early", "2019-04-30", devices=early)], lists) == {}


def test_nothing_outside_the_family_is_attributed(small_graph) -> None:
    dev = [{"bus": "network", "mac": "02:00:00:00:00:04", "oui_org": "Stranger Things Inc."}]
    assert _findings([_snap("h1", "2025-01-01", devices=dev)],
                     _lists("subsidiaries-and-affiliates")) == {}
