"""Finding classes: derived from assertion kinds, never mixed, carried by the engine."""

from __future__ import annotations

import duckdb
import pytest

from kitvet.match.engine import match
from kitvet.model import ASSERTION_KINDS, Assertion, Identifier, RiskList, Subject
from kitvet.model.finding import (
    CLASS_LABELS,
    FINDING_CLASSES,
    FINDING_FIELDS,
    KIND_CLASS,
    expand_classes,
    finding_class,
)
from kitvet.model.risk import EXCULPATORY_KINDS, ListSet
from kitvet.model.schema import device_table, host_table, software_table
from kitvet.policy import load_profile


def test_every_accusing_kind_has_a_class_and_a_label():
    accusing = [k for k in ASSERTION_KINDS if k not in EXCULPATORY_KINDS]
    assert sorted(KIND_CLASS) == sorted(accusing)
    assert set(KIND_CLASS.values()) <= set(FINDING_CLASSES)
    assert set(CLASS_LABELS) == set(FINDING_CLASSES)


@pytest.mark.parametrize(("kinds", "cls"), [
    (["removal-order", "no-evidence-found"], "high-risk-vendor"),
    (["known-exploited-vulnerability"], "vulnerability"),
    (["vulnerable-version"], "vulnerability"),
    (["end-of-life"], "end-of-life"),
    (["confirmed-malicious-version", "removal-order"], "confirmed-malicious"),  # SolarWinds
    (["known-exploited-vulnerability", "end-of-life"], "vulnerability"),
    (["high-risk-vendor", "known-exploited-vulnerability"], "high-risk-vendor"),
    (["cleared"], "high-risk-vendor"),
])
def test_class_of_a_subject_is_its_strongest_claim(kinds, cls):
    assert finding_class(kinds) == cls


def test_class_names_and_aliases():
    assert expand_classes(["eol"]) == ("end-of-life",)
    assert expand_classes(["vulnerable"]) == ("vulnerability", "end-of-life")
    assert expand_classes(["Vulnerability", "eol"]) == ("vulnerability", "end-of-life")
    with pytest.raises(ValueError, match="unknown finding class 'vulns'"):
        expand_classes(["vulns"])


def _subject(sid: str, publisher: str, kind: str) -> Subject:
    return Subject(id=sid, name=sid.title(), identifiers=(Identifier("publisher", publisher),),
                   assertions=(Assertion(authority="A", kind=kind, instrument="I",
                                         date="2024-01-01"),))


def test_engine_gives_each_finding_its_subjects_class():
    one = RiskList("one", "t", "1", "2026-01-01", subjects=(
        _subject("maker", "Maker Inc", "high-risk-vendor"),
        _subject("oldos", "Old Corp", "end-of-life"),
        _subject("both", "Both Ltd", "end-of-life")))
    # the same subject id in a second list with a stronger claim: the strongest class wins
    two = RiskList("two", "t", "1", "2026-01-01", subjects=(
        _subject("both", "Both Ltd", "known-exploited-vulnerability"),))
    con = duckdb.connect()
    con.register("software", software_table([
        {"host_id": "h1", "name": n, "version": "1", "publisher": p}
        for n, p in (("a", "Maker Inc"), ("b", "Old Corp"), ("c", "Both Ltd"))]))
    con.register("devices", device_table([]))
    con.register("hosts", host_table([{"host_id": "h1", "platform": "windows"}]))
    table = match(con, ListSet((one, two)), load_profile("default"))
    assert "finding_class" in FINDING_FIELDS and "finding_class" in table.column_names
    got = {r["subject_id"]: r["finding_class"] for r in table.to_pylist()}
    assert got == {"maker": "high-risk-vendor", "oldos": "end-of-life", "both": "vulnerability"}
