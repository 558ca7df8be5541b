"""The FastAPI application: API under ``/api/v1``, the dashboard pages, static assets.

``create_app`` wires the estate, lists and policy into a :class:`ServerContext`; the lifespan
starts the review worker. FastAPI's own ``/docs`` and ``/redoc`` (which load assets from a CDN)
are disabled: the OpenAPI document is served at ``/api/v1/openapi.json`` and a local reference
page at ``/api/v1/docs``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kitvet import __version__
from kitvet.errors import KitvetError, StoreError
from kitvet.estate import AccountError, Estate, IngestLimits, NotFound, RateLimited
from kitvet.model.risk import STATUSES, ListSet
from kitvet.policy import Policy
from kitvet.server.actions import Forbidden
from kitvet.server.alerting import AlertSender
from kitvet.server.api import openapi
from kitvet.server.context import ServerContext
from kitvet.server.deps import LoginRequired
from kitvet.server.ingest import IngestRefused, Uploads
from kitvet.server.metrics import ServerMetrics
from kitvet.server.metrics import router as metrics_router
from kitvet.server.security import SecurityHeaders
from kitvet.server.settings import ServerSettings
from kitvet.server.worker import ReviewWorker

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
API = "/api/v1"


def load_lists_and_policy(settings: ServerSettings) -> tuple[ListSet, Policy]:
    """The risk lists (bundled plus ``settings.lists``) and the policy profile."""
    from kitvet.identify.eol import with_eol
    from kitvet.lists import load_lists
    from kitvet.lists.kev import load_kev, with_kev
    from kitvet.policy import load_profile

    lists = with_eol(load_lists(list(settings.lists), allow_unsigned=settings.allow_unsigned))
    lists, _joined = with_kev(lists, load_kev())  # the KEV catalogue in force, if any
    return lists, load_profile(settings.profile)


def load_sso(settings: ServerSettings) -> object | None:
    """The single sign-on of ``settings.sso_config`` (checked now), or None."""
    if settings.sso_config is None:
        return None
    from kitvet.server.sso.client import OidcClient
    from kitvet.server.sso.config import load_config
    from kitvet.server.sso.routes import Sso

    config = load_config(settings.sso_config)
    return Sso(config, OidcClient(config))


def templates() -> Jinja2Templates:
    """The page templates, with autoescaping on for every file."""
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    from kitvet.server.web import filters

    filters.install(env)
    env.globals["STATUSES"] = STATUSES
    return Jinja2Templates(env=env)


def create_app(estate: Estate, settings: ServerSettings | None = None, *,
               lists: ListSet | None = None, policy: Policy | None = None) -> FastAPI:
    """The kitvet server for an open estate."""
    settings = settings or ServerSettings()
    if lists is None or policy is None:
        lists, policy = load_lists_and_policy(settings)
    sender = AlertSender(estate, interval_s=settings.alerts_interval_s)
    metrics = ServerMetrics(estate)

    def after_review(seconds: float) -> None:
        metrics.review_seconds.observe(seconds)
        sender.request()

    worker = ReviewWorker(estate, lists=lists, policy=policy, profile=settings.profile,
                          after_review=after_review)
    queue = estate.ingest_queue(lambda: ingest_limits(settings), on_stored=_on_stored(
        settings, worker))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.alerts_mode == "background":
            sender.start()
        if settings.review_mode == "background":
            worker.start()
            if estate.status().review_is_stale:
                worker.request()
        queue.start()
        yield
        queue.stop()
        worker.stop()
        sender.stop()

    app = FastAPI(title="kitvet", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=f"{API}/openapi.json",
                  description="Estate server of kitvet: ingest inventory, review findings.")
    app.state.kv = ServerContext(estate, settings, lists, policy, worker, queue,
                                 Uploads(settings.max_concurrent_uploads), metrics)
    app.state.templates = templates()
    app.state.sso = load_sso(settings)
    app.add_middleware(SecurityHeaders, hsts_max_age_s=settings.hsts_max_age_s)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from kitvet.server.api.routes import api_router
    from kitvet.server.probes import router as probes_router
    from kitvet.server.sso.routes import router as sso_router
    from kitvet.server.web import web_router

    app.include_router(probes_router)
    app.include_router(sso_router)
    app.include_router(api_router, prefix=API)
    app.include_router(metrics_router)
    app.include_router(web_router)
    openapi.install(app)
    _handlers(app)
    return app


def ingest_limits(settings: ServerSettings) -> IngestLimits:
    """The ingest queue's limits from the server settings."""
    return IngestLimits(max_body_bytes=settings.max_body_bytes,
                        max_inventory_bytes=settings.max_inventory_bytes,
                        max_snapshot_items=settings.max_snapshot_items,
                        workers=settings.ingest_workers, batch_jobs=settings.ingest_batch_jobs,
                        max_queued=settings.max_queued_uploads)


def _on_stored(settings: ServerSettings, worker: ReviewWorker) -> Callable[[], None]:
    def stored() -> None:
        if settings.review_mode == "background":
            worker.request()
    return stored


def _status(e: Exception) -> int:
    if isinstance(e, IngestRefused):
        return e.status
    for cls, code in ((NotFound, 404), (Forbidden, 403), (RateLimited, 429),
                      (AccountError, 400), (StoreError, 409)):
        if isinstance(e, cls):
            return code
    return 400


def _handlers(app: FastAPI) -> None:
    async def on_login_required(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    async def on_kitvet(request: Request, exc: KitvetError) -> Response:
        code = _status(exc)
        if request.url.path.startswith(API):
            body = {"detail": exc.message, "place": exc.place}
            headers = {"Retry-After": "5"} if code == 503 else None
            return JSONResponse(body, status_code=code, headers=headers)
        from kitvet.server.web.render import error_page

        return error_page(request, code, exc.message)

    async def on_http(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith(API) or request.url.path.startswith("/static"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        from kitvet.server.web.render import error_page

        return error_page(request, exc.status_code, str(exc.detail))

    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        place = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", "invalid request"))
        if request.url.path.startswith(API):
            return JSONResponse({"detail": msg, "place": place}, status_code=422)
        from kitvet.server.web.render import error_page

        return error_page(request, 422, f"{place}: {msg}")

    app.add_exception_handler(LoginRequired, on_login_required)  # type: ignore[arg-type]
    app.add_exception_handler(KitvetError, on_kitvet)  # type: ignore[arg-type]
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
