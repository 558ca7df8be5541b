"""Proof that the ban is in force on each host: osquery queries over what the exports put on
hosts (``kitvet enforce attest``), and the comparison of their results with the ledger
(``kitvet enforce verify --attestation``).

Every query returns exactly one row per host (scalar sub-queries, so an absent file is a NULL,
not a silence): ``kitvet_attest``, ``artefact``, ``path``, ``sha256`` (file digest, osquery's
``hash`` table), ``mtime`` and ``detail`` (``present`` for a file whose content is made on the host,
the AppLocker rule ids under the registry key). A host's rules are **in force** when the digest is
the current export's, **stale** when it is an older export's (the ledger has it), **altered** when
it is neither, **missing** when nothing is there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitvet.enforce.header import one_line
from kitvet.enforce.ledger import Artefact, Record, sha256
from kitvet.enforce.osquery_sql import lit
from kitvet.errors import EnforceError

STATES = ("in force", "stale", "altered", "missing", "no report")
#: Longest result-log line read, and most rows kept (a hostile log cannot exhaust memory).
MAX_LINE = 4 << 20
MAX_ROWS = 2_000_000
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class Deployed:
    """One artefact as the ledger knows it: the current record and the older ones."""

    artefact: Artefact
    record: Record
    older: tuple[tuple[Artefact, Record], ...]

    @property
    def key(self) -> tuple[str, str]:
        """(artefact name, path)."""
        return self.artefact.name, self.artefact.path


def deployed(records: Iterable[Record], targets: Iterable[str] = ()) -> list[Deployed]:
    """Per (artefact, path): the latest record's artefact and the older ones (ledger order)."""
    wanted = set(targets)
    seen: dict[tuple[str, str], list[tuple[Artefact, Record]]] = {}
    for r in sorted(records, key=lambda r: r.line):
        if wanted and r.target not in wanted:
            continue
        for a in r.artefacts:
            seen.setdefault((a.name, a.path), []).append((a, r))
    out = [Deployed(v[-1][0], v[-1][1], tuple(v[:-1])) for v in seen.values()]
    return sorted(out, key=lambda d: d.key)


def query_name(d: Deployed) -> str:
    """The pack query name of an artefact (unique per artefact and path)."""
    return f"kitvet_attest_{d.artefact.name.replace('-', '_')}_{sha256(d.artefact.path)[:8]}"


def attest_query(a: Artefact) -> str:
    """One osquery query returning one row: what the host has of ``a``."""
    head = (f"SELECT 'kitvet' AS kitvet_attest, {lit(a.name)} AS artefact, {lit(a.path)} AS path")
    p = lit(a.path)
    if a.check == "file":
        return (f"{head}, (SELECT sha256 FROM hash WHERE path = {p}) AS sha256, "
                f"(SELECT mtime FROM file WHERE path = {p}) AS mtime, NULL AS detail;")
    if a.check == "exists":
        return (f"{head}, NULL AS sha256, (SELECT mtime FROM file WHERE path = {p}) AS mtime, "
                f"(SELECT 'present' FROM file WHERE path = {p}) AS detail;")
    if a.check == "registry":
        collections = sorted({i.split("/", 1)[0] for i in a.ids}) or ["exe"]
        keys = ", ".join(lit(f"{a.path}\\{c.capitalize()}") for c in collections)
        sub = (f"SELECT lower(substr(key, {len(a.path) + 2}) || '/' || name) AS k FROM registry "
               f"WHERE key IN ({keys}) AND type = 'subkey' ORDER BY k")
        return (f"{head}, NULL AS sha256, NULL AS mtime, "
                f"(SELECT group_concat(k, ',') FROM ({sub})) AS detail;")
    raise EnforceError(f"unknown attestation check {a.check!r}")


def attest_pack(records: Iterable[Record], *, targets: Iterable[str] = (),
                interval: int = 3600) -> dict[str, Any]:
    """An osquery pack with one attestation query per deployed artefact."""
    items = deployed(records, targets)
    if not items:
        raise EnforceError("the ledger holds no deployable export (kitvet enforce export -o "
                           "FILE for usbguard, nac --format nftables, wdac, applocker or santa "
                           "records one)")
    queries = {}
    for d in items:
        a, r = d.artefact, d.record
        queries[query_name(d)] = {
            "query": attest_query(a), "interval": interval, "platform": a.platform,
            "snapshot": True,
            "description": one_line(f"kitvet attestation: {a.name} at {a.path} — current export "
                                    f"of {r.date} ({r.target}, policy {r.policy}, recorded "
                                    f"{r.recorded_at})", 500)}
    return {"kitvet": {"generator": "kitvet enforce attest", "artefacts": len(queries),
                       "exports": sorted({d.record.export_sha256 for d in items})},
            "queries": queries}


@dataclass(frozen=True)
class HostRow:
    """One attestation row reported by one host."""

    host: str
    artefact: str
    path: str
    sha256: str | None
    detail: str | None
    at: int  # unixTime of the report


def read_results(paths: Iterable[Path]) -> tuple[list[HostRow], list[str]]:
    """Attestation rows from osquery result logs (snapshot or differential JSON lines, as
    osquery's filesystem logger and Fleet's log destinations write them); the newest row per
    (host, artefact, path). Bad lines are reported, never fatal; values are bounded."""
    best: dict[tuple[str, str, str], HostRow] = {}
    problems: list[str] = []
    count = [0]
    for path in paths:
        try:
            with Path(path).open("rb") as f:
                _read_log(path, f, best, problems, count)
        except OSError as e:
            raise EnforceError(f"{path}: cannot read attestation results ({e.strerror})") from e
    return sorted(best.values(), key=lambda r: (r.host, r.artefact, r.path)), problems


def _read_log(path: Path, f: Iterable[bytes], best: dict[tuple[str, str, str], HostRow],
              problems: list[str], count: list[int]) -> None:
    for n, raw in enumerate(f, 1):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE:
            problems.append(f"{path}:{n}: line longer than {MAX_LINE} bytes — skipped")
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            problems.append(f"{path}:{n}: not JSON — skipped")
            continue
        for row in _event_rows(event):
            count[0] += 1
            if count[0] > MAX_ROWS:
                raise EnforceError(f"{path}:{n}: more than {MAX_ROWS} attestation rows")
            hr = _host_row(event, row)
            if hr is None:
                problems.append(f"{path}:{n}: attestation row without a host or artefact — "
                                "skipped")
                continue
            key = (hr.host, hr.artefact, hr.path)
            if key not in best or hr.at >= best[key].at:
                best[key] = hr


def _event_rows(event: Any) -> list[dict[str, Any]]:
    if not isinstance(event, dict):
        return []
    if isinstance(event.get("snapshot"), list):
        rows = event["snapshot"]
    elif isinstance(event.get("columns"), dict) and event.get("action", "added") == "added":
        rows = [event["columns"]]
    else:
        return []
    return [r for r in rows if isinstance(r, dict) and r.get("kitvet_attest") == "kitvet"]


def _text(v: Any, limit: int) -> str | None:
    if v is None or v == "":
        return None
    return one_line(str(v), limit)


def _host_row(event: dict[str, Any], row: dict[str, Any]) -> HostRow | None:
    deco = event.get("decorations")
    deco = deco if isinstance(deco, dict) else {}
    host = _text(deco.get("hostname") or event.get("hostIdentifier"), 255)
    artefact, path = _text(row.get("artefact"), 100), _text(row.get("path"), 1000)
    if not host or not artefact or not path:
        return None
    digest = row.get("sha256")
    digest = str(digest).lower() if isinstance(digest, str) and _HEX64.match(digest) else None
    try:
        at = int(event.get("unixTime") or 0)
    except (TypeError, ValueError):
        at = 0
    return HostRow(host, artefact, path, digest, _text(row.get("detail"), 200_000), at)


@dataclass(frozen=True)
class Attestation:
    """The state of one artefact on one host."""

    host: str
    artefact: str
    path: str
    state: str  # one of STATES
    detail: str


def check(records: list[Record], rows: list[HostRow], *,
          hosts: Iterable[tuple[str, str]] = ()) -> list[Attestation]:
    """Each reported (host, artefact) against the ledger; with ``hosts`` ((host, platform) of
    the inventory), also the hosts that did not report an artefact of their platform."""
    items = {d.key: d for d in deployed(records)}
    out: list[Attestation] = []
    reported: set[tuple[str, tuple[str, str]]] = set()
    for r in rows:
        d = items.get((r.artefact, r.path))
        if d is None:
            continue  # an artefact the ledger does not know: not ours to judge
        reported.add((r.host, d.key))
        state, detail = _state(d, r)
        out.append(Attestation(r.host, r.artefact, r.path, state, detail))
    platforms = {"macos": "darwin"}
    for host, platform in hosts:
        plat = platforms.get(platform, platform)
        for key, d in items.items():
            if d.artefact.platform == plat and (host, key) not in reported:
                out.append(Attestation(host, d.artefact.name, d.artefact.path, "no report",
                                       "no attestation result from this host"))
    return sorted(out, key=lambda a: (a.host, a.artefact, a.path))


def _state(d: Deployed, r: HostRow) -> tuple[str, str]:
    cur, rec = d.artefact, d.record
    current = f"current: export of {rec.date} recorded {rec.recorded_at}"
    if cur.check == "exists":
        return (("in force", f"present ({current})") if r.detail == "present"
                else ("missing", f"no file at {cur.path}"))
    if cur.check == "registry":
        known = set(cur.ids).union(*(set(a.ids) for a, _ in d.older))
        have = sorted({i.strip().lower() for i in (r.detail or "").split(",")} & known)
        if not have:
            return "missing", f"none of kitvet's rules under {cur.path}"
        observed = sha256(",".join(have))
    else:
        if r.sha256 is None:
            return "missing", f"no file at {cur.path}"
        observed = r.sha256
    if observed == cur.sha256:
        return "in force", current
    for a, old in reversed(d.older):
        if a.sha256 == observed:
            return "stale", f"the export of {old.date} recorded {old.recorded_at}; {current}"
    what = "rules" if cur.check == "registry" else "sha256 " + observed[:16] + "…"
    return "altered", f"{what} match no export in the ledger; {current}"
