"""Persistence only: the inventory lake (Parquet), the review database (SQLAlchemy), the audit
chain. The store knows nothing of lists, policy, matching or sources; the estate
(:mod:`kitvet.estate`) orchestrates them.

Public API::

    from kitvet.store import Lake, estate_dir
    Lake(path).views(con, snapshot_ids=None)   # DuckDB views of the current snapshots
"""

from kitvet.store.lake import Lake
from kitvet.store.location import estate_dir

__all__ = ["Lake", "estate_dir"]
