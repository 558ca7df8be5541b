"""The estate: the one door the CLI and the server use (see ``docs/estate.md``).

Public API::

    from kitvet.estate import init_estate, open_estate, estate_dir
    est = open_estate("/srv/estate")          # or init_estate(path, db_url=..., actor=...)
    est.import_paths(["inv.json"], actor="alice", institution="Parliament")
    est.review(actor="alice", lists=lists, policy=policy, matcher=DuckDBMatcher())
    est.findings(status="ban", institution="Parliament", limit=50)
"""

from kitvet.estate.estate import REVIEW_STEPS, Estate, init_estate, open_estate
from kitvet.store.location import estate_dir

__all__ = ["REVIEW_STEPS", "Estate", "estate_dir", "init_estate", "open_estate"]
