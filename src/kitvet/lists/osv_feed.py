"""Following an OSV feed: ``kitvet lists update`` fetches an ecosystem's ``all.zip`` (or any
file of OSV records) and keeps it as a kitvet list, saying what each update added,
withdrew and changed.

Configuration (``lists.toml``, beside the ``[[list]]`` entries)::

    [[osv]]
    url = "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip"
    # name = "osv-malicious-npm"      (the default: from the URL)
    # vulnerabilities = false         (true: GHSA-, PYSEC- ... records instead of MAL- ones)

OSV records carry no signature: the feed is trusted as the HTTPS server that serves it, so
its URL must be ``https://`` (plain ``http://`` only to a loopback address: a local mirror).
The feed is fetched with a conditional request into a temporary folder (bounded by
:data:`MAX_FEED_BYTES`), imported like ``kitvet lists import`` does (withdrawn records left
out, so a record withdrawn upstream leaves the list on the next update), written as a JSON
list and validated; only then does ``state.json`` point at the new copy. A failure leaves the
last good copy in use. The copy is loaded unsigned, as kitvet wrote it (``state.json`` marks it
``"kind": "osv"``); its assertions are unverified like every imported OSV record's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kitvet.errors import ListError

logger = logging.getLogger(__name__)

#: Largest feed file fetched (npm's all.zip, every npm record osv.dev has, is a few hundred MB).
MAX_FEED_BYTES = 2 * 1024 * 1024 * 1024
#: Ids of added, withdrawn, changed or removed records named per update (the rest counted).
SHOWN = 20


@dataclass(frozen=True)
class OsvFeed:
    """One configured OSV feed: where it is, the list it becomes, which records it keeps."""

    url: str
    name: str | None = None
    vulnerabilities: bool = False

    @property
    def list_name(self) -> str:
        """The name of the list the feed becomes (``osv-malicious-npm`` for
        ``.../npm/all.zip``) unless configured."""
        if self.name:
            return self.name
        parts = [p for p in urlsplit(self.url).path.split("/") if p]
        stem = Path(parts[-1]).stem if parts else "feed"
        if stem.lower() == "all" and len(parts) > 1:
            stem = parts[-2]
        stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "feed"
        return f"osv-{'vulnerabilities' if self.vulnerabilities else 'malicious'}-{stem}"[:100]


def check_feed_url(url: str, *, file: str | None = None, place: str | None = None) -> None:
    """Refuse a feed URL that is neither ``https://`` nor ``http://`` to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and _loopback(parts.hostname or ""):
        return
    raise ListError(f"an OSV feed is unsigned: only https:// URLs (or http:// to a loopback "
                    f"address) are followed: {url!r}", file=file, place=place)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class FeedChanges:
    """Records an update added, withdrew, changed and removed (gone from the feed)."""

    added: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def summary(self) -> str:
        """``3 added, 1 withdrawn, 2 changed, 0 removed``."""
        return ", ".join(f"{len(getattr(self, w))} {w}"
                         for w in ("added", "withdrawn", "changed", "removed"))

    def lines(self, shown: int = SHOWN) -> tuple[str, ...]:
        """One line per kind of change naming up to ``shown`` record ids."""
        out = []
        for what, mark in (("added", "+"), ("withdrawn", "-"), ("changed", "~"),
                           ("removed", "-")):
            ids = getattr(self, what)
            if ids:
                more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
                out.append(f"{mark} {what}: {', '.join(ids[:shown])}{more}")
        return tuple(out)


def compare(old: dict[str, Any] | None, new: dict[str, Any],
            withdrawn_ids: set[str]) -> FeedChanges:
    """What changed from the last good copy's document ``old`` to ``new`` (record ids: a
    subject's first alias); a record gone from the list is *withdrawn* when the feed withdrew
    it, *removed* when the feed no longer has it."""
    def index(doc: dict[str, Any] | None) -> dict[str, str]:
        out = {}
        for s in (doc or {}).get("subjects", []):
            rid = (s.get("aliases") or [s["id"]])[0]
            out[rid] = hashlib.sha256(json.dumps(s, sort_keys=True).encode()).hexdigest()
        return out

    before, after = index(old), index(new)
    gone = sorted(set(before) - set(after))
    return FeedChanges(
        added=tuple(sorted(set(after) - set(before))),
        withdrawn=tuple(r for r in gone if r in withdrawn_ids),
        changed=tuple(sorted(r for r in set(after) & set(before) if after[r] != before[r])),
        removed=tuple(r for r in gone if r not in withdrawn_ids))


@dataclass(frozen=True)
class FeedUpdate:
    """What happened to one OSV feed (``status``: updated or unchanged; a failure raises)."""

    status: str
    message: str
    path: Path | None
    changes: FeedChanges = FeedChanges()


def _download(client: Any, url: str, headers: dict[str, str], dest: Path
              ) -> tuple[int, Any, str]:
    """GET ``url`` into ``dest`` (bounded by :data:`MAX_FEED_BYTES`); (status, headers,
    SHA-256 of the body)."""
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 304:
            return 304, resp.headers, ""
        resp.raise_for_status()
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_FEED_BYTES:
            raise ListError(f"{url}: larger than {MAX_FEED_BYTES} bytes")
        size, digest = 0, hashlib.sha256()
        with open(dest, "wb") as fh:
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_FEED_BYTES:
                    raise ListError(f"{url}: larger than {MAX_FEED_BYTES} bytes")
                fh.write(chunk)
                digest.update(chunk)
        return resp.status_code, resp.headers, digest.hexdigest()


def _old_document(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        doc = json.loads(path.read_bytes())
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def update_feed(feed: OsvFeed, client: Any, store: Path, state: dict[str, Any]) -> FeedUpdate:
    """Fetch, import and (only if all is well) switch to a new copy of one OSV feed (raises
    :class:`~kitvet.errors.ListError` or ``httpx.HTTPError`` leaving the last good copy)."""
    from kitvet.lists.loader import load_list
    from kitvet.lists.osv_import import import_osv, malicious_only, vulnerabilities_only

    check_feed_url(feed.url)
    entry = state["lists"].get(feed.url, {})
    current = store / entry["file"] if entry.get("file") else None
    have = current is not None and current.is_file() and entry.get("kind") == "osv"
    headers = {}
    if have and entry.get("etag"):
        headers["If-None-Match"] = entry["etag"]
    if have and entry.get("last_modified"):
        headers["If-Modified-Since"] = entry["last_modified"]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    tmpdir = Path(tempfile.mkdtemp(dir=store, prefix=".fetch-"))
    try:
        raw = tmpdir / (Path(urlsplit(feed.url).path).name or "feed.json")
        status, resp_headers, feed_digest = _download(client, feed.url, headers, raw)
        if status == 304:
            entry["checked_at"] = now
            return FeedUpdate("unchanged", "not modified (conditional request)", current)
        if have and feed_digest == entry.get("feed_sha256"):
            entry.update(checked_at=now, etag=resp_headers.get("etag"),
                         last_modified=resp_headers.get("last-modified"))
            return FeedUpdate("unchanged", "same content as the last good copy", current)
        kind_for = vulnerabilities_only if feed.vulnerabilities else malicious_only
        doc, report = import_osv(raw, name=feed.list_name, kind_for=kind_for)
        doc["publisher"] = f"imported by kitvet from the OSV feed {feed.url}"[:300]
        if len(report.skipped) == report.read:  # nothing (an error page, an empty zip)
            raise ListError(f"no OSV record could be read from the feed ({report.lines()[-1]}"
                            + (f"; {report.skipped[0].file}: {report.skipped[0].reason}"
                               if report.skipped else "") + ")")
        _refuse_rollback(doc, entry, have)
        problems = [f"skipped {s.file}: {s.reason}" for s in report.skipped] + [
            f"unknown ecosystem in {s.file} ({s.record_id}): {s.reason}"
            for s in report.unknown_ecosystems]
        for line in problems[:SHOWN]:
            logger.warning("%s: %s", feed.url, line)
        if len(problems) > SHOWN:
            logger.warning("%s: and %d more", feed.url, len(problems) - SHOWN)
        data = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        final = store / f"{doc['name']}-{hashlib.sha256(data).hexdigest()[:12]}.json"
        tmp = tmpdir / final.name
        tmp.write_bytes(data)
        rl = load_list(tmp, allow_unsigned=True, vouched=True)  # validates it
        changes = compare(_old_document(current) if have else None, doc,
                          {w.record_id for w in report.withdrawn if w.record_id})
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    state["lists"][feed.url] = {
        "kind": "osv", "file": final.name, "name": rl.name, "version": rl.version,
        "signed_by": None, "date": rl.date, "feed_sha256": feed_digest,
        "etag": resp_headers.get("etag"), "last_modified": resp_headers.get("last-modified"),
        "fetched_at": now, "checked_at": now}
    if have and final == current:
        return FeedUpdate("unchanged", f"a new copy of the feed with the same records "
                                       f"({report.lines()[-1]})", final)
    message = (f"{rl.name} {rl.version}, {len(rl.subjects)} subjects (OSV feed, unsigned): "
               f"{changes.summary()}; {report.lines()[-1]}")
    return FeedUpdate("updated", message, final, changes)


def _refuse_rollback(doc: dict[str, Any], entry: dict[str, Any], have: bool) -> None:
    """A feed whose newest record is older than the last good copy's is a stale mirror (or
    a replay): refused, so that it cannot bring back records since withdrawn."""
    if have and entry.get("version") and str(doc["version"]) < str(entry["version"]):
        raise ListError(f"the feed's newest record was modified {doc['version']}, before the "
                        f"last good copy's ({entry['version']}); refused as a rollback")
