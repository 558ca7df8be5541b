"""The ban dossier's data: everything the estate knows of one decision on one subject.

Read in one read transaction and limited to a :class:`Scope`; handed to
:mod:`kitvet.report.dossier`, which lays it out and signs it with the estate's key
(:func:`signing_key`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, func, select

from kitvet import __version__
from kitvet.errors import KitvetError
from kitvet.estate import queries
from kitvet.estate.reads import check_audit
from kitvet.estate.reporting import campaign_summary, visible_exceptions
from kitvet.estate.scope import EVERYTHING, Scope
from kitvet.model.finding import finding_class
from kitvet.report.dossier.model import (
    FOR_KINDS,
    AuditHead,
    DecisionEntry,
    Dossier,
    DossierAssertion,
    ExceptionEntry,
    ExposedHost,
    Exposure,
    PolicyReading,
    nature,
)
from kitvet.review import campaigns, exceptions, findings
from kitvet.store import audit as audit_log
from kitvet.store import tables as t

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from kitvet.model.risk import ListSet, Subject
    from kitvet.policy import Policy

logger = logging.getLogger(__name__)

#: Hosts listed by name in a dossier (the counts per institution cover them all).
MAX_HOSTS = 500
KEY_NAME = "estate-ed25519.key"


def key_dir(root: Path) -> Path:
    """Where an estate keeps its signing key: ``<estate>/keys``."""
    return root / "keys"


def signing_key(root: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The estate's Ed25519 key (created on first use, mode 0600), and whether it was
    created now."""
    from kitvet.lists.signing import generate_keypair, load_private_key

    path = key_dir(root) / KEY_NAME
    created = False
    if not path.exists():
        generate_keypair(path, key_dir(root))
        created = True
    return load_private_key(path), created


def build_dossier(conn: Connection, scope: Scope, *, subject_id: str, subject: Subject | None,
                  list_meta: tuple[str | None, str | None], policy: Policy | None, now: str,
                  actor: str, max_hosts: int = MAX_HOSTS) -> Dossier:
    """The dossier of ``subject_id`` as ``scope`` may see it. ``subject`` is the subject as the
    lists in force name it (its assertions judged afresh by ``policy``); without it, what the
    latest review recorded of the subject is used."""
    stored = conn.execute(select(t.subjects).where(t.subjects.c.subject_id == subject_id)
                          ).first()
    reading: PolicyReading | None
    cls: str | None
    if subject is not None and policy is not None:
        assertions, reading = _judged(subject, policy)
        name, kind = subject.name, subject.kind
        cls = finding_class(a.kind for a in subject.assertions)
    else:
        assertions, reading = _recorded(stored)
        name = (stored.name if stored else None) or subject_id
        kind = (stored.kind if stored else None) or "unknown"
        cls = stored.finding_class if stored else None
    list_name, list_version = list_meta
    if stored is not None and list_name is None:
        list_name, list_version = stored.list_name, stored.list_version
    exposure, hosts, total = _exposure(conn, scope, subject_id, max_hosts)
    camps = [queries.scoped_campaign(c, scope, conn) for c in campaigns.listing(conn, now=now)
             if c.campaign.subject_id == subject_id]
    excs = [e for e in visible_exceptions(conn, scope, exceptions.listing(conn, now=now))
            if e.subject_id == subject_id]
    check = check_audit(conn)  # the lake's anchors are the CLI's audit verify's
    return Dossier(
        subject_id=subject_id, subject_name=name, subject_kind=kind, list_name=list_name,
        list_version=list_version, finding_class=cls, assertions=tuple(assertions),
        policy=reading,
        decisions=tuple(DecisionEntry(d.decision_id, d.decision, d.status, d.rationale,
                                      d.evidence, d.actor, d.at, d.superseded_at)
                        for d in findings.decisions(conn, subject=subject_id,
                                                    include_superseded=True)),
        exposure=tuple(exposure), hosts=tuple(hosts), hosts_total=total,
        campaigns=tuple(campaign_summary(c) for c in camps),
        exceptions=tuple(ExceptionEntry(e.exception_id, e.scope, e.reason, e.approver,
                                        e.expires, e.created_by, e.created_at, e.active,
                                        e.revoked_at, e.matched) for e in excs),
        audit=AuditHead(check.entries, check.head_hash, check.ok, check.problem),
        generated_at=now[:19] + "Z", generator=f"kitvet {__version__}", issued_by=actor,
    )


def _judged(subject: Subject, policy: Policy) -> tuple[list[DossierAssertion], PolicyReading]:
    verdict = policy.evaluate(subject)
    out = []
    for o in verdict.outcomes:
        a = o.assertion
        side = "for" if a.exculpatory or a.kind in FOR_KINDS else "against"
        out.append(DossierAssertion(
            side=side, nature=nature(a.kind), kind=a.kind, authority=a.authority,
            instrument=a.instrument, date=a.date, scope=a.scope, reference_url=a.reference_url,
            source=a.source, verified=bool(a.verified), jurisdiction=a.jurisdiction,
            outcome=o.status or ("exculpatory" if side == "for" else "ignored"),
            reason=o.reason, deciding=a in verdict.deciding))
    return out, PolicyReading(verdict.profile, verdict.status, verdict.rule,
                              dict(verdict.deadlines))


def _recorded(stored: Any) -> tuple[list[DossierAssertion], PolicyReading | None]:
    """The assertions and reading the latest review stored (the lists no longer name it)."""
    if stored is None:
        return [], None
    out = []
    for side, blob in (("against", stored.assertions), ("for", stored.exculpatory)):
        for a in json.loads(blob or "[]"):
            kind = str(a.get("kind", ""))
            out.append(DossierAssertion(
                side="for" if kind in FOR_KINDS else side, nature=nature(kind), kind=kind,
                authority=str(a.get("authority", "")), instrument=str(a.get("instrument", "")),
                date=a.get("date"), scope=a.get("scope"), reference_url=a.get("reference_url"),
                source=a.get("source"), verified=bool(a.get("verified")),
                jurisdiction=a.get("jurisdiction"),
                outcome="as recorded at review" if side == "against" else "exculpatory",
                reason=str(a.get("outcome") or ""), deciding=False))
    reading = PolicyReading(stored.profile or "", stored.status or "", stored.rule or "")
    return out, reading


def _exposure(conn: Connection, scope: Scope, subject_id: str, max_hosts: int
              ) -> tuple[list[Exposure], list[ExposedHost], int]:
    f = t.findings
    cond = [f.c.subject_id == subject_id, *queries.in_scope(f.c.institution, scope)]
    status: dict[str, dict[str, int]] = defaultdict(dict)
    state: dict[str, dict[str, int]] = defaultdict(dict)
    removed: dict[str, int] = defaultdict(int)
    for inst, st, sta, live, n in conn.execute(
            select(f.c.institution, f.c.status, f.c.state, f.c.live, func.count())
            .where(*cond).group_by(f.c.institution, f.c.status, f.c.state, f.c.live)):
        key = inst or ""
        if sta == "removed":
            removed[key] += n
        elif live:
            status[key][st] = status[key].get(st, 0) + n
            state[key][sta] = state[key].get(sta, 0) + n
    live_cond = [*cond, f.c.live.is_(True), f.c.state != "removed"]
    hosts_per = {(i or ""): int(n) for i, n in conn.execute(
        select(f.c.institution, func.count(f.c.host_id.distinct()))
        .where(*live_cond).group_by(f.c.institution))}
    exposure = [Exposure(i, hosts_per.get(i, 0), sum(status[i].values()), status[i], state[i],
                         removed[i])
                for i in sorted(set(status) | set(removed))]
    total = conn.execute(select(func.count(f.c.host_id.distinct())).where(*live_cond)
                         ).scalar_one()
    rows = conn.execute(select(f.c.institution, f.c.host_id, f.c.hostname, f.c.name,
                               f.c.version, f.c.status, f.c.state, f.c.last_seen)
                        .where(*live_cond).order_by(f.c.institution, f.c.host_id, f.c.name)
                        .limit(max_hosts)).all()
    hosts = [ExposedHost(r[0] or "", r[1], r[2], " ".join(x for x in (r[3], r[4]) if x),
                         r[5], r[6], r[7]) for r in rows]
    return exposure, hosts, int(total)


class EstateDossiers:
    """The dossier methods of :class:`~kitvet.estate.Estate` (which provides the attributes
    below)."""

    root: Path
    engine: Engine

    def dossier(self, subject: str, *, actor: str, lists: ListSet | None = None,
                policy: Policy | None = None, profile: str | None = None,
                scope: Scope = EVERYTHING) -> Dossier:
        """The dossier of ``subject`` (an id, name or alias the lists know, or an id the
        estate found or decided on). Its assertions are judged by ``policy`` (default: the
        profile ``profile``, else the one of the subject's latest review, else ``default``)."""
        from kitvet.errors import StoreError
        from kitvet.lists import find_subject
        from kitvet.policy import load_profile
        from kitvet.store.db import read, utcnow

        found: Subject | None = None
        meta: tuple[str | None, str | None] = (None, None)
        subject_id = subject
        if lists is not None:
            try:
                rl, found = find_subject(lists, subject)
                subject_id, meta = found.id, (rl.name, str(rl.version))
            except KitvetError:
                found = None
        with read(self.engine) as conn:
            known = findings.known_subjects(conn)
            if found is None and subject_id not in known:
                raise StoreError(findings.unknown_subject_message(subject_id, known))
            if policy is None and found is not None:
                recorded = conn.execute(select(t.subjects.c.profile).where(
                    t.subjects.c.subject_id == subject_id)).scalar()
                policy = load_profile(profile or recorded or None)
            return build_dossier(conn, scope, subject_id=subject_id, subject=found,
                                 list_meta=meta, policy=policy, now=utcnow(), actor=actor)

    def issue_dossier(self, dossier: Dossier, *, actor: str, pdf_name: str
                      ) -> tuple[bytes, bytes]:
        """Render and sign ``dossier`` with the estate's key: (PDF, JSON record). The issue
        is recorded in the audit log with the record's content digest."""
        from kitvet.lists.signing import key_id
        from kitvet.report.dossier import issue
        from kitvet.store.db import write

        private, created = signing_key(self.root)
        pdf, record, doc = issue(dossier, private, pdf_name=pdf_name)
        kid = key_id(private.public_key())
        with write(self.engine) as conn:
            if created:
                audit_log.append(conn, actor=actor, action="estate.key", obj=f"key:{kid}",
                                 details={"purpose": "dossier signing", "algorithm": "ed25519"})
            audit_log.append(conn, actor=actor, action="dossier.issue",
                             obj=f"subject:{dossier.subject_id}",
                             details={"content_sha256": doc["content_sha256"],
                                      "pdf_sha256": doc["pdf"]["sha256"], "key_id": kid,
                                      "audit_head": dossier.audit.hash})
        return pdf, record

    def public_key(self) -> tuple[str, bytes]:
        """The estate's dossier-signing public key: (key id, PEM); created if need be."""
        from cryptography.hazmat.primitives import serialization

        from kitvet.lists.signing import key_id

        private, _created = signing_key(self.root)
        public = private.public_key()
        return key_id(public), public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
