"""Arrow schemas of the bulk tables (software, devices, hosts, findings).

All columns are nullable strings except where noted: inventory from hosts is free text, and
kitvet normalises at the edges (see :mod:`kitvet.identify`) rather than in the storage type.
"""

from __future__ import annotations

import pyarrow as pa

from kitvet.model.inventory import DEVICE_FIELDS, FILE_FIELDS, HOST_FIELDS, SOFTWARE_FIELDS

SOFTWARE_SCHEMA = pa.schema([pa.field(f, pa.string()) for f in SOFTWARE_FIELDS])
DEVICE_SCHEMA = pa.schema([pa.field(f, pa.string()) for f in DEVICE_FIELDS])
HOST_SCHEMA = pa.schema([pa.field(f, pa.string()) for f in HOST_FIELDS])
FILE_SCHEMA = pa.schema([pa.field(f, pa.string()) for f in FILE_FIELDS])


def software_table(rows: list[dict]) -> pa.Table:
    """Software rows (dicts) as an Arrow table with :data:`SOFTWARE_SCHEMA`."""
    return pa.Table.from_pylist(rows, schema=SOFTWARE_SCHEMA)


def device_table(rows: list[dict]) -> pa.Table:
    """Device rows (dicts) as an Arrow table with :data:`DEVICE_SCHEMA`."""
    return pa.Table.from_pylist(rows, schema=DEVICE_SCHEMA)


def host_table(rows: list[dict]) -> pa.Table:
    """Host rows (dicts) as an Arrow table with :data:`HOST_SCHEMA`."""
    return pa.Table.from_pylist(rows, schema=HOST_SCHEMA)


def file_table(rows: list[dict]) -> pa.Table:
    """File rows (dicts) as an Arrow table with :data:`FILE_SCHEMA` (sizes as text)."""
    return pa.Table.from_pylist(
        [{**r, "size": None if r.get("size") is None else str(r["size"])} for r in rows],
        schema=FILE_SCHEMA)
