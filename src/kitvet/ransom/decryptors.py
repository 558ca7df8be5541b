"""Free decryptors named by a family's references, read from the addresses alone.

The MISP galaxy gives no decryptor field: some of a family's ``refs`` are decryptor pages
(``decrypter.emsisoft.com/xorist``), downloads (``…/demonslay335/AlphaDecrypter.zip``) or
articles whose address says a decryptor or the keys were released. :func:`from_refs` reads
those, conservatively:

* ``tool`` — the address is a decryptor's page or download at a publisher named by the
  address (Emsisoft, Kaspersky, Avast, No More Ransom, a GitHub account, a downloads folder);
* ``tool-index`` — the address is a publisher's list of decryptors that does not say which
  tool applies;
* ``report`` — an article whose address says a decryptor, a decryption tool or the master
  keys were released. The publisher of the tool is named only if the address names it.

An address that mentions decryption without saying a decryptor exists (a forum help topic,
"can't decrypt", "decryptors no longer work", a ransomware that "decrypts for free if you
read two articles") is *not* a decryptor; it is kept among the family's references, which
``kitvet ransom decryptors`` shows when no decryptor is known. Nothing is verified by
visiting the page: every entry is ``verified: false`` with the reference as its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlparse

from kitvet.model.ransom import Decryptor

#: Host (suffix) -> publisher, for tool pages and downloads.
_PUBLISHERS = {
    "emsisoft.com": "Emsisoft",
    "kaspersky.com": "Kaspersky",
    "avast.com": "Avast",
    "avast.io": "Avast",
    "avg.com": "AVG",
    "bitdefender.com": "Bitdefender",
    "nomoreransom.org": "No More Ransom (Europol, Dutch police and partners)",
    "tesorion.nl": "Tesorion",
    "eset.com": "ESET",
    "welivesecurity.com": "ESET",
    "trendmicro.com": "Trend Micro",
    "mcafee.com": "McAfee",
    "fortinet.com": "Fortinet",
}
#: Publisher names an article's address may carry ("kaspersky-releases-decryptor").
_NAMED = {"kaspersky": "Kaspersky", "eset": "ESET", "emsisoft": "Emsisoft", "avast": "Avast",
          "avg": "AVG", "bitdefender": "Bitdefender", "kaseya": "Kaseya", "fbi": "FBI",
          "tesorion": "Tesorion", "trend-micro": "Trend Micro", "mcafee": "McAfee",
          "europol": "Europol", "cycraft": "CyCraft", "fortiguard": "Fortinet FortiGuard"}
_INDEX_PAGES = (
    re.compile(r"^decrypter\.emsisoft\.com/?$"),
    re.compile(r"^noransom\.kaspersky\.com/?$"),
    re.compile(r"^www\.avast\.com/ransomware-decryption-tools"),
    re.compile(r"^www\.nomoreransom\.org/[a-z]{2}/decryption-tools"),
)
_TOOL_PAGES = (
    re.compile(r"^decrypter\.emsisoft\.com/(?:download/)?(?P<tool>[\w.-]+)/?$"),
    re.compile(r"^www\.emsisoft\.com/[a-z]{2}/ransomware-decryption/(?P<tool>[\w.-]+)/?$"),
    re.compile(r"^(?:media|files)\.(?:kaspersky|avast)\.com/.*/(?P<tool>[\w.-]+\.(?:zip|exe))$"),
    re.compile(r"^(?:www\.)?nomoreransom\.org/uploads/(?P<tool>[\w.-]+)$"),
)
_DOWNLOADS = re.compile(r"^download\.bleepingcomputer\.com/(?P<who>[\w.-]+)/(?P<tool>[\w.-]+)$")
_GITHUB = re.compile(r"^github\.com/(?P<who>[\w.-]+)/(?P<tool>[\w.-]+)")
_SAYS_DECRYPTOR = re.compile(
    r"decrypt[eo]r|decryption[-_ ]tool|decrypt[-_]tool|decryption[-_]keys?|master[-_]"
    r"(?:decryption[-_])?keys?|releases?[-_].*keys|decrypted|free[-_]decrypt|decoder|cracked|"
    r"password[-_]generator|is-decryptable|decryption-(?:now-)?available", re.I)
_SAYS_NOT = re.compile(
    r"can-?t-decrypt|cannot-decrypt|no-longer-work|strike-back|demands|kilobytes|if-you-read|"
    r"if-you-play|decrypting-russian|missed-opportunity|could-be-decryptable|help-topic|"
    r"support-topic|help-support|id-ransomware\.blogspot|ransomlook\.io|breaks-public-decryptor|"
    r"themed-decryptor|chance-of-free|unpacker|source-code", re.I)
#: A forum thread counts only when its title says a tool was made or released.
_FORUM = re.compile(r"/forums?/")
_FORUM_SAYS = re.compile(r"released|has-been-made|easily-decrypted", re.I)
_DATE = re.compile(r"/(20[0-3]\d|199\d)/(\d{1,2})(?:/(\d{1,2}))?/")
_COVERS = re.compile(r"(some-versions|version-[\d-]+|v\d[\d.-]*|\d+-\d+-and-\d+-\d+|"
                     r"recent-variants|all-versions)", re.I)


def _host_publisher(host: str) -> str | None:
    for suffix, name in _PUBLISHERS.items():
        if host == suffix or host.endswith("." + suffix):
            return name
    return None


def _date(path: str) -> tuple[str | None, str]:
    m = _DATE.search(path)
    if not m:
        return None, "the source gives no date"
    year, month, day = m.group(1), int(m.group(2)), m.group(3)
    if not 1 <= month <= 12:
        return None, "the source gives no date"
    if day and 1 <= int(day) <= 31:
        return f"{year}-{month:02d}-{int(day):02d}", "date of the source article, from its address"
    return None, f"the source article is from {year}-{month:02d} (its address); no day given"


def _covers(family: str, path: str) -> str:
    m = _COVERS.search(path)
    said = f"; the source's address says '{m.group(1).replace('-', ' ')}'" if m else ""
    return f"the variants named by the galaxy entry '{family}'{said}; which versions the tool " \
           "decrypts is not stated in the data"


def classify(url: str, family: str, source: str) -> Decryptor | None:
    """The decryptor ``url`` names for ``family``, or None when it names none."""
    parsed = urlparse(url.strip())
    host = (parsed.hostname or "").lower()
    path = unquote(parsed.path)
    where = f"{host}{path}"
    if not host or _SAYS_NOT.search(url):
        return None
    if _FORUM.search(path) and not _FORUM_SAYS.search(path):
        return None
    date, date_note = _date(path)
    common: dict[str, Any] = {"url": url.strip(), "source": source,
                              "source_quality": "third-party-code",
                              "covers": _covers(family, path), "verified": False}
    for rx in _INDEX_PAGES:
        if rx.search(where):
            return Decryptor(kind="tool-index", publisher=_host_publisher(host), date=date,
                             date_note=date_note,
                             note="a list of the publisher's decryptors; the source does not "
                                  "say which one applies", **common)
    for rx in _TOOL_PAGES:
        m = rx.search(where)
        if m:
            return Decryptor(kind="tool", tool=m.group("tool"), publisher=_host_publisher(host),
                             date=date, date_note=date_note, **common)
    m = _DOWNLOADS.search(where)
    if m and _SAYS_DECRYPTOR.search(m.group("tool")):
        return Decryptor(kind="tool", tool=m.group("tool"), date=date, date_note=date_note,
                         publisher=f"{m.group('who')} (a download hosted by BleepingComputer)",
                         **common)
    m = _GITHUB.search(where)
    if m and re.search("decrypt", path, re.I):
        return Decryptor(kind="tool", tool=f"{m.group('who')}/{m.group('tool')}", date=date,
                         date_note=date_note, publisher=f"GitHub account {m.group('who')}",
                         **common)
    if _SAYS_DECRYPTOR.search(path) or (host.startswith("decryptors.") and path.strip("/")):
        slug = path.lower()
        named = [name for key, name in _NAMED.items() if re.search(rf"\b{key}\b", slug)]
        publisher = named[0] if named else _host_publisher(host)
        return Decryptor(kind="report", publisher=publisher, date=date, date_note=date_note,
                         note="an article whose address says a decryptor or the keys were "
                              "released; the tool itself is not named in the data", **common)
    return None


def from_refs(refs: Iterable[str], family: str, source: str) -> list[Decryptor]:
    """Every decryptor the references of ``family`` name (see the module notes)."""
    out = []
    for ref in refs:
        d = classify(ref, family, source)
        if d is not None:
            out.append(d)
    return out
