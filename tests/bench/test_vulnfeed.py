"""The benchmark's vulnerability feed: realistic shape, the size asked, deterministic, and a
KEV catalogue in CISA's format over it."""

from __future__ import annotations

import json

from kitvet.bench.vulnfeed import count_ranges, feed_document, kev_catalog
from kitvet.lists.format import document_to_list, validate_document
from kitvet.lists.kev import read_kev, with_kev
from kitvet.model.risk import ListSet


def test_feed_has_the_ranges_asked_and_joins_kev() -> None:
    doc = feed_document(seed=3, ranges=3000)
    assert count_ranges(doc) >= 3000
    assert doc == feed_document(seed=3, ranges=3000)
    validate_document(doc, file="feed")
    rl = document_to_list(doc)
    idents = [i for s in rl.subjects for i in s.identifiers]
    assert all(i.kind == "purl" and i.version_range for i in idents)
    assert any("bench-lib" not in i.value for i in idents)  # some name the estate's packages
    kev = read_kev(json.dumps(kev_catalog(doc, seed=3, size=50)), file="kev.json")
    assert len(kev.entries) == 50 and not kev.skipped
    _joined, stats = with_kev(ListSet((rl,)), kev)
    assert stats.subjects == 50


def test_estate_packages_are_mostly_history_and_their_newest_version_is_fixed() -> None:
    """A realistic hit rate: ranges over the estate's own packages never take in a package's
    newest version (hosts up to date are not affected), and only a few affect any version the
    estate carries at all (most records are about versions long replaced)."""
    from kitvet.bench.vulnfeed import _pool_packages
    from kitvet.match.fastvers import in_vers

    versions = {(pt, name): vs for pt, name, vs in _pool_packages(1)}
    doc = feed_document(seed=1, ranges=20_000)
    own = current = 0
    for s in doc["subjects"]:
        for i in s["identifiers"]:
            pt, name = i["value"].removeprefix("pkg:").split("/")[0], i["value"].rsplit("/", 1)[1]
            vs = versions.get((pt, name))
            if vs is None:
                continue
            own += 1
            assert not in_vers(pt, vs[-1], i["version_range"]), (name, vs, i["version_range"])
            current += any(in_vers(pt, v, i["version_range"]) for v in vs)
    assert own > 1000
    assert 0 < current < 0.05 * own
