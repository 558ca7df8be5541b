"""Finding classes in the estate: stored, filtered, counted apart, and classified on upgrade."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select
from store.helpers import policy, snap

from kitvet.errors import StoreError
from kitvet.estate import open_estate
from kitvet.model import Assertion, Identifier, RiskList, Subject
from kitvet.model.risk import ListSet
from kitvet.store import tables as t
from kitvet.store.db import _alembic_config, utcnow, write

KINDS = {"evil": "confirmed-malicious-version", "maker": "high-risk-vendor",
         "kev": "known-exploited-vulnerability", "oldos": "end-of-life"}


def class_lists() -> ListSet:
    """One subject per class, each recognised by its own publisher."""
    subjects = tuple(
        Subject(id=sid, name=sid.upper(), identifiers=(Identifier("publisher", f"{sid} corp"),),
                assertions=(Assertion(authority="A", kind=kind, instrument="I",
                                      date="2024-01-01"),))
        for sid, kind in KINDS.items())
    return ListSet((RiskList("classes", "tests", "1", "2026-01-01", subjects=subjects),))


@pytest.fixture
def reviewed(estate):
    estate.import_snapshots([
        snap("pc-1", "Parliament", "2026-11-01T00:00:00Z",
             [(f"{sid} app", "1", f"{sid} corp") for sid in KINDS]),
        snap("pc-2", "Agency", "2026-11-01T00:00:00Z", [("oldos app", "1", "oldos corp")]),
    ], actor="t")
    res = estate.review(actor="t", lists=class_lists(), policy=policy(), profile="default")
    return estate, res


def test_findings_carry_their_class_and_filter_by_it(reviewed):
    est, res = reviewed
    # counted per class, never summed across classes
    assert res.by_class == {"confirmed-malicious": {"ban": 1}, "high-risk-vendor": {"review": 1},
                            "vulnerability": {"review": 1}, "end-of-life": {"review": 2}}
    every = est.findings().items
    assert [f.finding_class for f in every] == [  # class by class, in the class order
        "confirmed-malicious", "high-risk-vendor", "vulnerability", "end-of-life",
        "end-of-life"]
    assert {f.subject_id for f in est.findings(finding_class="eol").items} == {"oldos"}
    assert len(est.findings(finding_class="end-of-life").items) == 2
    vulnerable = est.findings(finding_class=["vulnerable"]).items
    assert {f.subject_id for f in vulnerable} == {"kev", "oldos"}
    assert [f.subject_id for f in est.findings(finding_class="confirmed-malicious,vendor")
            .items] == ["evil", "maker"]
    with pytest.raises(StoreError, match="unknown finding class"):
        est.findings(finding_class="exploits")


def test_status_counts_each_class_apart(reviewed):
    est, _res = reviewed
    st = {i.institution: i for i in est.status().institutions}
    assert st["Parliament"].findings_by_class == {
        "confirmed-malicious": {"ban": 1}, "high-risk-vendor": {"review": 1},
        "vulnerability": {"review": 1}, "end-of-life": {"review": 1}}
    assert st["Agency"].findings_by_class == {"end-of-life": {"review": 1}}
    assert st["Agency"].unresolved_by_class == {"end-of-life": 1}
    detail = est.finding(est.findings(finding_class="eol").items[0].finding_id)
    assert detail.subject and detail.subject["finding_class"] == "end-of-life"


def test_upgrade_to_0003_classifies_stored_findings(reviewed):
    est, _res = reviewed
    with write(est.engine) as conn:
        command.downgrade(_alembic_config(conn), "0002")
        # a finding whose subject was never stored: no class until a review finds it again
        row = dict(finding_id="orphan", host_id="pc-1", item_type="software", item_key="x",
                   subject_id="gone", policy_status="review", status="review", state="open",
                   live=True, first_seen="2026-01-01", last_seen="2026-01-01", reappeared=0,
                   updated_at=utcnow())
        old = sa.table("findings", *(sa.column(k) for k in row))  # the 0002 columns
        conn.execute(old.insert().values(**row))
    est.close()
    again = open_estate(est.root)  # upgrades on open
    with again.engine.connect() as conn:
        got = {r.subject_id: r.finding_class for r in conn.execute(
            select(t.findings.c.subject_id, t.findings.c.finding_class))}
        kinds = {r.subject_id: json.loads(r.assertions)[0]["kind"] for r in conn.execute(
            select(t.subjects.c.subject_id, t.subjects.c.assertions))}
    assert kinds == KINDS
    assert got == {"evil": "confirmed-malicious", "maker": "high-risk-vendor",
                   "kev": "vulnerability", "oldos": "end-of-life", "gone": None}
    listed = again.findings(live=None).items
    assert listed[-1].finding_id == "orphan" and listed[-1].finding_class is None
    again.close()
