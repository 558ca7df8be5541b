"""kitvet's estate server: the ingest API and the review dashboard (``kitvet serve``).

See ``docs/server.md``. Layout: :mod:`app` (the FastAPI app), :mod:`deps` (request
dependencies), :mod:`api.routes` (one router per resource), :mod:`web` (pages),
:mod:`actions` (the role checks before a change), :mod:`ingest` and :mod:`worker` (inventory
in, review queued). Every read and write goes through the estate (:mod:`kitvet.estate`): its
reads take the signed-in account's scope, its accounts and tokens are ``estate.accounts`` and
``estate.tokens``; the server holds no SQL.
"""

from __future__ import annotations


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`kitvet.server.app.create_app`."""
    from kitvet.server.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
