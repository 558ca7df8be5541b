"""The ban dossier: the signed record of one decision (see ``docs/reports.md``).

:mod:`kitvet.estate.dossier` gathers a :class:`Dossier`; :func:`issue` renders its PDF and its
signed JSON record; :func:`~kitvet.report.dossier.signing.verify` checks them offline.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitvet.lists.signing import key_id
from kitvet.report.dossier.model import DOSSIER_SCHEMA_VERSION, Dossier
from kitvet.report.dossier.render import render_html, render_pdf
from kitvet.report.dossier.signing import (
    DossierError,
    Verification,
    content_digest,
    signed_document,
    verify,
)


def issue(d: Dossier, private: Ed25519PrivateKey, *, pdf_name: str
          ) -> tuple[bytes, bytes, dict[str, Any]]:
    """The dossier's PDF, its signed JSON record (bytes) and the record as data."""
    body = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))  # plain JSON types
    digest = content_digest(body)
    pdf = render_pdf(d, digest=digest, key_id=key_id(private.public_key()))
    doc = signed_document(body, pdf, pdf_name, private)
    record = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return pdf, record, doc


__all__ = ["DOSSIER_SCHEMA_VERSION", "Dossier", "DossierError", "Verification", "issue",
           "render_html", "verify"]
