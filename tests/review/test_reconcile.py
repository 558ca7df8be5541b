"""Recording a review's findings: all or nothing, and the evidence text of each finding."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from sqlalchemy import select
from store.helpers import ACME, EVIL, lists, policy, review, snap

from kitvet.model.finding import FINDING_FIELDS
from kitvet.review.reconcile import _evidence, evidence_column
from kitvet.store import tables as t

D1, D2 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"


def _database(estate) -> dict[str, list]:
    with estate.engine.connect() as conn:
        return {tab.name: [tuple(r) for r in conn.execute(select(tab).order_by(*tab.primary_key))]
                for tab in (t.findings, t.finding_events, t.reviews, t.audit_log, t.subjects)}


class _Failing:
    """The embedded engine, failing after it has handed out ``after`` batches."""

    def __init__(self, after: int):
        self.after = after

    def match_batches(self, lake, lists, policy):
        from kitvet.match.engine import DuckDBMatcher

        batches = list(DuckDBMatcher().match_batches(lake, lists, policy))
        assert len(batches) > self.after
        yield from batches[:self.after]
        raise RuntimeError("the engine failed half-way")


@pytest.mark.parametrize("after", [1, 3])
def test_a_review_that_fails_half_way_leaves_the_estate_as_it_was(estate, monkeypatch, after):
    """Batches already recorded when the engine fails are rolled back with the rest: the
    findings, their history, the reviews and the audit log are those of the review before, and
    the next review records everything."""
    from kitvet.match import engine

    monkeypatch.setattr(engine, "BATCH_ROWS", 1)
    estate.import_snapshots([snap(f"h{n}", "P", D1, [("Evil App", "1", EVIL),
                                                     ("Acme Tool", "1", ACME)])
                             for n in range(3)], actor="a")
    assert review(estate).new == 6
    estate.import_snapshots([snap("h1", "P", D2, [("Acme Tool", "1", ACME)])]
                            + [snap(f"h{n}", "P", D2, [("Evil App", "1", EVIL),
                                                       ("Acme Tool", "1", ACME)])
                               for n in range(3, 6)], actor="a")
    before = _database(estate)
    with pytest.raises(RuntimeError, match="half-way"):
        estate.review(actor="a", lists=lists(), policy=policy(), matcher=_Failing(after))
    assert _database(estate) == before
    again = review(estate)
    assert (again.new, again.seen, again.removed, again.findings) == (6, 5, 1, 11)


def test_evidence_column_is_the_evidence_of_each_row():
    """The evidence text built column by column is, byte for byte, the one built row by row:
    quotes, backslashes, control characters, non-ASCII text, empty and missing values,
    ``matched`` that is or is not JSON, and text cut at 65,536 characters."""
    odd = ['plain', 'quo"te', 'back\\slash', 'tab\tnew\nline\x01', 'Ünïcødé ✓ 中文', '', None,
           '\u2028sep', 'x' * 70_000]
    matched = ['[{"kind":"publisher","value":"Evil \\"Corp\\"","level":0,"via":null}]',
               '{"a": 1.5, "b": [true, null, "é"]}', 'not json', '', None, '"just a string"',
               '[]', '{"deep": {"x": "\\u00e9"}}', 'y' * 66_000]
    rows = []
    for i in range(len(odd) * 3):
        row = {f: odd[(i + n) % len(odd)] for n, f in enumerate(FINDING_FIELDS)}
        row["matched"] = matched[i % len(matched)]
        rows.append(row)
    rows.append(dict.fromkeys(FINDING_FIELDS, ""))  # nothing to say: {}
    table = pa.Table.from_pylist(rows, schema=pa.schema([(f, pa.string())
                                                         for f in FINDING_FIELDS]))
    assert evidence_column(table).to_pylist() == [_evidence(r) for r in rows]
    one = pa.Table.from_pylist([{"name": "Evil App", "version": "", "matched": matched[0]}])
    assert json.loads(evidence_column(one)[0].as_py()) == {
        "name": "Evil App", "matched": json.loads(matched[0])}


def test_a_finding_seen_again_takes_what_changed(estate):
    """A finding seen again takes the engine's new values (a host renamed, a decision's
    status) and its last_seen; one seen unchanged still gets the review's time."""
    estate.import_snapshots([snap("h1", "P", D1, [("Evil App", "1", EVIL)]),
                             snap("h2", "P", D1, [("Acme Tool", "1", ACME)])], actor="a")
    review(estate)
    estate.import_snapshots([snap("h1", "P", D2, [("Evil App", "1", EVIL)],
                                  hostname="renamed")], actor="a")
    estate.decide("acme", "cleared", actor="a", rationale="no evidence")
    again = review(estate)
    assert (again.new, again.seen, again.removed) == (0, 2, 0)
    with estate.engine.connect() as conn:
        rows = {r.host_id: r for r in conn.execute(select(t.findings))}
        started = conn.execute(select(t.reviews.c.started_at).order_by(
            t.reviews.c.review_id.desc())).scalars().first()
    assert (rows["h1"].hostname, rows["h1"].last_seen[:10]) == ("renamed", "2026-11-02")
    assert json.loads(rows["h1"].evidence)["hostname"] == "renamed"
    assert (rows["h2"].status, rows["h2"].decision, rows["h2"].last_seen[:10]) == (
        "allow", "cleared", "2026-11-01")
    assert rows["h1"].updated_at == rows["h2"].updated_at == started
