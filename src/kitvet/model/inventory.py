"""Hosts, snapshots and the columns of the software and device tables.

A :class:`Snapshot` is one inventory of one host at one time. Its software and device rows
are plain ``dict`` rows keyed by :data:`SOFTWARE_FIELDS` / :data:`DEVICE_FIELDS` while a
collector builds them (cheap, no pyarrow import on the collect path); everything after
collection works on Arrow tables with the schemas of :mod:`kitvet.model.schema`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Version of kitvet's inventory JSON format (MODEL.REVISION.ADDITION, like syft's).
INVENTORY_SCHEMA_VERSION = "1.0.0"

#: Columns of a software row. Every row carries its host, its source and where in that
#: source it was found (file and line/row/path), so every finding can point at its evidence.
SOFTWARE_FIELDS: tuple[str, ...] = (
    "host_id",
    "source",  # e.g. "dpkg", "rpm", "osquery:programs", "cyclonedx"
    "location",  # e.g. "/var/lib/dpkg/status:1234" or "hive.dat:/Software/.../Uninstall/X"
    "name",
    "version",
    "publisher",  # vendor / publisher / maintainer as the source says it
    "package_type",  # purl type: deb, rpm, apk, npm, pypi, windows, macos, chrome, firefox ...
    "arch",
    "purl",
    "cpe",
    "path",  # install location or binary path
    "sha256",
    "signer",  # code signer (Authenticode subject, Apple Team/Signing ID)
    "bundle_id",  # macOS bundle identifier, browser extension id
    "uninstall",  # uninstall command the source reports (Windows), for removal plans
)

#: Columns of a device row.
DEVICE_FIELDS: tuple[str, ...] = (
    "host_id",
    "source",
    "location",
    "bus",  # usb, pci, network, bluetooth ...
    "vendor_id",  # 4 lower-case hex digits for usb/pci
    "product_id",
    "vendor_name",
    "product_name",
    "serial",
    "mac",  # aa:bb:cc:dd:ee:ff, lower case
    "ip",
    "oui_org",  # IEEE registry organisation for the MAC
    "description",
)

#: Columns of a file row: a file a source saw on a host (a folder walk, osquery's ``file`` and
#: ``hash`` tables, a CSV file listing). Names only by default: hashes where the source gives
#: them. Ransomware sweeps read these (note names, appended extensions).
FILE_FIELDS: tuple[str, ...] = (
    "host_id",
    "source",  # e.g. "files", "osquery:file", "osquery:hash", "csv"
    "location",
    "path",  # the full path as the host wrote it
    "name",  # the file name (last path component)
    "size",
    "mtime",  # ISO 8601 UTC when the source gives it
    "sha256",
    "sha1",
    "md5",
)

#: Columns of the host table.
HOST_FIELDS: tuple[str, ...] = (
    "host_id",
    "hostname",
    "institution",
    "platform",  # linux, windows, macos, network, unknown
    "os_name",
    "os_version",
    "machine_id",
    "collected_at",  # ISO 8601 UTC
    "sources",  # comma-separated source names
)

PLATFORMS = ("linux", "windows", "macos", "network", "unknown")


@dataclass(frozen=True)
class Host:
    """One machine or network device."""

    host_id: str
    hostname: str | None = None
    institution: str | None = None
    platform: str = "unknown"
    os_name: str | None = None
    os_version: str | None = None
    machine_id: str | None = None
    collected_at: str | None = None
    sources: tuple[str, ...] = ()

    def to_row(self) -> dict[str, Any]:
        """The host as a row of the host table."""
        row = {f: getattr(self, f) for f in HOST_FIELDS}
        row["sources"] = ",".join(self.sources)
        return row


@dataclass(frozen=True)
class Skipped:
    """Something a source could not read, with the reason. Data, never an exception."""

    source: str
    reason: str
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "location": self.location, "reason": self.reason}


@dataclass(frozen=True)
class RowsFile:
    """Software rows spilled to a Parquet file (the columns of a :attr:`Snapshot.software_table`)
    so that a snapshot of a million rows is never held in memory: read a slice at a time."""

    path: Path
    num_rows: int

    def batches(self, rows: int = 65536) -> Iterator[Any]:
        """The rows as pyarrow RecordBatches of at most ``rows`` rows."""
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as pf:
            yield from pf.iter_batches(batch_size=rows)

    def to_pylist(self) -> list[dict[str, Any]]:
        """Every row as a dict (for tests and small files)."""
        import pyarrow.parquet as pq

        return list(pq.read_table(self.path).to_pylist())


@dataclass
class Snapshot:
    """One inventory of one host: its facts, its software and device rows, what was skipped.

    Rows are dicts with (a subset of) :data:`SOFTWARE_FIELDS` / :data:`DEVICE_FIELDS` /
    :data:`FILE_FIELDS`; missing keys mean null. ``host_id`` is filled from :attr:`host` when written out.
    """

    host: Host
    software: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    #: Software rows of an inventory too large for dicts (a BOM of a million components):
    #: a pyarrow Table of :data:`SOFTWARE_FIELDS` but ``host_id``, all strings, or the same
    #: rows in a :class:`RowsFile`; stored, counted and identified exactly as the same rows in
    #: :attr:`software` would be.
    software_table: Any = None

    @property
    def software_count(self) -> int:
        """Software rows, in :attr:`software` and :attr:`software_table` together."""
        extra = self.software_table.num_rows if self.software_table is not None else 0
        return len(self.software) + extra

    def add_software(self, **row: Any) -> None:
        """Add one software row (unknown keys are a programming error)."""
        _check_keys(row, SOFTWARE_FIELDS)
        self.software.append(row)

    def add_device(self, **row: Any) -> None:
        """Add one device row."""
        _check_keys(row, DEVICE_FIELDS)
        self.devices.append(row)

    def add_file(self, **row: Any) -> None:
        """Add one file row (:data:`FILE_FIELDS`)."""
        _check_keys(row, FILE_FIELDS)
        self.files.append(row)

    def skip(self, source: str, reason: str, location: str | None = None) -> None:
        """Record something that could not be read."""
        self.skipped.append(Skipped(source=source, reason=reason, location=location))


def _check_keys(row: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(row) - set(allowed)
    if unknown:
        raise TypeError(f"unknown inventory fields: {sorted(unknown)}")
