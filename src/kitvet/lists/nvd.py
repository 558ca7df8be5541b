"""CPE applicability from NVD: which versions of which CPE-named products a CVE affects.

OSV records name packages by purl ecosystems; they cannot say "Apache HTTP Server 2.4.49" as
nmap or a CycloneDX ``cpe`` sees it. NVD's configuration data can: each CVE's
``configurations[].nodes[].cpeMatch[]`` gives a CPE 2.3 ``criteria`` and, for ranges,
``versionStartIncluding`` / ``versionStartExcluding`` / ``versionEndIncluding`` /
``versionEndExcluding``. This module reads the NVD CVE API 2.0 JSON (a response page
``{"vulnerabilities": [{"cve": {...}}]}``, one ``cve`` object, or a folder of them) into a list
document: one ``product-version`` subject per CVE, its id as alias, one ``cpe`` identifier per
vulnerable product (the ``part:vendor:product`` prefix) limited to the versions NVD names, and
one ``vulnerable-version`` assertion whose authority is NVD. The CVE id then joins KEV
(:func:`kitvet.lists.kev.with_kev`).

Only ``vulnerable: true`` matches count; negated nodes are left out. In an AND configuration
the ``vulnerable: false`` matches are the context the vulnerable product must run on or with
("running on Linux"): where every one of them is an operating system of a platform kitvet
knows (Linux, Windows, macOS), the identifier is limited to hosts of those platforms; other
contexts (hardware, another application, an unknown system) cannot be checked from inventory,
and the identifier's label and the assertion's scope say so. A CVE NVD has not analysed (no
configurations) or whose every match is unusable is skipped with its file and reason, as is a
malformed record; the others are kept.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION

logger = logging.getLogger(__name__)

AUTHORITY = "US National Institute of Standards and Technology (NIST), National Vulnerability Database"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CTL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# cpe:2.3:part:vendor:product:version:... (components separated by unescaped colons)
_CPE_SPLIT = re.compile(r"(?<!\\):")
_BOUNDS = (("versionStartIncluding", ">="), ("versionStartExcluding", ">"),
           ("versionEndIncluding", "<="), ("versionEndExcluding", "<"))
_VERS_CHARS = re.compile(r"^[A-Za-z0-9.+_~-]{1,100}$")


@dataclass(frozen=True)
class NvdSkip:
    """A record (or a match of one) that could not be used, with its file, place and reason."""

    file: str
    place: str
    reason: str

    def line(self) -> str:
        """``FILE: PLACE: reason``."""
        return f"{self.file}: {self.place}: {self.reason}"


def _text(v: Any, limit: int) -> str:
    return _CTL.sub(" ", str(v or "")).strip()[:limit]


def cpe_prefix(criteria: str) -> tuple[str, str | None] | None:
    """(``cpe:2.3:part:vendor:product:``, version or None for ``*``/``-``) of a CPE 2.3 name."""
    parts = _CPE_SPLIT.split(criteria.strip())
    if len(parts) < 6 or parts[0].lower() != "cpe" or parts[1] != "2.3":
        return None
    part, vendor, product, version = (p.lower() for p in parts[2:6])
    if part not in ("a", "o", "h") or vendor in ("", "*", "-") or product in ("", "*", "-"):
        return None
    return f"cpe:2.3:{part}:{vendor}:{product}:", (None if version in ("*", "-", "")
                                                   else version.replace("\\", ""))


def _constraint(m: dict[str, Any], place: str, file: str, skipped: list[NvdSkip]
                ) -> dict[str, Any] | None:
    """The identifier of one vulnerable cpeMatch, or None (skipped with a reason)."""
    crit = m.get("criteria")
    got = cpe_prefix(crit) if isinstance(crit, str) else None
    if got is None:
        skipped.append(NvdSkip(file, place, f"criteria {crit!r} is not a CPE 2.3 name of a "
                                            "product"))
        return None
    prefix, version = got
    ident: dict[str, Any] = {"kind": "cpe", "value": prefix}
    bounds = [(op, m[k]) for k, op in _BOUNDS if m.get(k) not in (None, "")]
    for _op, v in bounds:
        if not isinstance(v, str) or not _VERS_CHARS.match(v):
            skipped.append(NvdSkip(file, place, f"version bound {v!r} is not a version"))
            return None
    if version and bounds:
        skipped.append(NvdSkip(file, place, f"{crit} names a version and a range"))
        return None
    if version:
        if not _VERS_CHARS.match(version):
            skipped.append(NvdSkip(file, place, f"version {version!r} is not a version"))
            return None
        ident["versions"] = [version]
    elif bounds:
        ident["version_range"] = "vers:generic/" + "|".join(f"{op}{v}" for op, v in bounds)
    else:  # NVD says every version: a versioned statement all the same
        ident["version_range"] = "vers:generic/*"
    return ident


#: CPE 2.3 ``o:vendor:product`` prefixes of operating systems -> host platform.
_OS_PLATFORMS = (("o:linux:linux_kernel", "linux"), ("o:microsoft:windows", "windows"),
                 ("o:apple:mac_os", "macos"), ("o:apple:macos", "macos"))


def _context(conf: dict[str, Any]) -> tuple[list[str], list[str]] | None:
    """(platforms, CPE names) an AND configuration's vulnerable products must run on or with;
    platforms empty where a context is not an operating system kitvet can tell from host
    facts. None for a configuration without context."""
    if str(conf.get("operator", "")).upper() != "AND":
        return None
    names = [m["criteria"] for node in conf.get("nodes") or [] if isinstance(node, dict)
             and not node.get("negate") for m in node.get("cpeMatch") or []
             if isinstance(m, dict) and m.get("vulnerable") is False
             and isinstance(m.get("criteria"), str)]
    if not names:
        return None
    platforms = []
    for name in names:
        body = name.lower().removeprefix("cpe:2.3:")
        got = next((p for pre, p in _OS_PLATFORMS if body.startswith(pre)), None)
        if got is None:
            return [], names
        platforms.append(got)
    return sorted(set(platforms)), names


def _product(name: str) -> str:
    """``vendor product [version]`` of a CPE 2.3 name (the name itself if it is none)."""
    got = cpe_prefix(name)
    if got is None:
        return _text(name, 200)
    _cpe, _v, _part, vendor, product = got[0].split(":")[:5]
    return f"{vendor} {product}" + (f" {got[1]}" if got[1] else "")


def _identifiers(cve: dict[str, Any], file: str, skipped: list[NvdSkip]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ci, conf in enumerate(cve.get("configurations") or []):
        if not isinstance(conf, dict):
            continue
        ctx = _context(conf)
        for ni, node in enumerate(conf.get("nodes") or []):
            if not isinstance(node, dict) or node.get("negate"):
                continue
            for mi, m in enumerate(node.get("cpeMatch") or []):
                if not isinstance(m, dict) or m.get("vulnerable") is not True:
                    continue
                place = f"{cve['id']} configurations[{ci}].nodes[{ni}].cpeMatch[{mi}]"
                ident = _constraint(m, place, file, skipped)
                if ident is None:
                    continue
                if ctx is not None:
                    platforms, names = ctx
                    shown = ", ".join(_product(n) for n in names[:5])
                    if platforms:
                        ident["platforms"] = platforms
                        ident["context"] = f"running on/with {shown}"
                    else:
                        ident["context"] = f"running on/with {shown} (not checked)"
                key = json.dumps(ident, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    out.append(ident)
    return out


def _english(cve: dict[str, Any]) -> str:
    for d in cve.get("descriptions") or []:
        if isinstance(d, dict) and d.get("lang") == "en":
            return _text(d.get("value"), 3000)
    return ""


def cve_subject(cve: Any, *, file: str, place: str, source: str,
                skipped: list[NvdSkip]) -> dict[str, Any] | None:
    """One NVD ``cve`` object as a list subject, or None (skipped with a reason)."""
    if not isinstance(cve, dict):
        skipped.append(NvdSkip(file, place, "not an object"))
        return None
    cid = cve.get("id")
    if not isinstance(cid, str) or not _CVE.match(cid):
        skipped.append(NvdSkip(file, place, f"id {cid!r} is not a CVE id"))
        return None
    if str(cve.get("vulnStatus", "")).lower() == "rejected":
        skipped.append(NvdSkip(file, cid, "rejected by its CNA"))
        return None
    if not cve.get("configurations"):
        skipped.append(NvdSkip(file, cid, "no configurations (NVD has not analysed which "
                                          "products it affects): unknown products"))
        return None
    idents = _identifiers(cve, file, skipped)
    if not idents:
        skipped.append(NvdSkip(file, cid, "no vulnerable CPE match kitvet can use"))
        return None
    published = str(cve.get("published") or "")[:10]
    desc = _english(cve)
    products = sorted({i["value"].split(":")[3] + " " + i["value"].split(":")[4]
                       for i in idents})
    scope = "Affected: " + "; ".join(_describe(i) for i in idents)
    for i in idents:
        i["source"] = source
        ctx = i.pop("context", None)
        i["label"] = f"{cid} (NVD CPE configuration{'; ' + ctx if ctx else ''})"
    assertion: dict[str, Any] = {
        "authority": AUTHORITY, "authority_id": "us-nist-nvd", "jurisdiction": "US",
        "kind": "vulnerable-version", "instrument": f"{cid}: {desc[:1500]}".strip(": "),
        "citation": cid, "scope": scope[:8000],
        "reference_url": f"https://nvd.nist.gov/vuln/detail/{cid}", "source": source,
        "source_quality": "official"}
    if re.match(r"^\d{4}-\d{2}-\d{2}$", published):
        assertion["date"] = published
    else:
        assertion["date_note"] = "NVD gives no publication date"
    return {"id": cid.lower(), "name": f"{cid} ({', '.join(products)[:250]})",
            "kind": "product-version", "aliases": [cid],
            "description": desc or None, "identifiers": idents, "assertions": [assertion]}


def _describe(ident: dict[str, Any]) -> str:
    what = ident["value"].rstrip(":")
    ctx = f" ({ident['context']})" if ident.get("context") else ""
    if ident.get("versions"):
        return f"{what} {', '.join(ident['versions'])}{ctx}"
    return f"{what} {ident['version_range'].split('/', 1)[1]}{ctx}"


def _cves(obj: Any) -> list[Any] | None:
    """The ``cve`` objects of an API 2.0 page, or of one ``cve`` object (None: neither)."""
    if isinstance(obj, dict) and isinstance(obj.get("vulnerabilities"), list):
        return [v.get("cve") if isinstance(v, dict) else v for v in obj["vulnerabilities"]]
    if isinstance(obj, dict) and isinstance(obj.get("cve"), dict):
        return [obj["cve"]]
    if isinstance(obj, dict) and "configurations" in obj and "id" in obj:
        return [obj]
    return None


def looks_like_nvd(obj: Any) -> bool:
    """An NVD CVE API 2.0 page (``format: NVD_CVE``) or one of its ``cve`` objects."""
    if isinstance(obj, dict) and obj.get("format") == "NVD_CVE":
        return True
    cves = _cves(obj)
    return cves is not None and bool(cves) and isinstance(cves[0], dict) \
        and "configurations" in cves[0]


def nvd_to_document(paths: list[Path], *, name: str = "nvd-cpe"
                    ) -> tuple[dict[str, Any], list[NvdSkip]]:
    """NVD CVE API 2.0 files (or folders of ``*.json``) as a list document, and what was
    skipped. A file that is not NVD JSON is skipped with its reason; none at all is an error."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.rglob("*.json")) if p.is_dir() else [p]
    subjects: dict[str, dict[str, Any]] = {}
    skipped: list[NvdSkip] = []
    dates: list[str] = []
    read = 0
    for f in files:
        try:
            obj = json.loads(f.read_bytes())
        except (OSError, ValueError) as e:
            skipped.append(NvdSkip(f.name, "file", f"not JSON ({e})"))
            continue
        cves = _cves(obj)
        if cves is None:
            skipped.append(NvdSkip(f.name, "file", "not NVD CVE API 2.0 JSON"))
            continue
        read += 1
        stamp = _text(obj.get("timestamp"), 40) if isinstance(obj, dict) else ""
        if stamp[:10]:
            dates.append(stamp[:10])
        source = (f"NVD CVE API 2.0 ({f.name}" + (f", {stamp}" if stamp else "") + ")")
        for n, cve in enumerate(cves):
            s = cve_subject(cve, file=f.name, place=f"vulnerabilities[{n}]", source=source,
                            skipped=skipped)
            if s is not None:
                if s["id"] in subjects:
                    skipped.append(NvdSkip(f.name, s["aliases"][0], "listed twice (the "
                                                                     "first is kept)"))
                else:
                    subjects[s["id"]] = s
    if not read:
        raise ListError("no NVD CVE API 2.0 JSON found", file=", ".join(str(p) for p in paths))
    date = max(dates) if dates else "1970-01-01"
    doc = {"kitvet_list": LIST_FORMAT_VERSION, "name": name,
           "publisher": "NIST NVD (imported by kitvet)", "version": date, "date": date,
           "description": f"CPE applicability of {len(subjects)} CVEs from NVD's "
                          "configuration data.",
           "subjects": list(subjects.values())}
    return doc, skipped
