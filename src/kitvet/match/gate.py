"""Rows of long versioned key sets, selected by version as well as by key.

A vulnerability feed names most Debian and RPM packages of an estate, many times over, and
nearly always for versions the estate no longer runs. Selecting every row whose package URL
matched would copy the whole Linux part of the inventory (32 million rows at 100,000 hosts)
before a single version is checked. For a probe with many matched keys whose identifiers are
*all* versioned, the engine therefore first reads the distinct (key, package type, version)
of those keys — pool-sized, not estate-sized — checks each once against the identifiers of
its key, and keeps only the rows of a combination some identifier accepts
(:func:`register_gate`; the temporary table ``_kv_gate``). Keys with an identifier that is not
versioned are selected by key as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from kitvet.match.versions import version_matches

if TYPE_CHECKING:
    import duckdb

    from kitvet.match.probes import CompiledIdentifier, Probe

#: A probe is gated above this many matched keys whose identifiers are all versioned (below
#: it, selecting by key costs no more than the extra read of the distinct versions).
GATE_KEYS = 1000
#: Package type and version of a row, per table (as the candidates have them).
VERSION_COLS = {"software": ("package_type", "version"), "files": ("NULL", "NULL"),
                "hosts": ("NULL", "os_version"), "devices": ("bus", "NULL")}
#: Checked versions: (package type, version, identifier) -> (matched, explanation).
Checks = dict[tuple[str | None, str | None, int], tuple[bool, str]]


def gate_sql(probe: Probe) -> str:
    """The gate key of a row for ``probe``: key, package type and version in one string."""
    pt, ver = VERSION_COLS[probe.table]
    return (f"concat_ws(chr(1), {probe.key_sql}, coalesce(CAST({pt} AS VARCHAR), ''), "
            f"coalesce(CAST({ver} AS VARCHAR), ''))")


def gated_probes(probes: list[Probe], keys: list[tuple[str, str, int, str]],
                 idents: Sequence[CompiledIdentifier]) -> dict[str, tuple[list[str], list[str]]]:
    """probe -> (keys selected by version, keys selected by key) for the probes to gate."""
    names = {p.name for p in probes}
    # probe -> key -> whether every identifier of that key is versioned (one pass over keys)
    versioned: dict[str, dict[str, bool]] = defaultdict(dict)
    for probe, k, ident_id, _why in keys:
        if probe in names:
            mine = versioned[probe]
            mine[k] = mine.get(k, True) and idents[ident_id].versioned
    out = {}
    for p in probes:
        mine = versioned.get(p.name, {})
        by_version = sorted(k for k, ok in mine.items() if ok)
        if len(by_version) > GATE_KEYS:
            out[p.name] = (by_version, sorted(k for k, ok in mine.items() if not ok))
    return out


def register_gate(con: duckdb.DuckDBPyConnection, rel: str, probes: list[Probe],
                  gated: dict[str, tuple[list[str], list[str]]],
                  keys: list[tuple[str, str, int, str]], idents: Sequence[CompiledIdentifier],
                  checks: Checks, side: str | None = None) -> list[tuple[str, str]]:
    """(probe, gate key) (see :func:`gate_sql`) of ``rel``'s rows that some identifier of
    their key accepts, for the gated probes of one table; every version checked is added to
    ``checks``. ``side``: a relation of (probe, k, package_type, version) holding at least
    every distinct one of ``rel`` (the lake's side files), read instead of ``rel``."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for probe, k, ident_id, _why in keys:
        by_key[(probe, k)].append(ident_id)
    out: list[tuple[str, str]] = []
    for p in (p for p in probes if p.name in gated):
        pt, ver = VERSION_COLS[p.table]
        want = pa.table({"k": pa.array(gated[p.name][0], pa.string())})
        con.register("_kv_gate_keys", want)
        try:
            rows = con.execute(
                f"SELECT DISTINCT k, package_type, version FROM {side} WHERE probe = "
                f"'{p.name}' AND k IN (SELECT k FROM _kv_gate_keys)" if side else
                f"SELECT DISTINCT {p.key_sql} AS k, CAST({pt} AS VARCHAR), "
                f"CAST({ver} AS VARCHAR) FROM {rel} WHERE ({p.where_sql}) AND "
                f"{p.key_sql} IN (SELECT k FROM _kv_gate_keys)").fetchall()
        finally:
            con.unregister("_kv_gate_keys")
        for k, ptype, version in rows:
            ok = False
            for ident_id in by_key[(p.name, k)]:
                got = checks.get((ptype, version, ident_id))
                if got is None:
                    ident = idents[ident_id]
                    check = version_matches(ptype, version, ident.versions, ident.version_range)
                    got = checks[(ptype, version, ident_id)] = (check.matched, check.explanation)
                ok = ok or got[0]
            if ok:
                out.append((p.name, "\x01".join((k, ptype or "", version or ""))))
    return out
