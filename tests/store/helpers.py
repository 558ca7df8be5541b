"""Builders shared by the store and review tests: snapshots and a stand-in matcher.

The stand-in matcher (publisher equals a subject's publisher identifier) is used only until the
real engine (kitvet.match.engine) is importable; ``matcher()`` returns the real one when it is.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

from kitvet.model import Host, Snapshot
from kitvet.model.finding import FINDING_FIELDS


def snap(host_id: str, institution: str | None, collected_at: str | None,
         software: list[tuple[str, str | None, str | None]] = (), *, machine_id: str | None = None,
         hostname: str | None = None) -> Snapshot:
    """A snapshot with software rows given as (name, version, publisher)."""
    s = Snapshot(host=Host(host_id=host_id, hostname=hostname or host_id, institution=institution,
                           platform="windows", collected_at=collected_at,
                           machine_id=machine_id, sources=("test",)))
    for i, (name, version, publisher) in enumerate(software):
        s.add_software(host_id=host_id, source="test", location=f"test:{i}", name=name,
                       version=version, publisher=publisher, package_type="windows")
    return s


#: subject id -> (subject name, publisher that identifies it, policy status)
SUBJECTS = {
    "kaspersky-lab": ("Kaspersky Lab", "AO Kaspersky Lab", "ban"),
    "huawei": ("Huawei Technologies", "Huawei Technologies Co., Ltd.", "review"),
}


def fake_match(con: Any, lists: Any = None, policy: Any = None) -> pa.Table:
    """Findings with FINDING_FIELDS: software whose publisher is one of SUBJECTS."""
    rows = con.execute(
        "SELECT s.host_id, h.hostname, h.institution, h.platform, s.name, s.version, "
        "s.publisher, s.package_type, s.path, s.source, s.location FROM software s "
        "JOIN hosts h USING (host_id, snapshot_id)").fetchall()
    cols = ["host_id", "hostname", "institution", "platform", "name", "version", "publisher",
            "package_type", "path", "source", "location"]
    out = []
    for r in rows:
        row = dict(zip(cols, r))
        for sid, (sname, pub, status) in SUBJECTS.items():
            if row["publisher"] != pub:
                continue
            key = f"{row['name']}|{row['version'] or ''}|{row['path'] or ''}"
            fid = hashlib.sha256(f"{row['host_id']}|software|{key}|{sid}".encode()).hexdigest()
            out.append(dict(row, finding_id=fid[:20], item_type="software", item_key=key,
                            subject_id=sid, subject_name=sname, list_name="test-list",
                            status=status, rule=f"test: {status}",
                            matched='[{"kind":"publisher"}]',
                            explanation=f"publisher {pub} → {sname}"))
    return pa.Table.from_pylist(out, schema=pa.schema([(f, pa.string()) for f in FINDING_FIELDS]))
