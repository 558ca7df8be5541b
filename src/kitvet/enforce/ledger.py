"""The enforcement ledger: every export written to a file (``kitvet enforce export -o``) records
the digest of each ruleset it deploys — the bytes that end up on a host, or, for AppLocker, the
rule ids that end up in its registry — so ``kitvet enforce attest`` can ask the hosts what they
have and ``kitvet enforce verify --attestation`` can say, host by host, whether the deployed
rules are the current ones, an older export (stale), something else (altered) or absent
(missing).

One JSON object a line, appended (``$KITVET_LEDGER``, else ``ledger.jsonl`` in kitvet's data dir).
A ledger line is never rewritten; a line that cannot be read is reported, not fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kitvet.enforce.interface import BanSet, Export
from kitvet.errors import EnforceError

logger = logging.getLogger(__name__)

LEDGER_VERSION = "1.0.0"
#: Longest ledger line read (a record is a few KiB; AppLocker ids make it grow slowly).
MAX_LINE = 1 << 20


def sha256(text: str | bytes) -> str:
    """Hex SHA-256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


@dataclass(frozen=True)
class Artefact:
    """One thing an export puts on a host, and how a host proves it has it.

    ``check``: ``file`` (the SHA-256 of the file at ``path``), ``exists`` (a file at ``path``;
    its content is made on the host, e.g. a compiled WDAC policy), ``registry`` (the rule ids
    under a registry key; ``sha256`` is the digest of the sorted ids, ``ids`` the ids)."""

    name: str  # e.g. "usbguard-rules", "nftables-set"
    platform: str  # linux, windows, darwin
    check: str  # file | exists | registry
    path: str
    sha256: str | None = None
    ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d: dict[str, Any] = {"name": self.name, "platform": self.platform, "check": self.check,
                             "path": self.path, "sha256": self.sha256}
        if self.ids:
            d["ids"] = list(self.ids)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Artefact:
        """From :meth:`to_dict`."""
        return cls(name=str(d["name"]), platform=str(d["platform"]), check=str(d["check"]),
                   path=str(d["path"]), sha256=d.get("sha256"),
                   ids=tuple(str(i) for i in d.get("ids") or ()))


@dataclass(frozen=True)
class Record:
    """One export written for deployment."""

    target: str
    format: str | None
    output: str
    date: str  # the export's date (lists' date or --date)
    recorded_at: str
    policy: str
    status: str | None
    subjects: tuple[str, ...]
    lists: tuple[tuple[str, str], ...]  # (name, version)
    export_sha256: str
    artefacts: tuple[Artefact, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # line in the ledger (order of recording)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (one ledger line)."""
        return {"kitvet_ledger": LEDGER_VERSION, "target": self.target, "format": self.format,
                "output": self.output, "date": self.date, "recorded_at": self.recorded_at,
                "policy": self.policy, "status": self.status, "subjects": list(self.subjects),
                "lists": [{"name": n, "version": v} for n, v in self.lists],
                "export_sha256": self.export_sha256,
                "artefacts": [a.to_dict() for a in self.artefacts], "extra": self.extra}


def ledger_path(explicit: str | Path | None = None) -> Path:
    """``explicit``, else ``$KITVET_LEDGER``, else ``<data dir>/ledger.jsonl`` (data dir:
    ``$KITVET_DATA_DIR``, ``$XDG_DATA_HOME/kitvet/data`` or ``~/.local/share/kitvet/data``)."""
    if explicit:
        return Path(explicit)
    if os.environ.get("KITVET_LEDGER"):
        return Path(os.environ["KITVET_LEDGER"])
    if os.environ.get("KITVET_DATA_DIR"):
        return Path(os.environ["KITVET_DATA_DIR"]) / "ledger.jsonl"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "kitvet" / "data" / "ledger.jsonl"


def make_record(export: Export, bans: BanSet, *, fmt: str | None, output: str,
                deploy_path: str | None = None) -> Record:
    """The ledger record of an export written to ``output``."""
    artefacts = tuple(Artefact.from_dict(a) for a in export.extra.get("artefacts", ()))
    if deploy_path and artefacts:
        artefacts = (Artefact(artefacts[0].name, artefacts[0].platform, artefacts[0].check,
                              deploy_path, artefacts[0].sha256, artefacts[0].ids),
                     *artefacts[1:])
    extra = {k: v for k, v in export.extra.items() if k.startswith(("wdac_",))}
    return Record(target=export.target, format=fmt, output=str(Path(output).resolve()),
                  date=bans.date, recorded_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  policy=bans.policy, status=bans.status,
                  subjects=tuple(sorted(bans.subject_ids())),
                  lists=tuple((rl.name, rl.version) for rl in bans.lists),
                  export_sha256=sha256(export.text), artefacts=artefacts, extra=extra)


def append(record: Record, path: Path) -> None:
    """Append one record to the ledger (created with its folder if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> tuple[list[Record], list[str]]:
    """The ledger's records in the order recorded, and one message per unreadable line."""
    if not path.exists():
        raise EnforceError(f"{path}: no ledger here (kitvet enforce export -o FILE records one)")
    records: list[Record] = []
    problems: list[str] = []
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE:
                problems.append(f"{path}:{n}: line longer than {MAX_LINE} bytes — skipped")
                continue
            try:
                records.append(_record(json.loads(raw), n))
            except (ValueError, KeyError, TypeError) as e:
                problems.append(f"{path}:{n}: not a ledger record ({e}) — skipped")
    return records, problems


def _record(d: dict[str, Any], line: int) -> Record:
    if not isinstance(d, dict) or "kitvet_ledger" not in d:
        raise ValueError("no kitvet_ledger field")
    return Record(target=str(d["target"]), format=d.get("format"), output=str(d["output"]),
                  date=str(d["date"]), recorded_at=str(d["recorded_at"]),
                  policy=str(d["policy"]), status=d.get("status"),
                  subjects=tuple(str(s) for s in d.get("subjects") or ()),
                  lists=tuple((str(x["name"]), str(x["version"])) for x in d.get("lists") or ()),
                  export_sha256=str(d["export_sha256"]),
                  artefacts=tuple(Artefact.from_dict(a) for a in d.get("artefacts") or ()),
                  extra=dict(d.get("extra") or {}), line=line)


def deployable(records: Iterable[Record]) -> list[Record]:
    """Records that put something on hosts."""
    return [r for r in records if r.artefacts]
