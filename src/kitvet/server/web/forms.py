"""Form handling of the dashboard: bounded bodies and the per-session CSRF check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from kitvet.server.deps import SessionDep, WebSession
from kitvet.server.security import same_token

MAX_FORM_BYTES = 64 * 1024


async def read_form(request: Request) -> FormData:
    """The posted form (refused above 64 KiB)."""
    size = request.headers.get("content-length", "")
    if not size.isdigit() or int(size) > MAX_FORM_BYTES:
        raise HTTPException(413, "form too large (or without Content-Length)")
    return await request.form(max_files=0, max_fields=50)


async def checked_form(request: Request, session: SessionDep) -> tuple[WebSession, FormData]:
    """The session and its form, after checking the form's CSRF token (403 if wrong)."""
    form = await read_form(request)
    if not same_token(str(form.get("csrf_token") or ""), session.csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
    return session, form


CheckedForm = Annotated[tuple[WebSession, FormData], Depends(checked_form)]


def field(form: FormData, name: str, limit: int = 2000) -> str:
    """A text field, stripped (an empty string when absent); refused when too long."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise HTTPException(400, f"the field {name!r} is longer than {limit} characters")
    return text
