"""Jinja2 filters and globals of the dashboard templates."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment


def when(value: str | None) -> str:
    """``2026-11-29T08:30:00.123456Z`` → ``2026-11-29 08:30`` (UTC)."""
    if not value:
        return "—"
    return value[:16].replace("T", " ")


def query(params: dict[str, Any], **changes: Any) -> str:
    """A query string from ``params`` with ``changes`` applied (None removes a key)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", [])}
    pairs: list[tuple[str, str]] = []
    for k, v in merged.items():
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            pairs.append((k, str(item)))
    return "?" + urlencode(pairs) if pairs else "?"


def install(env: Environment) -> None:
    """Register the filters on ``env``."""
    env.filters["when"] = when
    env.globals["query"] = query
