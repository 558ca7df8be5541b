"""Inventory of a Linux root: the live system ("/") or a mounted image, container or backup.

:func:`collect` reads the host facts, every package database present (dpkg, rpm, apk) and,
on the live system only, the PCI/USB devices from sysfs and the network neighbours. Each
collector that cannot read something records a :class:`~kitvet.model.Skipped` with the reason;
collection itself never fails because of what it finds on the host.

This module is on the path of ``kitvet collect``: keep its imports light (no pyarrow, duckdb,
rich, jinja2 ...). Collectors are imported when used.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from kitvet.errors import KitvetError
from kitvet.model import Host, Snapshot
from kitvet.sources.hostfacts import host_facts, under

logger = logging.getLogger(__name__)

NOT_LIVE = "not a live system"


def is_live(root: Path) -> bool:
    """True when ``root`` is this running system's own root."""
    try:
        return root.resolve() == Path("/").resolve()
    except OSError:
        return False


def collect(root: Path = Path("/"), *, institution: str | None = None,
            host_id: str | None = None, sysfs: Path = Path("/sys"),
            proc: Path = Path("/proc")) -> Snapshot:
    """One snapshot of the Linux system at ``root``.

    ``sysfs`` and ``proc`` are where the live system's /sys and /proc are (parameters for
    tests); they are read only when ``root`` is the live root.
    """
    root = Path(root)
    facts = host_facts(root)
    if not host_id and not facts.machine_id and not facts.hostname:
        # Nothing names this system: the mount point at least keeps two images apart.
        from kitvet.sources.hostfacts import host_id_from_name

        host_id = host_id_from_name(f"root:{root.resolve()}")
    snap = Snapshot(host=Host(host_id=host_id or facts.host_id))
    vendor = facts.os_id
    used: list[str] = []

    def run(name: str, fn: Callable[[], object]) -> None:
        try:
            if fn() is not False:
                used.append(name)
        except KitvetError as e:
            snap.skip(name, e.message, location=e.file)
        except Exception as e:  # a collector bug must not lose the other collectors' rows
            logger.exception("%s collector failed", name)
            snap.skip(name, f"collector failed: {type(e).__name__}: {e}")

    from kitvet.sources import apk, dpkg

    run("dpkg", lambda: dpkg.collect(snap, root, vendor=vendor))
    run("rpm", lambda: _rpm(snap, root, vendor))
    run("apk", lambda: apk.collect(snap, root, vendor=vendor))
    if not {"dpkg", "rpm", "apk"} & set(used):
        snap.skip("packages", "no dpkg, rpm or apk database found", location=str(root))
    if is_live(root):
        from kitvet.sources import neighbours
        from kitvet.sources import sysfs as sysfs_mod

        run("sysfs", lambda: sysfs_mod.collect(snap, sysfs))
        run("neighbours", lambda: neighbours.collect(snap, proc))
    else:
        snap.skip("sysfs", NOT_LIVE, location=str(root))
        snap.skip("neighbours", NOT_LIVE, location=str(root))
    for row in snap.software:
        row["host_id"] = snap.host.host_id
    for row in snap.devices:
        row["host_id"] = snap.host.host_id
    snap.host = dataclasses.replace(
        snap.host, hostname=facts.hostname, institution=institution, platform="linux",
        os_name=facts.os_name, os_version=facts.os_version, machine_id=facts.machine_id,
        collected_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), sources=tuple(used),
    )
    return snap


def _rpm(snap: Snapshot, root: Path, vendor: str | None) -> bool:
    """rpm packages: sqlite rpmdb, else ndb/bdb readers, else the rpm program (live only)."""
    from kitvet.sources import rpm_cmd, rpmdb_sqlite

    db = rpmdb_sqlite.find_database(root)
    if db is not None:
        rows, skipped = rpmdb_sqlite.read_rpmdb_sqlite(db, vendor_namespace=vendor)
        snap.software.extend(rows)
        snap.skipped.extend(skipped)
        return True
    found = next((under(root, p) for p in OTHER_RPMDBS if under(root, p).is_file()), None)
    if found is None:
        return False
    problem = _other_rpmdb(snap, found, vendor)
    if problem is None:
        return True
    if is_live(root) and rpm_cmd.available():
        logger.info("reading %s failed (%s); asking the rpm program", found, problem)
        rows, bad = rpm_cmd.parse(rpm_cmd.query(), vendor_namespace=vendor)
        snap.software.extend(rows)
        for n, reason in bad:
            snap.skip("rpm", reason, location=f"rpm -qa:{n}")
        return True
    snap.skip("rpm", problem, location=str(found))
    return False


#: rpm databases kitvet reads through the rpmdb importer (ndb, then Berkeley DB).
OTHER_RPMDBS = ("usr/lib/sysimage/rpm/Packages.db", "var/lib/rpm/Packages.db",
                "usr/lib/sysimage/rpm/Packages", "var/lib/rpm/Packages")


def _other_rpmdb(snap: Snapshot, path: Path, vendor: str | None) -> str | None:
    """Read an ndb/bdb rpmdb with the rpmdb importer; the problem when it cannot."""
    import importlib
    from urllib.parse import quote

    try:
        reg = importlib.import_module("kitvet.sources.registry")
        snaps = reg.importer("rpmdb").read(path)
    except KitvetError as e:
        return e.message
    except (ImportError, AttributeError):
        return "rpm database format not readable without the rpm program"
    for s in snaps:
        for row in s.software:
            purl = row.get("purl") or ""
            if vendor and purl.startswith("pkg:rpm/") and purl.count("/") == 1:
                row["purl"] = f"pkg:rpm/{quote(vendor.lower(), safe='')}/{purl[8:]}"
            snap.software.append(row)
        snap.skipped.extend(s.skipped)
    return None
