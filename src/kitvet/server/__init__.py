"""kitvet's estate server: the ingest API and the review dashboard (``kitvet serve``).

See ``docs/server.md``. Layout: :mod:`app` (the FastAPI app), :mod:`deps` (request
dependencies), :mod:`api.routes` (one router per resource), :mod:`web` (pages),
:mod:`queries` (scoped reads), :mod:`actions` (scoped writes), :mod:`accounts` and
:mod:`tokens` (users, sessions, API tokens), :mod:`ingest` and :mod:`worker` (inventory in,
review queued).
"""

from __future__ import annotations


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`kitvet.server.app.create_app`."""
    from kitvet.server.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
