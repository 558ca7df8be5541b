"""The interface every matching engine implements: one method, the lake in, findings out.

A :class:`Matcher` reads the current snapshots of an estate's inventory lake and returns the
flat findings table (:data:`~kitvet.model.finding.FINDING_FIELDS`) as Arrow, whole or (for
the estate's review, which stores them as they come) as record batches. The embedded
engine (:class:`~kitvet.match.engine.DuckDBMatcher`) and the distributed one
(:class:`~kitvet.match.spark.SparkMatcher`) give identical findings; the estate's review does
not know which one it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from kitvet.model.risk import ListSet
    from kitvet.policy import Policy
    from kitvet.store.lake import Lake


class Matcher(Protocol):
    """A matching engine over an inventory lake."""

    def match(self, lake: Lake, lists: ListSet, policy: Policy, *,
              snapshot_ids: Iterable[str] | None = None) -> pa.Table:
        """Findings (FINDING_FIELDS) of the lake's current snapshots, or of ``snapshot_ids``."""
        ...

    def match_batches(self, lake: Lake, lists: ListSet, policy: Policy, *,
                      snapshot_ids: Iterable[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The same findings as record batches, so that a caller need not hold them all."""
        ...
