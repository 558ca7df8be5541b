"""End of life as a risk list: one subject per release cycle that has ended or ends soon.

Built at review time from the release data in force (:func:`kitvet.identify.releases.catalog`):
every cycle of a product kitvet maps to inventory whose end of life (endoflife.date's ``eol``:
no more security fixes from the maker) is on or before ``today`` — *end of life since DATE* —
or within ``horizon_days`` after it — *end of support in N days*. Each subject has one
``release_cycle`` identifier (``debian:10``, ``python:3.7``) and one ``end-of-life`` assertion
whose authority is the maker's published lifecycle as endoflife.date records it, with the
endoflife.date page, the data's source and date, and extended support where there is one.

These findings are their own class (*end-of-life*): dangerous, not an accusation; profiles
decide their status (bundled: ``monitor``, ``review`` after a grace period).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from functools import lru_cache

from kitvet.identify.endoflife import Cycle, Product, ReleaseCatalog
from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject

logger = logging.getLogger(__name__)

LIST_NAME = "endoflife"
#: Cycles whose end of life is at most this many days ahead are reported ("in N days").
DEFAULT_HORIZON_DAYS = 180
#: Products whose cycles come from packages (a distribution may backport fixes to them).
_RUNTIMES = ("python", "nodejs", "openssl", "oracle-jdk", "eclipse-temurin")


def with_eol(lists: ListSet, *, today: str | None = None) -> ListSet:
    """``lists`` and, after them, the end-of-life list of ``today`` (the CLI's and the
    server's lists in force, unless told ``--no-eol``)."""
    return ListSet((*lists.lists, eol_list(today=today)))


def mapped_products() -> set[str]:
    """The products kitvet can recognise in inventory (the others are never subjects)."""
    from kitvet.identify.releases import OS_PRODUCTS, PACKAGE_RULES

    return set(OS_PRODUCTS) | {r.product for r in PACKAGE_RULES}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _ended(end: object, today: dt.date) -> str | None:
    """'since DATE' wording of an end, if it has come."""
    if end is True:
        return "ended (no date published)"
    if isinstance(end, str) and dt.date.fromisoformat(end) <= today:
        return f"ended on {end}"
    return None


def _scope(product: Product, c: Cycle, today: dt.date) -> str:
    parts = []
    if isinstance(c.eol, str) and dt.date.fromisoformat(c.eol) > today:
        days = (dt.date.fromisoformat(c.eol) - today).days
        parts.append(f"Security support from the maker ends on {c.eol}, in {days} days "
                     f"(as of {today.isoformat()}).")
    else:
        parts.append(f"Security support from the maker {_ended(c.eol, today)}.")
    if c.eoes not in (None, False):
        ended = _ended(c.eoes, today)
        parts.append(f"Extended support (LTS, ESU: often paid or by subscription) {ended}."
                     if ended else f"Extended support (LTS, ESU: often paid or by "
                     f"subscription) continues until {c.eoes}.")
    if c.latest:
        parts.append(f"Latest release of the cycle: {c.latest}.")
    if product.name in _RUNTIMES:
        parts.append("A distribution's own package may still get backported fixes under the "
                     "distribution's support: check it before acting.")
    if product.policy_link:
        parts.append(f"Maker's release policy: {product.policy_link}")
    return " ".join(parts)


def _subject(product: Product, c: Cycle, catalog: ReleaseCatalog, today: dt.date,
             horizon: int) -> Subject | None:
    from kitvet.identify.releases import display_name

    eol = c.eol
    if eol is True:
        date, note = None, "the maker ended support without a published date"
    elif isinstance(eol, str):
        end = dt.date.fromisoformat(eol)
        if (end - today).days > horizon:
            return None
        date, note = eol, None
    else:
        return None
    name = display_name(product.name, c, product.title)
    ended = date is None or dt.date.fromisoformat(date) <= today
    source = f"{catalog.source} (data of {catalog.date})" if catalog.date else catalog.source
    assertion = Assertion(
        authority=f"{product.title} (the maker's support lifecycle, recorded by endoflife.date)",
        authority_id="endoflife-date", jurisdiction="INT", kind="end-of-life",
        instrument=(f"{name}: end of life" + (f" since {date}" if ended and date else "")
                    + (f" on {date}" if not ended else "")),
        citation=f"endoflife.date {product.name} {c.cycle}", date=date, date_note=note,
        due_date=date,
        scope=_scope(product, c, today), reference_url=product.link or c.link,
        source=source, source_quality="secondary")
    ident = Identifier(kind="release_cycle", value=f"{product.name}:{c.cycle}", source=source,
                       label=name)
    return Subject(id=f"eol-{_slug(product.name)}-{_slug(c.cycle)}", name=name,
                   kind="product-version", identifiers=(ident,), assertions=(assertion,),
                   description=f"{name}: release cycle {c.cycle} of endoflife.date's "
                               f"{product.name}")


def eol_list(catalog: ReleaseCatalog | None = None, *, today: str | None = None,
             horizon_days: int = DEFAULT_HORIZON_DAYS) -> RiskList:
    """The end-of-life list of ``catalog`` (default: the release data in force) on ``today``
    (ISO date; default: today, UTC)."""
    from kitvet.identify.releases import catalog as current

    cat = catalog if catalog is not None else current()
    from kitvet.util import today as current_day

    day = today or current_day()
    return _build(cat, day, horizon_days)


@lru_cache(maxsize=8)
def _build(cat: ReleaseCatalog, day: str, horizon: int) -> RiskList:
    today = dt.date.fromisoformat(day)
    wanted = mapped_products()
    subjects = []
    for pname in sorted(cat.products):
        if pname not in wanted:
            continue
        p = cat.products[pname]
        for c in p.cycles:
            s = _subject(p, c, cat, today, horizon)
            if s is not None:
                subjects.append(s)
    return RiskList(
        name=LIST_NAME, publisher="endoflife.date release data (list built by kitvet)",
        version=cat.date or "unknown", date=cat.date or day, subjects=tuple(subjects),
        description=(f"Release cycles whose makers' support has ended or ends within "
                     f"{horizon} days of {day}: {cat.source or 'no release data'}"),
        origin=cat.origin)
