"""kitvet's estate server: the ingest API and the review dashboard (``kitvet serve``).

See ``docs/server.md``. Layout: :mod:`app` (the FastAPI app), :mod:`deps` (request
dependencies), :mod:`api.routes` (one router per resource), :mod:`web` (pages),
:mod:`actions` (the role checks before a change), :mod:`ingest` and :mod:`worker` (inventory
in, review queued). Every read and write goes through the estate (:mod:`kitvet.estate`): its
reads take the signed-in account's scope, its accounts and tokens are ``estate.accounts`` and
``estate.tokens``; the server holds no SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kitvet.estate import Estate
    from kitvet.model.risk import ListSet
    from kitvet.policy import Policy
    from kitvet.server.settings import ServerSettings


def create_app(estate: Estate, settings: ServerSettings | None = None, *,
               lists: ListSet | None = None, policy: Policy | None = None) -> FastAPI:
    """See :func:`kitvet.server.app.create_app` (imported on use: FastAPI is heavy)."""
    from kitvet.server.app import create_app as _create

    return _create(estate, settings, lists=lists, policy=policy)


__all__ = ["create_app"]
