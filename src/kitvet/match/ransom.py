"""The ransomware sweep: family indicators (note names, extensions) as queries over file rows.

Over a DuckDB connection with ``files`` and ``hosts`` views (an estate's lake of current
snapshots, or inventories registered from memory), :func:`sweep` returns one Arrow row per
(file, family, indicator) hit. As the review does, it works on *distinct* lower-cased file
names first — an estate has far fewer distinct names than file rows — and joins back only
the names that hit:

* exact note names: an equality join;
* extensions: the last one to four dot-separated suffixes of each name, equality-joined with
  the extensions; the few suffixes that do not start with a dot (``_x3m``) by ``ends_with``;
* patterns: RE2 regular expressions (case-insensitive), note names against the whole name,
  extensions at its end.

Ordinary note names (``readme.txt``) and ordinary file types (``.zip``) are never swept: they
would flag every machine. Patterns DuckDB's RE2 cannot compile are left out and reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from kitvet.duck import query_arrow
from kitvet.model.ransom import Family
from kitvet.ransom.patterns import ORDINARY_EXTENSIONS, ORDINARY_NOTE_NAMES

logger = logging.getLogger(__name__)

#: Columns of a sweep hit.
HIT_FIELDS: tuple[str, ...] = (
    "host_id", "hostname", "institution", "path", "name", "source", "location", "mtime",
    "family_id", "family", "indicator_kind", "indicator", "shared_by", "list_source")
_MAX_SUFFIX_PARTS = 4


@dataclass
class Indicators:
    """The indicators of a set of families as Arrow tables, and what could not be used."""

    names: pa.Table
    extensions: pa.Table
    patterns: pa.Table
    left_out: list[str] = field(default_factory=list)


def indicators(families: Iterable[Family]) -> Indicators:
    """Every sweepable note name, extension and pattern of ``families``."""
    rows: dict[str, list[dict[str, Any]]] = {"names": [], "extensions": [], "patterns": []}
    left_out: list[str] = []
    for fam in families:
        base = {"family_id": fam.id, "family": fam.name, "list_source": fam.source or ""}
        for n in fam.note_names:
            if n.lower() in ORDINARY_NOTE_NAMES:
                left_out.append(f"{fam.name}: note name {n!r} is an ordinary file name")
                continue
            rows["names"].append({**base, "value": n.lower(), "shown": n})
        for e in fam.extensions:
            if e.lower() in ORDINARY_EXTENSIONS:
                left_out.append(f"{fam.name}: extension {e!r} is an ordinary file type")
                continue
            rows["extensions"].append({**base, "value": e.lower(), "shown": e})
        for kind, pats in (("note-name-pattern", fam.note_name_patterns),
                           ("extension-pattern", fam.extension_patterns)):
            for p in pats:
                anchored = f"(?i)^(?:{p.regex})$" if kind == "note-name-pattern" \
                    else f"(?i)(?:{p.regex})$"
                rows["patterns"].append({**base, "value": anchored, "shown": p.text,
                                         "kind": kind})
    schema = pa.schema([(c, pa.string()) for c in
                        ("family_id", "family", "list_source", "value", "shown")])
    pschema = schema.append(pa.field("kind", pa.string()))
    return Indicators(
        names=pa.Table.from_pylist(rows["names"], schema=schema),
        extensions=pa.Table.from_pylist(rows["extensions"], schema=schema),
        patterns=pa.Table.from_pylist(rows["patterns"], schema=pschema),
        left_out=left_out)


def _usable_patterns(con: Any, table: pa.Table, left_out: list[str]) -> pa.Table:
    """The patterns RE2 compiles (Python's ``re`` and RE2 differ in a few constructs)."""
    keep = []
    for i, value in enumerate(table.column("value").to_pylist()):
        try:
            con.execute("SELECT regexp_matches('', ?)", [value]).fetchall()
        except Exception as e:  # duckdb.InvalidInputException: RE2 refused it
            left_out.append(f"{table.column('family')[i]}: pattern "
                            f"{table.column('shown')[i]} ({type(e).__name__})")
            continue
        keep.append(i)
    return table.take(keep)


def sweep(con: Any, families: Sequence[Family], *, files: str = "files", hosts: str = "hosts"
          ) -> tuple[pa.Table, list[str]]:
    """The files of the ``files`` view that show an indicator of ``families``, and the
    indicators that were left out (with the reason)."""
    ind = indicators(families)
    patterns = _usable_patterns(con, ind.patterns, ind.left_out)
    con.register("_rs_names", ind.names)
    con.register("_rs_exts", ind.extensions)
    con.register("_rs_pats", patterns)
    suffixes = " UNION ALL ".join(
        f"SELECT lname, '.' || array_to_string(list_slice(p, len(p) - {k - 1}, len(p)), '.') "
        f"AS suffix FROM _rs_parts WHERE len(p) > {k}" for k in range(1, _MAX_SUFFIX_PARTS + 1))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _rs_distinct AS SELECT DISTINCT lower(name) "
                    f"AS lname FROM {files} WHERE name IS NOT NULL AND name <> ''")
        con.execute("CREATE OR REPLACE TEMP VIEW _rs_parts AS SELECT lname, "
                    "string_split(lname, '.') AS p FROM _rs_distinct")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _rs_hits AS
            SELECT d.lname, i.family_id, i.family, i.list_source, 'note-name' AS kind,
                   i.shown AS indicator
              FROM _rs_distinct d JOIN _rs_names i ON d.lname = i.value
            UNION ALL
            SELECT s.lname, i.family_id, i.family, i.list_source, 'extension', i.shown
              FROM ({suffixes}) s JOIN _rs_exts i ON s.suffix = i.value
            UNION ALL
            SELECT d.lname, i.family_id, i.family, i.list_source, 'extension', i.shown
              FROM _rs_distinct d JOIN _rs_exts i
                ON NOT starts_with(i.value, '.') AND ends_with(d.lname, i.value)
            UNION ALL
            SELECT d.lname, i.family_id, i.family, i.list_source, i.kind, i.shown
              FROM _rs_distinct d JOIN _rs_pats i ON regexp_matches(d.lname, i.value)
        """)
        table = query_arrow(con, f"""
            WITH h AS (SELECT DISTINCT * FROM _rs_hits),
                 shared AS (SELECT kind, indicator, count(DISTINCT family_id) AS n
                              FROM h GROUP BY kind, indicator)
            SELECT f.host_id, ho.hostname, ho.institution, f.path, f.name, f.source,
                   f.location, f.mtime, h.family_id, h.family, h.kind AS indicator_kind,
                   h.indicator, CAST(s.n AS VARCHAR) AS shared_by, h.list_source
              FROM {files} f
              JOIN h ON lower(f.name) = h.lname
              JOIN shared s ON s.kind = h.kind AND s.indicator = h.indicator
              LEFT JOIN (SELECT DISTINCT host_id, hostname, institution FROM {hosts}) ho
                ON ho.host_id = f.host_id
             ORDER BY ho.institution NULLS LAST, f.host_id, f.path, h.family
        """)
    finally:
        for v in ("_rs_names", "_rs_exts", "_rs_pats"):
            con.unregister(v)
    return table.select(list(HIT_FIELDS)), ind.left_out


def register_snapshots(con: Any, snapshots: Iterable[Any]) -> int:
    """Register ``files`` and ``hosts`` views over in-memory snapshots; returns file rows."""
    from kitvet.model import FILE_FIELDS, HOST_FIELDS

    file_rows: list[dict[str, Any]] = []
    host_rows: list[dict[str, Any]] = []
    for snap in snapshots:
        hid = snap.host.host_id
        host_rows.append(snap.host.to_row())
        file_rows.extend({**r, "host_id": hid} for r in snap.files)
    fschema = pa.schema([(f, pa.string()) for f in FILE_FIELDS])
    hschema = pa.schema([(f, pa.string()) for f in HOST_FIELDS])
    con.register("files", pa.Table.from_pylist(
        [{k: (None if r.get(k) is None else str(r[k])) for k in FILE_FIELDS} for r in file_rows],
        schema=fschema))
    con.register("hosts", pa.Table.from_pylist(host_rows, schema=hschema))
    return len(file_rows)


#: Subject ids of incident findings: ``ransomware-<family id>`` (not a risk-list subject).
SUBJECT_PREFIX = "ransomware-"
_WHAT = {"note-name": "a ransom-note name", "extension": "an extension appended",
         "note-name-pattern": "a ransom-note name pattern",
         "extension-pattern": "an extension pattern"}


def incident_findings(hits: pa.Table, *, status: str = "review") -> pa.Table:
    """Sweep hits as rows of the findings table (:data:`kitvet.model.finding.FINDING_FIELDS`),
    class *incident*: one finding per (host, file, family), its evidence the indicators that
    matched, with the list entry that records them."""
    import hashlib
    import json

    from kitvet.model.finding import FINDING_FIELDS

    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for h in (hits.to_pylist() if hits.num_columns else []):
        key = (h["host_id"], (h["path"] or h["name"] or "").lower(), h["family_id"])
        row = by_key.get(key)
        matched = {"kind": h["indicator_kind"], "value": h["indicator"], "field": "files.name",
                   "observed": h["name"], "database": h["list_source"],
                   "shared_by": int(h["shared_by"] or 1)}
        if row is not None:
            row["_matched"].append(matched)
            continue
        subject = SUBJECT_PREFIX + h["family_id"]
        fid = hashlib.sha256("|".join([h["host_id"], "file", key[1], subject]).encode())
        by_key[key] = {
            "finding_id": fid.hexdigest()[:20], "host_id": h["host_id"],
            "hostname": h["hostname"], "institution": h["institution"], "platform": None,
            "item_type": "file", "item_key": key[1], "name": h["name"], "path": h["path"],
            "source": h["source"], "location": h["location"], "subject_id": subject,
            "subject_name": f"ransomware: {h['family']}", "list_name": None,
            "status": status, "rule": "incident: signs of a ransomware family (ransom sweep)",
            "finding_class": "incident", "_matched": [matched], "_family": h["family"]}
    rows = []
    for row in by_key.values():
        ms = row.pop("_matched")
        family = row.pop("_family")
        row["matched"] = json.dumps(ms, ensure_ascii=False)
        row["explanation"] = "; ".join(
            f"file name {m['observed']!r} fits {_WHAT.get(m['kind'], m['kind'])} recorded for "
            f"{family} ({m['value']}"
            + (f", shared by {m['shared_by']} families" if m["shared_by"] > 1 else "")
            + f"; {m['database']})" for m in ms)
        rows.append(row)
    fields = list(FINDING_FIELDS)
    return pa.Table.from_pylist([{f: r.get(f) for f in fields} for r in rows],
                                schema=pa.schema([(f, pa.string()) for f in fields]))


def sweep_snapshots(snapshots: Iterable[Any], families: Sequence[Family]
                    ) -> tuple[pa.Table, list[str]]:
    """:func:`sweep` over in-memory snapshots (inventory files), on a connection of its own."""
    import duckdb

    con = duckdb.connect()
    try:
        register_snapshots(con, snapshots)
        return sweep(con, families)
    finally:
        con.close()
