"""Options and helpers the estate commands share: ``--estate``, ``--actor``, ``--format``.

Every command that works on an estate gets it from :func:`with_estate` (or, where the estate
is optional, :func:`opened_estate`): the one way the command line opens an estate.
"""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from kitvet.estate import Estate

ESTATE_HELP = "Estate folder (default: $KITVET_ESTATE or ~/.local/share/kitvet/estate)."


def default_actor() -> str:
    """``$KITVET_ACTOR``, else the operating-system user."""
    try:
        return os.environ.get("KITVET_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--actor NAME``."""
    return click.option("--actor", default=default_actor, show_default="$KITVET_ACTOR or user",
                        help="Who is doing this (recorded in history and audit log).")(f)


def fmt_option(*choices: str) -> Callable[..., Any]:
    """Add ``--format``."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0],
                        show_default=True)


def open_estate_at(path: str | os.PathLike[str] | None, *, db: str | None = None,
                   create: bool = False, actor: str = "cli") -> Estate:
    """The estate at ``path``: created (or upgraded) when asked to or when ``db`` names its
    database, else opened."""
    from kitvet.estate import estate_dir, init_estate, open_estate

    root = estate_dir(path)
    if db or create:
        return init_estate(root, db_url=db, actor=actor)
    return open_estate(root)


@contextmanager
def opened_estate(path: str | os.PathLike[str] | None, *, db: str | None = None,
                  create: bool = False, actor: str = "cli") -> Iterator[Estate]:
    """:func:`open_estate_at` for the time of a ``with`` block."""
    est = open_estate_at(path, db=db, create=create, actor=actor)
    try:
        yield est
    finally:
        est.close()


def with_estate(f: Callable[..., Any] | None = None, *, from_group: bool = False
                ) -> Callable[..., Any]:
    """Give a command the opened estate as ``est`` (closed when it returns).

    The estate is the one of the command's own ``--estate DIR`` option, or with
    ``from_group`` the ``--estate`` and ``--db`` that its group was given (``kitvet serve
    --estate DIR user add ...``; the group stores them in ``ctx.obj``).
    """
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if from_group:
            @functools.wraps(func)
            def from_obj(**kw: Any) -> Any:
                obj = click.get_current_context().find_object(dict) or {}
                with opened_estate(obj.get("estate"), db=obj.get("db"), actor="cli") as est:
                    return func(est=est, **kw)
            return from_obj

        @click.option("--estate", "estate_path", type=click.Path(file_okay=False),
                      help=ESTATE_HELP)
        @functools.wraps(func)
        def wrapper(estate_path: str | None, **kw: Any) -> Any:
            with opened_estate(estate_path) as est:
                return func(est=est, **kw)
        return wrapper
    return decorate(f) if f is not None else decorate


def console() -> Console:
    """A rich console for tables (no soft wrapping)."""
    from rich.console import Console

    return Console(soft_wrap=False)


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    import json

    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def emit_csv(rows: list[dict[str, Any]]) -> None:
    """Print rows as spreadsheet-safe CSV (formulas neutralised)."""
    import csv
    import io

    from kitvet.report.csvfmt import safe_cell

    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: safe_cell(v) for k, v in r.items()})
    click.echo(buf.getvalue(), nl=False)


__all__ = ["actor_option", "console", "default_actor", "emit_csv", "emit_json",
           "fmt_option", "open_estate_at", "opened_estate", "with_estate"]
