"""``kitvet update-data`` for release data: endoflife.date's cycles of the products kitvet maps.

Each product is fetched from endoflife.date's API v1 (``<api>/<product>``), read and checked
like any release data (:mod:`kitvet.identify.endoflife`), and the products are written together
as ``endoflife.json`` in the data dir — atomically, and only once at least one product was
read. A product that cannot be fetched keeps its previous data (from the last good copy) and is
reported; the command then exits 2. With ``--url-base`` (a mirror of kitvet's data dir) the
ready ``endoflife.json`` is fetched from there instead; ``--releases-from`` reads files or
folders (API v1 documents, endoflife.date ``products/*.md``) for machines without network.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from kitvet.identify.endoflife import (
    Product,
    ReleaseCatalog,
    ReleaseDataError,
    ReleaseSkip,
    catalog_to_json,
    product_from_v1,
    read_paths,
)

RELEASES_API = "https://endoflife.date/api/v1/products/"
RELEASES_FILE = "endoflife.json"
MAX_BYTES = 8 * 1024 * 1024


def wanted_products() -> list[str]:
    """The products kitvet recognises in inventory (fetching others would be noise)."""
    from kitvet.identify.eol import mapped_products

    return sorted(mapped_products())


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as e:
        raise ReleaseDataError(f"not JSON ({e})") from e


def _when(end: object) -> str:
    return {True: "ended, no date published", False: "not announced",
            None: "not announced"}.get(end, str(end))  # type: ignore[call-overload]


def _get(client: Any, url: str) -> bytes:
    import httpx

    try:
        resp = client.get(url)
    except httpx.HTTPError as e:
        raise ReleaseDataError(f"cannot fetch {url}: {e}") from e
    if resp.status_code != 200:
        raise ReleaseDataError(f"HTTP {resp.status_code} from {url}")
    if len(resp.content) > MAX_BYTES:
        raise ReleaseDataError(f"larger than {MAX_BYTES} bytes: {url}")
    return bytes(resp.content)


def _previous(target: Path) -> ReleaseCatalog:
    path = target / RELEASES_FILE
    if not path.is_file():
        return ReleaseCatalog()
    got, _skipped = read_paths([path])
    return got


def changes(old: ReleaseCatalog, new: ReleaseCatalog) -> list[str]:
    """What moved: new cycles, and cycles whose end of life changed (for the summary)."""
    out = []
    for name, p in sorted(new.products.items()):
        before = {c.cycle: c for c in old.products[name].cycles} if name in old.products else {}
        for c in p.cycles:
            was = before.get(c.cycle)
            if was is None and before:
                out.append(f"{name} {c.cycle}: new cycle (end of life {_when(c.eol)})")
            elif was is not None and was.eol != c.eol:
                out.append(f"{name} {c.cycle}: end of life {_when(was.eol)} → {_when(c.eol)}")
    return out


def update_releases(target: Path, *, url_base: str | None, api: str, timeout: float,
                    local: list[Path] | None = None) -> tuple[dict[str, Any] | None, list[str],
                                                              list[str]]:
    """Refresh ``target/endoflife.json``: (manifest entry or None if nothing was written,
    error lines, note lines — cycles skipped with their reason, cycles new or changed)."""
    import httpx

    today = dt.datetime.now(dt.UTC).date().isoformat()
    old = _previous(target)
    errors: list[str] = []
    skipped: list[ReleaseSkip] = []
    products: dict[str, Product] = {}
    if local:
        got, skipped = read_paths(local)
        products = {k: v for k, v in got.products.items() if k in wanted_products()}
        skipped += [ReleaseSkip(k, "(product)", "kitvet recognises no inventory as this "
                                "product (see docs/vulnerable.md); not kept")
                    for k in sorted(set(got.products) - set(products))]
        source = f"{got.source or 'local release data'} ({', '.join(str(p) for p in local)})"
        date = got.date or today
    else:
        with httpx.Client(timeout=timeout, follow_redirects=True,
                          headers={"User-Agent": "kitvet update-data"}) as client:
            if url_base:
                url = url_base.rstrip("/") + "/" + RELEASES_FILE
                source, date = f"kitvet release data mirrored at {url}", today
                try:
                    doc = _json(_get(client, url))
                    got, skipped = read_paths_from_doc(doc, url)
                    products, date = dict(got.products), got.date or today
                    source = got.source or source
                except (ReleaseDataError, ValueError) as e:
                    errors.append(f"{RELEASES_FILE}: {getattr(e, 'message', e)}")
            else:
                base = api if api.endswith("/") else api + "/"
                source, date = f"endoflife.date API v1 ({base}<product>), fetched {today}", today
                for name in wanted_products():
                    try:
                        doc = _json(_get(client, base + name))
                        products[name] = product_from_v1(doc, file=f"{base}{name}",
                                                         skipped=skipped)
                    except (ReleaseDataError, ValueError) as e:
                        errors.append(f"{RELEASES_FILE}: {name}: {getattr(e, 'message', e)}")
    notes = [f"{RELEASES_FILE}: skipped {s}" for s in skipped]
    if not products:
        return None, errors or [f"{RELEASES_FILE}: no release data read"], notes
    for name, p in old.products.items():  # a product that failed keeps its last good data
        if name not in products and name in wanted_products():
            products[name] = p
    new = ReleaseCatalog(products, source=source, date=date)
    from kitvet.util import atomic_write_text

    target.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target / RELEASES_FILE, catalog_to_json(
        new, licence="endoflife.date data, MIT licence: Copyright 2020 endoflife.date "
                     "contributors"))
    entry = {"url": source, "fetched_at": today, "products": len(products),
             "cycles": sum(len(p.cycles) for p in products.values())}
    return entry, errors, notes + changes(old, new)


def read_paths_from_doc(doc: Any, file: str) -> tuple[ReleaseCatalog, list[ReleaseSkip]]:
    """A mirrored ``endoflife.json`` (kitvet's format) as a catalog."""
    from kitvet.identify.endoflife import catalog_from_json

    skipped: list[ReleaseSkip] = []
    return catalog_from_json(doc, file=file, skipped=skipped), skipped
