"""The software pool of a generated estate: every distinct item, as one Arrow table.

Hosts do not carry copies of strings: the generator draws row indices into this pool (numpy)
and the lake is written with ``pool.take(indices)``. Each *catalogue* (deb, rpm, windows,
macos) is a slice of products; each product a run of version rows (newest first) with a
popularity (probability a host of that catalogue has it) that falls off like Zipf's law.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from kitvet.bench import catalog
from kitvet.bench.catalog import Product
from kitvet.model.inventory import SOFTWARE_FIELDS

POOL_FIELDS = tuple(f for f in SOFTWARE_FIELDS if f != "host_id")

#: Products whose common versions are *not* listed but look close to listed ones (decoys).
_DECOYS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "deb": [("xz-utils", ("5.6.1+really5.4.5-1", "5.4.1-0.2", "5.4.5-0.3", "5.2.5-2.1~deb11u1")),
            ("liblzma5", ("5.6.1+really5.4.5-1", "5.4.1-0.2", "5.4.5-0.3", "5.2.5-2.1~deb11u1"))],
    "rpm": [("xz", ("5.2.5-8.el9_0", "5.4.4-1.el10", "5.2.4-4.el8_6")),
            ("xz-libs", ("5.2.5-8.el9_0", "5.4.4-1.el10", "5.2.4-4.el8_6"))],
}
_XZ_MAINT = "Sebastian Andrzej Siewior <sebastian@breakpoint.cc>"

#: Listed software a few hosts carry, per catalogue (name, version, publisher, extra columns).
LISTED: dict[str, list[dict[str, str]]] = {
    "windows": [
        dict(name="Kaspersky Endpoint Security for Windows", version="12.3.0.493",
             publisher="AO Kaspersky Lab", signer="AO Kaspersky Lab",
             path="C:\\Program Files (x86)\\Kaspersky Lab\\KES.12.3.0\\avp.exe"),
        dict(name="Kaspersky Security Center Network Agent", version="14.2.0.26967",
             publisher="AO Kaspersky Lab", signer="AO Kaspersky Lab",
             path="C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\klnagent.exe"),
        dict(name="Kaspersky Free", version="21.3.10.391", publisher="Kaspersky Lab ZAO",
             path="C:\\Program Files (x86)\\Kaspersky Lab\\Kaspersky Free 21.3\\avpui.exe"),
        dict(name="3CX Desktop App", version="18.12.416", publisher="3CX Ltd",
             path="C:\\Users\\user\\AppData\\Local\\Programs\\3CXDesktopApp\\3CXDesktopApp.exe"),
    ],
    "deb": [
        dict(name="xz-utils", version="5.6.1-1", publisher=_XZ_MAINT),
        dict(name="liblzma5", version="5.6.1-1", publisher=_XZ_MAINT),
        dict(name="xz-utils", version="5.6.0-0.2", publisher=_XZ_MAINT),
        dict(name="kesl", version="11.4.0-1096", publisher="AO Kaspersky Lab"),
    ],
    "rpm": [
        dict(name="xz", version="5.6.0-1.fc40", publisher="Fedora Project"),
        dict(name="xz-libs", version="5.6.0-1.fc40", publisher="Fedora Project"),
        dict(name="kesl", version="11.4.0-1096", publisher="AO Kaspersky Lab"),
    ],
    "macos": [
        dict(name="Kaspersky Internet Security.app", version="21.0.24",
             publisher="AO Kaspersky Lab", bundle_id="com.kaspersky.kis.mac",
             signer="Developer ID Application: AO Kaspersky Lab",
             path="/Applications/Kaspersky Internet Security.app"),
    ],
}
_PACKAGE_TYPE = {"windows": "windows", "deb": "deb", "rpm": "rpm", "macos": "macos"}
_SOURCE = {"windows": "osquery:programs", "deb": "osquery:deb_packages",
           "rpm": "osquery:rpm_packages", "macos": "osquery:apps"}
CATALOGUES = ("windows", "deb", "rpm", "macos")


@dataclass(frozen=True)
class Catalogue:
    """The products of one catalogue as arrays over the pool."""

    first_row: np.ndarray  # int64, pool row of each product's newest version
    n_versions: np.ndarray  # int64
    prob: np.ndarray  # float64, chance a host has the product (sums to ~items per host)
    listed_rows: np.ndarray  # int64, pool rows of listed items for this catalogue


@dataclass(frozen=True)
class Pool:
    """Every distinct software item of the estate, and the catalogues over it."""

    table: pa.Table  # POOL_FIELDS, all strings
    catalogues: dict[str, Catalogue]


def build_pool(seed: int, items_per_host: int = 1200) -> Pool:
    """The pool for ``seed`` (deterministic)."""
    rng = random.Random(f"kitvet-pool-{seed}")
    products = {
        "deb": _with_decoys(catalog.linux_products(rng, "deb"), "deb"),
        "rpm": _with_decoys(catalog.linux_products(rng, "rpm"), "rpm"),
        "windows": _interleave(catalog.windows_products(rng, 10_000),
                               catalog.windows_updates(rng, 3_000), rng),
        "macos": catalog.macos_products(rng, 5_000),
    }
    columns: dict[str, list[str | None]] = {f: [] for f in POOL_FIELDS}
    cats: dict[str, Catalogue] = {}
    for name in CATALOGUES:
        firsts, nvs = [], []
        for p in products[name]:
            firsts.append(len(columns["name"]))
            nvs.append(len(p.versions))
            for v in p.versions:
                _append(columns, _row(p, v))
        listed = []
        for item in LISTED[name]:
            listed.append(len(columns["name"]))
            _append(columns, _listed_row(name, item))
        cats[name] = Catalogue(
            first_row=np.asarray(firsts, dtype=np.int64), n_versions=np.asarray(nvs, np.int64),
            prob=_zipf_probs(len(firsts), items_per_host), listed_rows=np.asarray(listed, np.int64))
    table = pa.table({f: pa.array(columns[f], pa.string()) for f in POOL_FIELDS})
    return Pool(table=table, catalogues=cats)


def _with_decoys(products: list[Product], fmt: str) -> list[Product]:
    decoys = [Product(name=n, publisher=_XZ_MAINT if fmt == "deb" else "Red Hat, Inc.",
                      package_type=fmt, versions=vs, source=f"osquery:{fmt}_packages",
                      arch="amd64" if fmt == "deb" else "x86_64",
                      location=("/var/lib/dpkg/status#" if fmt == "deb"
                                else "/var/lib/rpm/rpmdb.sqlite#") + n,
                      purl_ns="debian" if fmt == "deb" else "redhat")
              for n, vs in _DECOYS[fmt]]
    names = {d.name for d in decoys}
    rest = [p for p in products if p.name not in names]
    return rest[:40] + decoys + rest[40:]  # popular: most hosts have xz


def _interleave(programs: list[Product], updates: list[Product], rng: random.Random) -> list[Product]:
    out = list(programs)
    for u in updates:
        out.insert(rng.randrange(len(out) + 1), u)
    return out


def _zipf_probs(n: int, target: float, exponent: float = 0.95, cap: float = 0.97) -> np.ndarray:
    """Inclusion probabilities by popularity rank, scaled so they sum to ``target``."""
    base = (np.arange(n, dtype=np.float64) + 8.0) ** -exponent
    lo, hi = 0.0, target * 10.0
    for _ in range(60):
        c = (lo + hi) / 2
        if np.minimum(base * c, cap).sum() < target:
            lo = c
        else:
            hi = c
    return np.minimum(base * lo, cap)


def _purl(p: Product, version: str) -> str | None:
    if p.package_type == "deb":
        return f"pkg:deb/debian/{p.name}@{version}?arch={p.arch}"
    if p.package_type == "rpm":
        return f"pkg:rpm/redhat/{p.name}@{version}?arch={p.arch}"
    if p.package_type == "brew":
        return f"pkg:brew/{p.name}@{version}"
    return None


def _row(p: Product, version: str) -> dict[str, str | None]:
    return dict(source=p.source, location=p.location, name=p.name, version=version or None,
                publisher=p.publisher, package_type=p.package_type, arch=p.arch,
                purl=_purl(p, version), cpe=None, path=p.path, sha256=None, signer=p.signer,
                bundle_id=p.bundle_id, uninstall=p.uninstall)


def _listed_row(cat: str, item: dict[str, str]) -> dict[str, str | None]:
    p = Product(name=item["name"], publisher=item["publisher"], package_type=_PACKAGE_TYPE[cat],
                versions=(item["version"],), source=_SOURCE[cat],
                arch={"deb": "amd64", "rpm": "x86_64"}.get(cat), path=item.get("path"),
                bundle_id=item.get("bundle_id"), signer=item.get("signer"),
                location=f"{_SOURCE[cat]}#{item['name']}")
    return _row(p, item["version"])


def _append(columns: dict[str, list[str | None]], row: dict[str, str | None]) -> None:
    for f in POOL_FIELDS:
        columns[f].append(row.get(f))
