"""Release cycles and their end-of-life dates, in endoflife.date's formats.

kitvet keeps release data as a :class:`ReleaseCatalog` (products → cycles with release, end of
active support, end of life and end of extended support dates) and stores it as one JSON file
(``kitvet_releases``, written by :func:`catalog_to_json`) with its source and date. It reads:

* endoflife.date's **API v1** product documents (``GET /api/v1/products/<product>``:
  ``{"result": {"name", "label", "links", "releases": [{"name", "isEol", "eolFrom", ...}]}}``);
* the older API's cycle arrays (``/api/<product>.json``: ``[{"cycle", "eol", "support",
  "extendedSupport", ...}]``);
* the product pages of the endoflife.date repository (``products/<product>.md``, YAML front
  matter with ``releases: [{releaseCycle, eol, eoas, eoes, ...}]``);
* kitvet's own ``kitvet_releases`` JSON (the bundled snapshot, ``kitvet update-data``'s copy).

Dates are ISO strings; an end that has passed without a published date is ``True``, an end
not announced is ``False``. A bad cycle is skipped with the file and the reason
(:class:`ReleaseSkip`); the good ones are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kitvet.errors import KitvetError

logger = logging.getLogger(__name__)

RELEASES_FORMAT = "1.0"
MAX_FILE_BYTES = 16 * 1024 * 1024
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CYCLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_PRODUCT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_CTL = re.compile(r"[\x00-\x1f\x7f]")

#: An end date: ISO date, True (ended, date not published), False (not announced), None.
End = str | bool | None


class ReleaseDataError(KitvetError):
    """Release data that cannot be read at all (not one of the formats, not JSON/YAML)."""


@dataclass(frozen=True)
class ReleaseSkip:
    """A cycle (or file) that could not be read, with where and why."""

    file: str
    place: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.place}: {self.reason}"


@dataclass(frozen=True)
class Cycle:
    """One release cycle of a product (``10`` of Debian, ``3.7`` of Python, ``10-22h2`` of
    Windows) and the ends of its support."""

    cycle: str
    label: str | None = None
    codename: str | None = None
    release_date: str | None = None
    eoas: End = None  # end of active support
    eol: End = None  # end of life: no more security fixes from the maker
    eoes: End = None  # end of extended (often paid) support
    lts: bool = False
    latest: str | None = None
    link: str | None = None

    @property
    def name(self) -> str:
        """How people call it: the label, else the cycle with its codename."""
        if self.label:
            return self.label
        return f"{self.cycle} ({self.codename})" if self.codename else self.cycle


@dataclass(frozen=True)
class Product:
    """A product of endoflife.date and its cycles (newest first, as the source lists them)."""

    name: str  # endoflife.date's id: debian, python, windows-server ...
    title: str
    cycles: tuple[Cycle, ...] = ()
    link: str | None = None  # the endoflife.date page
    policy_link: str | None = None  # the maker's release policy


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity
class ReleaseCatalog:
    """Release data of several products, with where it came from and how recent it is."""

    products: dict[str, Product] = field(default_factory=dict)
    source: str = ""
    date: str = ""  # ISO date of the data (the snapshot, or the fetch)
    origin: str | None = None  # file it was read from

    def cycle(self, product: str, cycle: str) -> Cycle | None:
        """The named cycle, or None."""
        p = self.products.get(product)
        return next((c for c in p.cycles if c.cycle == cycle), None) if p else None


# -- reading ------------------------------------------------------------------------------------
def _text(v: Any, limit: int = 300) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    s = _CTL.sub(" ", str(v)).strip()
    return s[:limit] or None


def _url(v: Any) -> str | None:
    s = _text(v, 500)
    return s if s and re.match(r"^https?://", s) else None


def _end(v: Any, what: str) -> End:
    """A date field: ISO date, True/False, None; ValueError if it is anything else."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v).strip()
    if _DATE.match(s):
        dt.date.fromisoformat(s)  # a real day
        return s
    raise ValueError(f"{what} {v!r} is not a date, true or false")


def _date(v: Any, what: str) -> str | None:
    got = _end(v, what)
    return got if isinstance(got, str) else None


def _cycle(raw: Any, keys: dict[str, str]) -> Cycle:
    """A cycle from one record, ``keys`` naming each field in the record's format."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    cycle = _text(raw.get(keys["cycle"]), 64)
    if not cycle or not _CYCLE.match(cycle):
        raise ValueError(f"{keys['cycle']} {raw.get(keys['cycle'])!r} is not a release cycle")
    latest = raw.get(keys["latest"])
    if isinstance(latest, dict):  # API v1: {"name", "date", "link"}
        latest = latest.get("name")
    return Cycle(
        cycle=cycle,
        label=_text(raw.get(keys.get("label", "")), 120),
        codename=_text(raw.get("codename"), 120),
        release_date=_date(raw.get(keys["release"]), keys["release"]),
        eoas=_end(raw.get(keys["eoas"]), keys["eoas"]),
        eol=_end(raw.get(keys["eol"]), keys["eol"]),
        eoes=_end(raw.get(keys["eoes"]), keys["eoes"]),
        lts=raw.get(keys["lts"]) is True or _date(raw.get(keys["lts"]), keys["lts"]) is not None,
        latest=_text(latest, 64),
        link=_url(raw.get("link")),
    )


def _cycles(items: Any, keys: dict[str, str], file: str, where: str,
            skipped: list[ReleaseSkip]) -> tuple[Cycle, ...]:
    if not isinstance(items, list):
        raise ReleaseDataError(f"{where} is not a list", file=file)
    out: list[Cycle] = []
    seen: set[str] = set()
    for n, raw in enumerate(items):
        try:
            c = _cycle(raw, keys)
        except ValueError as e:
            skipped.append(ReleaseSkip(file, f"{where}[{n}]", str(e)))
            continue
        if c.cycle in seen:
            skipped.append(ReleaseSkip(file, f"{where}[{n}]", f"cycle {c.cycle} twice"))
            continue
        seen.add(c.cycle)
        out.append(c)
    return tuple(out)


_MD_KEYS = {"cycle": "releaseCycle", "label": "releaseLabel", "release": "releaseDate",
            "eoas": "eoas", "eol": "eol", "eoes": "eoes", "lts": "lts", "latest": "latest"}
_LEGACY_KEYS = {"cycle": "cycle", "release": "releaseDate", "eoas": "support", "eol": "eol",
                "eoes": "extendedSupport", "lts": "lts", "latest": "latest"}


def _v1_cycle(raw: Any) -> Any:
    """An API v1 release as a record with plain end fields (``isEol``/``eolFrom`` → eol)."""
    if not isinstance(raw, dict):
        return raw
    rec = dict(raw)
    for end in ("eol", "eoas", "eoes"):
        since = raw.get(f"{end}From")
        flag = raw.get(f"is{end.capitalize()}")
        rec[end] = since if since is not None else (flag if isinstance(flag, bool) else None)
    return rec


_V1_KEYS = {"cycle": "name", "label": "label", "release": "releaseDate", "eoas": "eoas",
            "eol": "eol", "eoes": "eoes", "lts": "isLts", "latest": "latest"}


def product_from_v1(doc: Any, *, file: str, skipped: list[ReleaseSkip]) -> Product:
    """A product from an API v1 document (``{"schema_version", "result": {...}}``)."""
    res = doc.get("result") if isinstance(doc, dict) else None
    if not isinstance(res, dict):
        raise ReleaseDataError("not an endoflife.date API v1 product (no 'result')", file=file)
    name = _text(res.get("name"), 64) or ""
    if not _PRODUCT.match(name):
        raise ReleaseDataError(f"product name {res.get('name')!r} is not an id", file=file)
    links: dict[str, Any] = res["links"] if isinstance(res.get("links"), dict) else {}
    releases = res.get("releases")
    cycles = _cycles([_v1_cycle(r) for r in releases] if isinstance(releases, list)
                     else releases, _V1_KEYS, file, "result.releases", skipped)
    return Product(name=name, title=_text(res.get("label"), 120) or name, cycles=cycles,
                   link=_url(links.get("html")) or f"https://endoflife.date/{name}",
                   policy_link=_url(links.get("releasePolicy")))


def product_from_markdown(text: str, *, name: str, file: str,
                          skipped: list[ReleaseSkip]) -> Product:
    """A product from an endoflife.date ``products/<name>.md`` page (its YAML front matter)."""
    import yaml

    parts = text.split("\n---", 1) if text.startswith("---") else []
    if len(parts) != 2:
        raise ReleaseDataError("no YAML front matter (the page must start with ---)", file=file)
    try:
        meta = yaml.safe_load(parts[0][3:])
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "front matter"
        raise ReleaseDataError(f"front matter is not YAML ({where})", file=file) from e
    if not isinstance(meta, dict) or "releases" not in meta:
        raise ReleaseDataError("front matter has no 'releases'", file=file)
    if not _PRODUCT.match(name):
        raise ReleaseDataError(f"file name {name!r} is not a product id", file=file)
    cycles = _cycles(meta["releases"], _MD_KEYS, file, "releases", skipped)
    permalink = _text(meta.get("permalink"), 100) or f"/{name}"
    return Product(name=name, title=_text(meta.get("title"), 120) or name, cycles=cycles,
                   link=f"https://endoflife.date{permalink}",
                   policy_link=_url(meta.get("releasePolicyLink")))


def product_from_legacy(items: Any, *, name: str, file: str,
                        skipped: list[ReleaseSkip]) -> Product:
    """A product from the older API's array of cycles (``/api/<name>.json``)."""
    if not _PRODUCT.match(name):
        raise ReleaseDataError(f"file name {name!r} is not a product id", file=file)
    return Product(name=name, title=name, link=f"https://endoflife.date/{name}",
                   cycles=_cycles(items, _LEGACY_KEYS, file, "(top)", skipped))


def catalog_from_json(doc: Any, *, file: str, skipped: list[ReleaseSkip]) -> ReleaseCatalog:
    """kitvet's own ``kitvet_releases`` document."""
    if not isinstance(doc, dict) or "kitvet_releases" not in doc:
        raise ReleaseDataError("not a kitvet_releases document", file=file)
    products: dict[str, Product] = {}
    for pname, p in (doc.get("products") or {}).items():
        if not isinstance(p, dict) or not _PRODUCT.match(str(pname)):
            skipped.append(ReleaseSkip(file, f"products.{pname}", "not a product"))
            continue
        keys = {"cycle": "cycle", "label": "label", "release": "release_date", "eoas": "eoas",
                "eol": "eol", "eoes": "eoes", "lts": "lts", "latest": "latest"}
        products[pname] = Product(
            name=pname, title=_text(p.get("title"), 120) or pname, link=_url(p.get("link")),
            policy_link=_url(p.get("policy_link")),
            cycles=_cycles(p.get("cycles") or [], keys, file, f"products.{pname}.cycles",
                           skipped))
    return ReleaseCatalog(products, source=_text(doc.get("source"), 500) or "",
                          date=_date(doc.get("date"), "date") or "", origin=file)


def read_file(path: Path, skipped: list[ReleaseSkip]) -> tuple[Product | None, ReleaseCatalog | None]:
    """One file in any of the formats: a product, or a whole catalog (kitvet's JSON)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ReleaseDataError(f"larger than {MAX_FILE_BYTES} bytes", file=path.name)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ReleaseDataError(f"cannot read: {e}", file=path.name) from e
    name = path.name.removesuffix(".json").removesuffix(".md")
    if path.suffix == ".md" or text.startswith("---"):
        return product_from_markdown(text, name=name, file=path.name, skipped=skipped), None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ReleaseDataError(f"not JSON: {e}", file=path.name) from e
    if isinstance(doc, dict) and "kitvet_releases" in doc:
        return None, catalog_from_json(doc, file=path.name, skipped=skipped)
    if isinstance(doc, dict) and "result" in doc:
        return product_from_v1(doc, file=path.name, skipped=skipped), None
    if isinstance(doc, list):
        return product_from_legacy(doc, name=name, file=path.name, skipped=skipped), None
    raise ReleaseDataError("neither an endoflife.date product (API v1, API array, products/*.md) "
                           "nor kitvet release data", file=path.name)


def read_paths(paths: Iterable[Path], *, source: str = "", date: str = ""
               ) -> tuple[ReleaseCatalog, list[ReleaseSkip]]:
    """Files and folders of release data as one catalog; a bad file is skipped with its reason."""
    skipped: list[ReleaseSkip] = []
    products: dict[str, Product] = {}
    base: ReleaseCatalog | None = None
    files: list[Path] = []
    for p in paths:
        files += sorted(f for f in p.rglob("*") if f.suffix in (".md", ".json") and f.is_file()
                        and not f.name.startswith(".")) if p.is_dir() else [p]
    for f in files:
        try:
            product, catalog = read_file(f, skipped)
        except ReleaseDataError as e:
            skipped.append(ReleaseSkip(e.file or f.name, e.place or "(file)", e.message))
            continue
        if catalog is not None:
            base = catalog
            products.update(catalog.products)
        elif product is not None:
            products[product.name] = product
    return ReleaseCatalog(products, source=source or (base.source if base else ""),
                          date=date or (base.date if base else "")), skipped


# -- writing ------------------------------------------------------------------------------------
def catalog_to_json(catalog: ReleaseCatalog, *, licence: str | None = None) -> str:
    """The catalog as kitvet's ``kitvet_releases`` JSON (stable order, one product a block)."""
    doc: dict[str, Any] = {"kitvet_releases": RELEASES_FORMAT, "source": catalog.source,
                           "date": catalog.date}
    if licence:
        doc["licence"] = licence
    doc["products"] = {
        name: {"title": p.title, "link": p.link, "policy_link": p.policy_link,
               "cycles": [{k: v for k, v in asdict(c).items() if v not in (None, False)}
                          for c in p.cycles]}
        for name, p in sorted(catalog.products.items())}
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
