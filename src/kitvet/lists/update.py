"""Fetching configured lists: conditional HTTP(S) requests, verification, last good copy.

Configuration (``$XDG_CONFIG_HOME/kitvet/lists.toml``, default ``~/.config/kitvet/lists.toml``)::

    [[list]]
    url = "https://cert.example.org/kitvet/cert-example.yaml"
    # signature = "https://cert.example.org/kitvet/cert-example.yaml.sig"   (the default)

    [[osv]]      # an OSV feed, kept as a list (see kitvet.lists.osv_feed)
    url = "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip"

Store: ``$KITVET_LISTS_DIR``, else ``<data dir>/lists`` where the data dir is
``$KITVET_DATA_DIR`` or ``$XDG_DATA_HOME/kitvet/data`` (``~/.local/share/kitvet/data``).
Each good copy is kept as ``<stem>-<sha256[:12]>.yaml`` with its ``.sig``; ``state.json``
(replaced atomically) points at the current copy with its ETag / Last-Modified. A new copy
is fetched into a temporary folder and verified there; only then does ``state.json`` move to
it, so an update that fails half-way (network, bad signature, invalid list) leaves the last
good copy in use. Offline, the last good copies are used as they are.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kitvet.errors import ListError
from kitvet.lists.cache import STATE_NAME, lists_dir, read_state, write_state
from kitvet.lists.format import MAX_LIST_BYTES
from kitvet.lists.osv_feed import OsvFeed, check_feed_url, update_feed
from kitvet.lists.signing import MAX_SIG_BYTES, sig_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListSource:
    """One configured list URL (and its detached signature URL)."""

    url: str
    signature: str | None = None

    @property
    def signature_url(self) -> str:
        """Where the signature is fetched from (``<url>.sig`` unless configured)."""
        return self.signature or self.url + ".sig"


@dataclass(frozen=True)
class UpdateResult:
    """What happened to one configured list."""

    url: str
    status: str  # updated | unchanged | failed
    message: str
    path: Path | None = None  # the copy in use after the update (None if there is none)
    details: tuple[str, ...] = ()  # lines under the message (an OSV feed's changes)


def config_path() -> Path:
    """``lists.toml`` in kitvet's config directory."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kitvet" / "lists.toml"


def read_config(path: Path | None = None) -> list[ListSource | OsvFeed]:
    """The configured lists and OSV feeds (none when the file does not exist)."""
    import tomllib

    path = path or config_path()
    if not path.exists():
        return []
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ListError(f"cannot read list configuration: {e}", file=str(path)) from e
    out: list[ListSource | OsvFeed] = []
    for i, entry in enumerate(doc.get("list", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ListError("each [[list]] needs a url", file=path.name, place=f"list[{i}]")
        _check_url(entry["url"], file=path.name, place=f"list[{i}].url")
        sig = entry.get("signature")
        if sig is not None:
            _check_url(sig, file=path.name, place=f"list[{i}].signature")
        out.append(ListSource(url=entry["url"], signature=sig))
    for i, entry in enumerate(doc.get("osv", [])):
        place = f"osv[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ListError("each [[osv]] needs a url", file=path.name, place=place)
        check_feed_url(entry["url"], file=path.name, place=f"{place}.url")
        name, vulns = entry.get("name"), entry.get("vulnerabilities", False)
        if name is not None and not (isinstance(name, str) and _NAME.fullmatch(name)):
            raise ListError(f"{name!r} is not a list name (lower case letters, digits, '-')",
                            file=path.name, place=f"{place}.name")
        if not isinstance(vulns, bool):
            raise ListError("vulnerabilities is true or false", file=path.name,
                            place=f"{place}.vulnerabilities")
        out.append(OsvFeed(entry["url"], name=name, vulnerabilities=vulns))
    return out


_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


def _check_url(url: str, *, file: str | None = None, place: str | None = None) -> None:
    if urlsplit(url).scheme not in ("https", "http"):
        raise ListError(f"only https:// and http:// list URLs are supported: {url!r}",
                        file=file, place=place)


def _get(client: Any, url: str, headers: dict[str, str], limit: int) -> tuple[int, bytes, Any]:
    """GET with a size bound; returns (status, body, headers)."""
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 304:
            return 304, b"", resp.headers
        resp.raise_for_status()
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ListError(f"{url}: larger than {limit} bytes")
        body = bytearray()
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise ListError(f"{url}: larger than {limit} bytes")
        return resp.status_code, bytes(body), resp.headers


def _stem(url: str) -> str:
    name = Path(urlsplit(url).path).name or "list.yaml"
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).stem)[:60] or "list"
    return stem


def update_one(
    src: ListSource, client: Any, store: Path, state: dict[str, Any], *,
    allow_unsigned: bool = False, trusted_keys: Iterable[str | os.PathLike[str]] | None = None,
) -> UpdateResult:
    """Fetch, verify and (only if all is well) switch to a new copy of one list."""
    from kitvet.lists.loader import load_list

    entry = state["lists"].get(src.url, {})
    current = store / entry["file"] if entry.get("file") else None
    have = current is not None and current.is_file()
    headers = {}
    if have and entry.get("etag"):
        headers["If-None-Match"] = entry["etag"]
    if have and entry.get("last_modified"):
        headers["If-Modified-Since"] = entry["last_modified"]
    status, body, resp_headers = _get(client, src.url, headers, MAX_LIST_BYTES)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if status == 304:
        entry["checked_at"] = now
        return UpdateResult(src.url, "unchanged", "not modified (conditional request)", current)
    sig_bytes = _fetch_signature(client, src, allow_unsigned)
    digest = hashlib.sha256(body).hexdigest()
    final = store / f"{_stem(src.url)}-{digest[:12]}.yaml"
    if have and final == current and sig_bytes == _read_or_none(sig_path(final)):
        entry["checked_at"] = now
        return UpdateResult(src.url, "unchanged", "same content as the last good copy", current)
    tmpdir = Path(tempfile.mkdtemp(dir=store, prefix=".fetch-"))
    try:
        tmp = tmpdir / final.name
        tmp.write_bytes(body)
        if sig_bytes is not None:
            sig_path(tmp).write_bytes(sig_bytes)
        rl = load_list(tmp, allow_unsigned=allow_unsigned, trusted_keys=trusted_keys)
        _refuse_rollback(rl, entry)
        if sig_bytes is not None:
            os.replace(sig_path(tmp), sig_path(final))
        else:
            sig_path(final).unlink(missing_ok=True)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    state["lists"][src.url] = {
        "file": final.name, "name": rl.name, "version": rl.version, "signed_by": rl.signed_by,
        "date": rl.date,
        "etag": resp_headers.get("etag"), "last_modified": resp_headers.get("last-modified"),
        "fetched_at": now, "checked_at": now,
    }
    signed = f"signed by key {rl.signed_by}" if rl.signed_by else "UNSIGNED"
    return UpdateResult(src.url, "updated", f"{rl.name} {rl.version}, {len(rl.subjects)} "
                        f"subjects, {signed}", final)


def _refuse_rollback(rl: Any, entry: dict[str, Any]) -> None:
    """Refuse a validly signed list older than the last good copy of the same list: a mirror
    or an attacker replaying an old release must not silently undo newer entries."""
    if entry.get("name") == rl.name and entry.get("date") and str(rl.date) < entry["date"]:
        raise ListError(f"{rl.name} {rl.version} is dated {rl.date}, older than the last good "
                        f"copy ({entry.get('version')}, {entry['date']}); refused as a rollback")


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _fetch_signature(client: Any, src: ListSource, allow_unsigned: bool) -> bytes | None:
    import httpx

    try:
        return _get(client, src.signature_url, {}, MAX_SIG_BYTES)[1]
    except httpx.HTTPStatusError as e:
        if e.response.status_code == 404 and allow_unsigned:
            logger.warning("%s: no signature; accepted unsigned (--allow-unsigned)", src.url)
            return None
        raise ListError(f"cannot fetch the signature {src.signature_url}: "
                        f"HTTP {e.response.status_code}") from e


def update_lists(
    sources: Iterable[ListSource | OsvFeed], *, store: Path | None = None, allow_unsigned: bool = False,
    trusted_keys: Iterable[str | os.PathLike[str]] | None = None, timeout: float = 30.0,
    client: Any = None,
) -> list[UpdateResult]:
    """Update every source; a failure of one never touches another or its last good copy."""
    import httpx

    store = store or lists_dir()
    store.mkdir(parents=True, exist_ok=True)
    state = read_state(store)
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=True,
                                    headers={"User-Agent": "kitvet-lists-update"})
    results = []
    try:
        for src in sources:
            if isinstance(src, OsvFeed):
                check_feed_url(src.url)
            else:
                _check_url(src.url)
                if src.url.startswith("http://"):
                    logger.warning("%s: plain HTTP; only the signature protects this list",
                                   src.url)
            try:
                if isinstance(src, OsvFeed):
                    fu = update_feed(src, client, store, state)
                    results.append(UpdateResult(src.url, fu.status, fu.message, fu.path,
                                                fu.changes.lines()))
                    continue
                results.append(update_one(src, client, store, state,
                                          allow_unsigned=allow_unsigned,
                                          trusted_keys=trusted_keys))
            except (ListError, httpx.HTTPError, OSError) as e:
                kept = state["lists"].get(src.url, {}).get("file")
                keep = f"; keeping last good copy {kept}" if kept else "; no copy yet"
                results.append(UpdateResult(src.url, "failed", f"{e}{keep}",
                                            store / kept if kept else None))
    finally:
        if own:
            client.close()
    write_state(store, state)
    _prune(store, state)
    return results


def _prune(store: Path, state: dict[str, Any]) -> None:
    """Remove copies no longer referenced by the state (after it was written)."""
    keep = {e.get("file") for e in state["lists"].values()}
    keep |= {f"{k}.sig" for k in keep if k}
    for p in [*store.glob("*.yaml*"), *store.glob("*.json")]:
        if p.name not in keep and p.name != STATE_NAME:
            p.unlink(missing_ok=True)
