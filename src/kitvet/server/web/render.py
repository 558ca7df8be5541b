"""Rendering pages: the shared template context (user, CSRF token, navigation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from kitvet import __version__

if TYPE_CHECKING:
    from kitvet.server.deps import WebSession

NAV = (("/", "Overview"), ("/findings", "Findings"), ("/subjects", "Subjects"),
       ("/decisions", "Decisions"), ("/exceptions", "Exceptions"), ("/campaigns", "Campaigns"),
       ("/hosts", "Hosts"), ("/reports", "Reports"), ("/audit", "Audit log"))


def render(request: Request, name: str, session: WebSession | None = None, *,
           status: int = 200,
           **context: Any) -> HTMLResponse:
    """Render template ``name`` with the user, CSRF token and navigation."""
    templates = request.app.state.templates
    base = {"request": request, "user": getattr(session, "user", None),
            "csrf": getattr(session, "csrf", None), "nav": NAV, "version": __version__,
            "path": request.url.path}
    base.update(context)
    return templates.TemplateResponse(request, name, base, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error page, with the navigation when a session is known (it never fails on that)."""
    session = None
    try:
        from kitvet.server.deps import WebSession
        from kitvet.server.security import SESSION_COOKIE

        found = request.app.state.kv.estate.accounts.session_user(
            request.cookies.get(SESSION_COOKIE))
        session = WebSession(*found) if found else None
    except Exception:
        session = None
    return render(request, "error.html", session, status=status, status_code=status,
                  message=message)
