"""A vulnerability feed of realistic size for the benchmark, and a KEV catalogue over it.

Real feeds (OSV's Debian, Red Hat and language ecosystems, NVD's CPE configurations) hold
hundreds of thousands of affected ranges, most about packages a given estate does not run, and
most of the rest about versions long replaced: a managed estate runs the fixed version of
nearly everything, and the hosts behind on updates carry a handful of vulnerable versions, not
a thousand. :func:`feed_document` makes one with the same shape the importers produce — one
``product-version`` subject per record, its CVE as alias, one ``purl`` identifier per affected
package whose ``version_range`` holds one to three ``introduced``/``fixed`` intervals, one
``vulnerable-version`` assertion — deterministically from the seed:

* a quarter of the affected packages are Debian and RPM packages of the estate's own pool
  (:func:`kitvet.bench.pool.build_pool`). Most of their records are *history*: fixed in (or
  before) the oldest version any host carries, so they match no host. A few
  (:data:`CURRENT_SHARE`) are *current*: fixed in the newest version of the package, so only
  the hosts that run an older one are affected — on the generated estates ~15 vulnerable
  versions per Linux host on average, and no Windows or macOS host (the feed names none);
* the rest name packages the estate does not have (most of any real feed);
* :func:`kev_catalog` lists ~1,400 of the records' CVEs (KEV's size) with due dates, in CISA's
  format, so the review joins them as it joins the real catalogue.

The ids and CVE numbers are synthetic (``CVE-2099-…``): benchmark data, never a real claim.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from kitvet.lists.format import LIST_FORMAT_VERSION
from kitvet.match.fastvers import KEYS
from kitvet.match.versions import upstream_of

#: Bump when the feed changes (cached feeds are keyed by it).
FEED_VERSION = "2"
DEFAULT_RANGES = 200_000
KEV_SIZE = 1_400
#: Share of the records naming an estate package that are fixed only in its newest version.
CURRENT_SHARE = 0.015
_SOURCE = "kitvet benchmark feed (synthetic)"


def _pool_packages(seed: int) -> list[tuple[str, str, list[str]]]:
    """(purl type, name, upstream versions oldest first) of the estate pool's deb/rpm packages."""
    from kitvet.bench.pool import build_pool

    pool = build_pool(seed)
    cols = pool.table.select(["package_type", "name", "version"]).to_pydict()
    seen: dict[tuple[str, str], set[str]] = {}
    for pt, name, version in zip(cols["package_type"], cols["name"], cols["version"],
                                 strict=True):
        if pt in ("deb", "rpm") and name and version:
            seen.setdefault((pt, name), set()).add(upstream_of(pt, version))
    return [(pt, name, sorted(vs, key=KEYS[pt])) for (pt, name), vs in seen.items()]


def _intervals(rng: random.Random, versions: list[str] | None, n: int) -> list[tuple[str, str]]:
    """``n`` sorted, disjoint (introduced, fixed) pairs. Over an estate package's versions
    (oldest first): history (fixed by its oldest version, no host affected) or, for
    :data:`CURRENT_SHARE` of them, one interval fixed by its newest version."""
    if versions:
        if len(versions) >= 2 and rng.random() < CURRENT_SHARE:
            return [(rng.choice(("0", *versions[:-1])), versions[-1])]
        return [("0", versions[0])]
    base = rng.randint(0, 9)
    out, minor = [], rng.randint(0, 5)
    for _ in range(n):
        lo = minor
        minor += rng.randint(1, 4)
        out.append((f"{base}.{lo}.{rng.randint(0, 9)}", f"{base}.{minor}.0"))
        minor += rng.randint(1, 3)
    return out


def feed_document(seed: int = 1, ranges: int = DEFAULT_RANGES) -> dict[str, Any]:
    """The feed as a list document with at least ``ranges`` affected ranges."""
    rng = random.Random(f"kitvet-vulnfeed-{seed}")
    pool = _pool_packages(seed)
    subjects: list[dict[str, Any]] = []
    total = 0
    n = 0
    while total < ranges:
        n += 1
        cve = f"CVE-2099-{100000 + n}"
        idents = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            k = rng.choice((1, 1, 2, 3))
            if rng.random() < 0.25:
                pt, name, versions = rng.choice(pool)
            else:
                pt, name, versions = rng.choice(("deb", "rpm")), f"bench-lib{rng.randrange(40_000)}", None
            pairs = _intervals(rng, versions, k)
            total += len(pairs)
            ns = "debian" if pt == "deb" else "redhat"
            idents.append({"kind": "purl", "value": f"pkg:{pt}/{ns}/{name}",
                           "version_range": f"vers:{pt}/" + "|".join(
                               f">={a}|<{b}" for a, b in pairs),
                           "source": _SOURCE, "label": f"{pt} package {name}"})
        subjects.append({
            "id": cve.lower(), "name": f"{cve} ({idents[0]['label']})", "kind": "product-version",
            "aliases": [cve], "identifiers": idents,
            "assertions": [{"authority": "kitvet benchmark", "kind": "vulnerable-version",
                            "instrument": f"{cve}: synthetic record", "citation": cve,
                            "date": "2099-01-01", "source": _SOURCE}]})
    return {"kitvet_list": LIST_FORMAT_VERSION, "name": "bench-vulnerabilities",
            "publisher": "kitvet benchmark", "version": FEED_VERSION, "date": "2099-01-01",
            "description": f"{len(subjects)} synthetic records, {total} affected ranges",
            "subjects": subjects}


def count_ranges(doc: dict[str, Any]) -> int:
    """Affected ranges (introduced/fixed intervals) of a feed document."""
    return sum(i["version_range"].count(">=") for s in doc["subjects"]
               for i in s["identifiers"] if i.get("version_range"))


def kev_catalog(doc: dict[str, Any], seed: int = 1, size: int = KEV_SIZE) -> dict[str, Any]:
    """A KEV catalogue (CISA's JSON format) naming ``size`` of the feed's CVEs."""
    rng = random.Random(f"kitvet-vulnfeed-kev-{seed}")
    cves = rng.sample([s["aliases"][0] for s in doc["subjects"]], size)
    vulns = [{"cveID": c, "vendorProject": "Bench", "product": f"Product {n % 300}",
              "vulnerabilityName": f"{c} (synthetic)", "dateAdded": "2099-01-02",
              "shortDescription": "Synthetic benchmark entry.",
              "requiredAction": "Apply updates per vendor instructions.",
              "dueDate": "2099-01-23",
              "knownRansomwareCampaignUse": rng.choice(("Known", "Unknown")), "notes": ""}
             for n, c in enumerate(cves)]
    return {"title": "kitvet benchmark KEV", "catalogVersion": "2099.01.02",
            "dateReleased": "2099-01-02T00:00:00.000Z", "count": len(vulns),
            "vulnerabilities": vulns}


def cached_feed(cache: Path, seed: int = 1, ranges: int = DEFAULT_RANGES) -> tuple[Path, Path]:
    """(feed JSON, KEV JSON) in ``cache``, generated once per (seed, ranges, version)."""
    feed = cache / f"vulnfeed-s{seed}-r{ranges}-v{FEED_VERSION}.json"
    kev = cache / f"vulnfeed-s{seed}-r{ranges}-v{FEED_VERSION}-kev.json"
    if not (feed.exists() and kev.exists()):
        doc = feed_document(seed, ranges)
        cache.mkdir(parents=True, exist_ok=True)
        tmp = feed.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        kev.write_text(json.dumps(kev_catalog(doc, seed)))
        tmp.replace(feed)
    return feed, kev
