"""Jinja2 filters and globals of the dashboard templates."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from markupsafe import Markup

#: C0/C1 control characters (but tab and newline) and Unicode bidirectional overrides, which
#: could hide or reorder what a reviewer reads ("Trojan Source" names such as "fdp.exe").
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                        "\u2066-\u2069]")
#: Longest string shown in a cell; the rest is cut with an ellipsis.
MAX_SHOWN = 1000


def visible(value: Any) -> Any:
    """Make host-supplied text safe to read: control and bidi characters become ``\\uXXXX``
    and very long strings are cut. Markup built by kitvet (the charts) passes unchanged;
    HTML escaping is Jinja2's autoescape, after this."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    if len(value) > MAX_SHOWN:
        value = value[:MAX_SHOWN] + "…"
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def short(value: Any, limit: int = 120) -> Any:
    """Cut a host string for a list cell (the detail page shows up to :data:`MAX_SHOWN`)."""
    if isinstance(value, str) and not isinstance(value, Markup) and len(value) > limit:
        return value[:limit] + "…"
    return value


def plain(value: Any) -> Any:
    """An audit detail value as a reader expects it: JSON for lists and maps, "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, (dict, list, tuple, bool)):
        return short(json.dumps(value, ensure_ascii=False, sort_keys=True), 300)
    return short(value, 300)


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
    env.filters["short"] = short
    env.filters["plain"] = plain
    env.finalize = visible
    env.globals["query"] = query
