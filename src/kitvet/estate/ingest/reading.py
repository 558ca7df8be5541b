"""Reading one upload: its spooled body inflated into a work folder, its format recognised,
its snapshots read with the importers of ``kitvet import`` and checked against the limits."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from kitvet.errors import KitvetError
from kitvet.estate.ingest.limits import sniff
from kitvet.model import Snapshot
from kitvet.store.spool import IngestRefused, Spool, inflate_to


def read_job(spool: Spool, name: str, opts: dict[str, Any], work: Path, *,
             institution: str | None, max_inventory_bytes: int, max_items: int,
             spill: Path | None = None) -> tuple[str, list[Snapshot]]:
    """Inflate a job's body into ``work`` (named as the upload's host or file) and read it;
    (format, snapshots). A large BOM's rows go to the Parquet file ``spill``."""
    body = spool.body(name)
    if not body.exists():
        raise IngestRefused(500, "the spooled upload is missing")
    gz = True if opts.get("encoding") in ("gzip", "x-gzip") else None
    tmp = work / ".inflating"
    head = inflate_to(body, tmp, gzip=gz, limit=max_inventory_bytes, offset=spool.offset(name))
    if not head.strip():
        raise IngestRefused(400, "the request body is empty", place="body")
    if opts.get("file"):  # the CLI: the file's own name (importers read suffixes)
        final = work / Path(str(opts["file"])).name.removesuffix(".gz")
    else:
        final = work / (f"{opts.get('host') or 'upload'}"
                        f"{'.xml' if head.lstrip()[:1] == b'<' else '.json'}")
    tmp.rename(final)
    fmt = opts.get("format")
    if opts.get("any_format"):
        from kitvet.sources.registry import detect, importer

        try:
            fmt = importer(fmt).name if fmt else detect(final).name
        except KitvetError as e:
            raise IngestRefused(415, e.message, place=opts.get("file")) from e
    else:
        fmt = sniff(final, head, fmt, opts.get("content_type"))
    origin = str(opts.get("origin") or "")
    snaps = read_file(final, fmt=fmt, institution=institution,
                      check_institution=bool(opts.get("check_institution", True)),
                      max_items=max_items, origin=origin, spill=spill)
    return fmt, snaps


def read_file(path: Path, *, fmt: str, institution: str | None, check_institution: bool,
              max_items: int, origin: str = "", spill: Path | None = None) -> list[Snapshot]:
    """Read one upload's file into snapshots, refusing what cannot be stored. A large
    CycloneDX JSON BOM is read as a stream (:mod:`kitvet.sources.cyclonedx_stream`). Rows
    say they were found in ``origin`` + the file's name (the CLI: the file's own folder)."""
    from kitvet.sources import cyclonedx_stream as stream
    from kitvet.sources.registry import importer

    try:
        if fmt == "cyclonedx" and path.stat().st_size >= stream.STREAM_BYTES \
                and _first_byte(path) == b"{":
            snaps = stream.read_json_stream(path, institution=institution, max_items=max_items,
                                            shown_as=origin + path.name, spill=spill)
        else:
            snaps = importer(fmt).read(path, institution=institution)
            _relative_locations(snaps, f"{path.parent}/", origin)
    except stream.TooManyItems as e:
        raise IngestRefused(413, f"the snapshot holds more than the limit of {max_items} "
                            "inventory items per snapshot (max_snapshot_items)",
                            place=e.place) from e
    except KitvetError as e:
        raise IngestRefused(400, e.message, place=e.place or "body") from e
    except (ValueError, UnicodeError, RecursionError) as e:
        raise IngestRefused(400, f"cannot read the {fmt} document: {e}", place="body") from e
    if not snaps:
        raise IngestRefused(400, f"the {fmt} document holds no host inventory", place="body")
    for s in snaps:
        where = f"host {s.host.host_id[:100]}"
        if check_institution and s.host.institution != institution:
            raise IngestRefused(403, f"this token sends inventory for {institution!r}, not "
                                f"{(s.host.institution or '')[:100]!r}", place=where)
        items = s.software_count + len(s.devices) + len(s.files)
        if items > max_items:
            raise IngestRefused(413, f"the snapshot holds {items} inventory items, more than "
                                f"the limit of {max_items} per snapshot (max_snapshot_items)",
                                place=where)
    return snaps


def _relative_locations(snaps: list[Snapshot], prefix: str, origin: str) -> None:
    """Rows say where they were found in ``origin`` instead of the spool's work folder
    (``upload.json:…``), so the same upload sent twice gives the same snapshot (the id hashes
    locations) and the CLI's rows name the file it was given."""
    n = len(prefix)
    for s in snaps:
        for rows in (s.software, s.devices, s.files):
            for r in rows:
                loc = r.get("location")
                if isinstance(loc, str) and loc.startswith(prefix):
                    r["location"] = origin + loc[n:]
        s.skipped[:] = [dataclasses.replace(k, location=origin + k.location[n:])
                        if k.location and k.location.startswith(prefix) else k
                        for k in s.skipped]


def _first_byte(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
