"""Write a generated estate as osquery result logs or kitvet JSON, for ingest benchmarks.

Both are built by DuckDB straight from the lake (grouping rows per host into nested lists),
one output file per lake batch, so no per-row Python runs. osquery logs follow osqueryd's
result-log shape: one *snapshot* event per (host, scheduled query) with every column a string
(``numerics: false``), the host in ``hostIdentifier`` and ``decorations``; the queries read the
tables of osquery's specs (``programs``, ``deb_packages``, ``rpm_packages``, ``apps``,
``usb_devices``, ``pci_devices``, ``arp_cache``, ``os_version``, ``system_info``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from kitvet.bench.estate import GenerateError, read_manifest

logger = logging.getLogger(__name__)

#: ``calendarTime`` / ``unixTime`` of the exported events (the generator's collection time).
UNIX_TIME = 1793606400
CALENDAR_TIME = "Mon Nov  2 08:00:00 2026 UTC"

_S = "coalesce({}, '')"

#: osquery table -> (lake table, filter, struct fields as SQL over the lake's columns)
OSQUERY_QUERIES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "programs": ("software", "source = 'osquery:programs'", [
        ("name", "name"), ("version", "version"), ("install_location", "path"),
        ("install_source", "''"), ("language", "''"), ("publisher", "publisher"),
        ("uninstall_string", "uninstall"),
        ("install_date", "'20260101'"),
        ("identifying_number", "regexp_extract(uninstall, '\\{[0-9A-F-]+\\}')"),
    ]),
    "deb_packages": ("software", "source = 'osquery:deb_packages'", [
        ("name", "name"), ("version", "version"), ("source", "''"), ("size", "'1024'"),
        ("arch", "arch"), ("revision", "regexp_extract(version, '-([^-]+)$', 1)"),
        ("status", "'install ok installed'"), ("maintainer", "publisher"),
        ("section", "'misc'"), ("priority", "'optional'"), ("admindir", "'/var/lib/dpkg'"),
    ]),
    "rpm_packages": ("software", "source = 'osquery:rpm_packages'", [
        ("name", "name"), ("version", "regexp_extract(version, '^(.*)-[^-]+$', 1)"),
        ("release", "regexp_extract(version, '-([^-]+)$', 1)"), ("source", "''"),
        ("size", "'1024'"), ("sha1", "''"), ("arch", "arch"), ("epoch", "''"),
        ("install_time", "'1793606400'"), ("vendor", "publisher"), ("package_group", "''"),
    ]),
    "apps": ("software", "source = 'osquery:apps'", [
        ("name", "name"), ("path", "path"), ("bundle_executable", "replace(name, '.app', '')"),
        ("bundle_identifier", "bundle_id"), ("bundle_name", "replace(name, '.app', '')"),
        ("bundle_short_version", "version"), ("bundle_version", "version"),
        ("bundle_package_type", "'APPL'"), ("copyright", "'© ' || publisher"),
    ]),
    "usb_devices": ("devices", "bus = 'usb'", [
        ("usb_address", "'1'"), ("usb_port", "'1'"), ("vendor", "vendor_name"),
        ("vendor_id", "vendor_id"), ("version", "'0100'"), ("model", "product_name"),
        ("model_id", "product_id"), ("serial", "serial"), ("class", "'0'"),
        ("subclass", "'0'"), ("protocol", "'0'"), ("removable", "'1'"),
    ]),
    "pci_devices": ("devices", "bus = 'pci'", [
        ("pci_slot", "'0000:00:00.0'"), ("pci_class", "description"), ("driver", "''"),
        ("vendor", "vendor_name"), ("vendor_id", "vendor_id"), ("model", "product_name"),
        ("model_id", "product_id"),
    ]),
    "arp_cache": ("devices", "bus = 'network'", [
        ("address", "ip"), ("mac", "mac"), ("interface", "'eth0'"), ("permanent", "'0'"),
    ]),
}


def _files(estate: Path, batch: str) -> dict[str, str]:
    lake = estate / "lake"
    return {k: str(lake / k / f"{batch}.parquet") for k in ("software", "devices", "hosts")}


def _batches(estate: Path, max_hosts: int | None) -> list[tuple[str, int]]:
    """(batch, hosts to take from it) covering ``max_hosts`` hosts (all when None)."""
    out, left = [], max_hosts
    for batch in read_manifest(estate)["batches"]:
        n = pq.read_metadata(_files(estate, batch)["hosts"]).num_rows
        take = n if left is None else min(n, left)
        if take <= 0:
            break
        out.append((batch, take))
        if left is not None:
            left -= take
    return out


def _copy(con: duckdb.DuckDBPyConnection, sql: str, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        con.execute(f"COPY ({sql}) TO '{_q(str(tmp))}' (FORMAT JSON)")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _q(text: str) -> str:
    return text.replace("'", "''")


def export_osquery(estate: Path, out: Path, *, max_hosts: int | None = None,
                   progress: Callable[[int], None] | None = None) -> list[Path]:
    """Write the estate (or its first ``max_hosts`` hosts) as osquery result logs."""
    estate, out = Path(estate), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    written = []
    try:
        for batch, take in _batches(estate, max_hosts):
            f = _files(estate, batch)
            con.execute(f"CREATE OR REPLACE TEMP TABLE h AS SELECT * FROM read_parquet('{_q(f['hosts'])}') "
                        f"ORDER BY host_id LIMIT {take}")
            selects = [_os_events(), _system_events()]
            for query, (table, where, fields) in OSQUERY_QUERIES.items():
                selects.append(_table_events(query, f[table], where, fields))
            sql = " UNION ALL ".join(selects) + " ORDER BY hostIdentifier, name"
            dest = out / f"{batch}.log"
            _copy(con, sql, dest)
            written.append(dest)
            if progress:
                progress(take)
    except duckdb.Error as e:
        raise GenerateError(f"cannot export osquery logs: {e}", file=str(estate)) from e
    finally:
        con.close()
    return written


def _envelope(query: str) -> str:
    return (f"'snapshot' AS action, 'pack/kitvet/{query}' AS name, h.host_id AS hostIdentifier, "
            f"'{CALENDAR_TIME}' AS calendarTime, {UNIX_TIME} AS unixTime, 0 AS epoch, "
            "0 AS counter, false AS numerics, "
            "struct_pack(host_uuid := h.host_id, hostname := h.hostname) AS decorations")


def _table_events(query: str, file: str, where: str, fields: list[tuple[str, str]]) -> str:
    row = ", ".join(f"\"{k}\" := {_S.format(v)}" for k, v in fields)
    return (f"SELECT to_json(list(struct_pack({row}))) AS snapshot, {_envelope(query)} "
            f"FROM read_parquet('{_q(file)}') t JOIN h USING (snapshot_id) "
            f"WHERE {where} GROUP BY h.host_id, h.hostname")


def _os_events() -> str:
    return ("SELECT to_json([struct_pack(name := h.os_name, version := h.os_version, "
            "major := split_part(h.os_version, '.', 1), minor := coalesce(nullif(split_part("
            "h.os_version, '.', 2), ''), '0'), patch := '0', build := '', "
            "platform := CASE h.platform WHEN 'windows' THEN 'windows' WHEN 'macos' THEN 'darwin' "
            "ELSE CASE WHEN h.os_name LIKE 'Debian%' THEN 'debian' ELSE 'rhel' END END, "
            "platform_like := CASE h.platform WHEN 'linux' THEN 'debian' ELSE '' END, "
            "codename := '')]) AS snapshot, "
            + _envelope("os_version") + " FROM h")


def _system_events() -> str:
    return ("SELECT to_json([struct_pack(hostname := h.hostname, uuid := h.host_id, "
            "cpu_brand := 'Intel(R) Core(TM) i5-1145G7 CPU @ 2.60GHz', "
            "hardware_vendor := 'Dell Inc.', hardware_model := 'Latitude 5420', "
            "hardware_serial := upper(substr(h.machine_id, 1, 7)), "
            "computer_name := h.hostname)]) AS snapshot, "
            + _envelope("system_info") + " FROM h")


def export_kitvet(estate: Path, out: Path, *, max_hosts: int | None = None,
                  progress: Callable[[int], None] | None = None) -> list[Path]:
    """Write the estate (or its first ``max_hosts`` hosts) as kitvet inventory JSON documents."""
    from kitvet.model.inventory import (
        DEVICE_FIELDS,
        HOST_FIELDS,
        INVENTORY_SCHEMA_VERSION,
        SOFTWARE_FIELDS,
    )

    estate, out = Path(estate), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    written = []
    sw = ", ".join(f"{c} := t.{c}" for c in SOFTWARE_FIELDS if c != "host_id")
    dv = ", ".join(f"{c} := t.{c}" for c in DEVICE_FIELDS if c != "host_id")
    hf = ", ".join(f"{c} := h.{c}" for c in HOST_FIELDS)
    try:
        for batch, take in _batches(estate, max_hosts):
            f = _files(estate, batch)
            con.execute(f"CREATE OR REPLACE TEMP TABLE h AS SELECT * FROM read_parquet('{_q(f['hosts'])}') "
                        f"ORDER BY host_id LIMIT {take}")
            sql = (
                f"WITH s AS (SELECT snapshot_id, list(struct_pack({sw})) AS rows FROM "
                f"read_parquet('{_q(f['software'])}') t SEMI JOIN h USING (snapshot_id) GROUP BY 1), "
                f"d AS (SELECT snapshot_id, list(struct_pack({dv})) AS rows FROM "
                f"read_parquet('{_q(f['devices'])}') t SEMI JOIN h USING (snapshot_id) GROUP BY 1) "
                f"SELECT '{INVENTORY_SCHEMA_VERSION}' AS kitvet_inventory, "
                "'kitvet bench generate' AS generator, "
                f"list(struct_pack(host := struct_pack({hf}), software := coalesce(s.rows, []), "
                "devices := coalesce(d.rows, []), skipped := [])) AS snapshots "
                "FROM h LEFT JOIN s USING (snapshot_id) LEFT JOIN d USING (snapshot_id)"
            )
            dest = out / f"{batch}.json"
            _copy(con, sql, dest)
            written.append(dest)
            if progress:
                progress(take)
    except duckdb.Error as e:
        raise GenerateError(f"cannot export kitvet JSON: {e}", file=str(estate)) from e
    finally:
        con.close()
    return written
