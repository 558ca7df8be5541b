"""The server as an ASGI application factory, for several worker processes and for running
kitvet under any ASGI server::

    uvicorn --factory kitvet.server.asgi:app_from_environment --workers 4

The settings come from ``KITVET_SERVER_CONFIG`` (JSON of
:class:`~kitvet.server.settings.ServerSettings`, which ``kitvet serve --workers N`` writes for its
workers), else from the ``KITVET_SERVER_*`` variables; the estate from the settings' ``estate``,
else ``$KITVET_ESTATE`` or the default location. The estate must exist (``kitvet estate init``).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)

#: Environment variable carrying the settings of ``kitvet serve`` to its worker processes.
CONFIG_ENV = "KITVET_SERVER_CONFIG"


def app_from_environment() -> FastAPI:
    """A server app over the estate the environment names (one per worker process)."""
    from kitvet.estate import open_estate
    from kitvet.server.app import create_app
    from kitvet.server.settings import ServerSettings

    raw = os.environ.get(CONFIG_ENV)
    settings = ServerSettings.model_validate_json(raw) if raw else ServerSettings()
    estate = open_estate(settings.estate)
    logger.info("worker %d serving estate %s", os.getpid(), estate.root)
    return create_app(estate, settings)
