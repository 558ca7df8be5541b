"""The estate store: the inventory lake (Parquet) and the review database (SQLAlchemy).

Public API (see ``docs/estate.md``)::

    from kitvet.store import init_estate, open_estate, estate_dir, Lake
    est = open_estate("/srv/estate")          # or init_estate(path, db_url=..., actor=...)
    est.import_paths(["inv.json"], actor="alice", institution="Parliament")
    est.review(actor="alice", lists=lists, policy=policy, profile="eu-institutions")
    est.findings(status="ban", institution="Parliament", limit=50)
"""

from kitvet.store.estate import Estate, init_estate, open_estate
from kitvet.store.lake import Lake
from kitvet.store.location import estate_dir

__all__ = ["Estate", "Lake", "estate_dir", "init_estate", "open_estate"]
