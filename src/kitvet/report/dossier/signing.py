"""Signing and verifying a dossier (Ed25519), offline.

The JSON file is the signed record::

    {"kitvet_dossier": "1.0.0", "dossier": {...}, "content_sha256": "<hex>",
     "pdf": {"file": "<name>", "sha256": "<hex>", "bytes": N},
     "signature": {"algorithm": "ed25519", "canonical": "kitvet-dossier-json-v1",
                   "key_id": "<16 hex>", "public_key": "<base64 raw>", "value": "<base64>"}}

What is signed: the document without ``signature``, as JSON with sorted keys, no spaces and
UTF-8 kept. ``content_sha256`` is the SHA-256 of the same canonical form of ``dossier`` (printed
on the PDF, so a paper copy can be matched to its record); ``pdf.sha256`` binds the PDF.
The embedded public key proves the record unchanged since it was signed; that it was the
estate that signed it is shown by comparing ``key_id`` with the estate's published key
(``kitvet dossier key``), or checked by ``verify --key``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kitvet.errors import ReportError
from kitvet.lists.signing import key_id
from kitvet.report.dossier.model import DOSSIER_SCHEMA_VERSION

CANONICAL = "kitvet-dossier-json-v1"
MAX_BYTES = 64 * 1024 * 1024


class DossierError(ReportError):
    """A dossier cannot be read, or does not verify."""


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_digest(dossier: dict[str, Any]) -> str:
    """SHA-256 of the dossier's canonical form (printed on its PDF)."""
    return hashlib.sha256(canonical(dossier)).hexdigest()


def raw_public(public: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed_document(dossier: dict[str, Any], pdf: bytes, pdf_name: str,
                    private: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed JSON record of ``dossier`` and its PDF."""
    doc: dict[str, Any] = {
        "kitvet_dossier": DOSSIER_SCHEMA_VERSION,
        "dossier": dossier,
        "content_sha256": content_digest(dossier),
        "pdf": {"file": pdf_name, "sha256": hashlib.sha256(pdf).hexdigest(), "bytes": len(pdf)},
    }
    public = private.public_key()
    doc["signature"] = {
        "algorithm": "ed25519", "canonical": CANONICAL, "key_id": key_id(public),
        "public_key": base64.b64encode(raw_public(public)).decode("ascii"),
        "value": base64.b64encode(private.sign(canonical(doc))).decode("ascii"),
    }
    return doc


@dataclass
class Verification:
    """What ``kitvet dossier verify`` found."""

    record: Path
    key_id: str | None = None
    subject: str | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems


def _load(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DossierError("too large to be a dossier", file=str(path))
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DossierError(f"not a readable dossier record: {e}", file=str(path)) from e
    if not isinstance(doc, dict) or "kitvet_dossier" not in doc:
        raise DossierError("not a kitvet dossier record (no kitvet_dossier)", file=str(path))
    return doc


def record_for(path: Path, signature: Path | None = None) -> Path:
    """The JSON record of ``path``: itself, ``signature``, or the .json beside a PDF."""
    if signature is not None:
        return signature
    if path.suffix.lower() == ".pdf":
        return path.with_suffix(".json")
    return path


def verify(path: Path, *, signature: Path | None = None,
           trusted: Ed25519PublicKey | None = None) -> Verification:
    """Verify a dossier offline: the record's signature, its content digest, its PDF (the
    file given, or the one the record names beside it) and, with ``trusted``, the signer."""
    record = record_for(path, signature)
    if not record.exists():
        raise DossierError("no dossier record (.json) beside this PDF; name it with "
                           "--signature", file=str(path))
    doc = _load(record)
    out = Verification(record)
    sig = doc.get("signature")
    dossier = doc.get("dossier")
    if isinstance(dossier, dict):
        out.subject = str(dossier.get("subject_id"))
    if not isinstance(sig, dict) or sig.get("algorithm") != "ed25519":
        out.problems.append("the record carries no Ed25519 signature")
        return out
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"],
                                                                     validate=True))
        public.verify(base64.b64decode(sig["value"], validate=True), canonical(body))
        out.key_id = key_id(public)
        out.checked.append(f"signature verifies (Ed25519, key {out.key_id})")
    except (KeyError, ValueError, TypeError, InvalidSignature):
        out.problems.append("the signature does not verify: the record was changed after "
                            "it was signed, or was not signed by the key it names")
        return out
    if sig.get("key_id") != out.key_id:
        out.problems.append(f"the record names key {sig.get('key_id')} but carries "
                            f"key {out.key_id}")
    if trusted is not None:
        if raw_public(trusted) == raw_public(public):
            out.checked.append("signed by the trusted key given with --key")
        else:
            out.problems.append(f"signed by key {out.key_id}, not by the trusted key "
                                f"{key_id(trusted)}")
    if not isinstance(dossier, dict) or content_digest(dossier) != doc.get("content_sha256"):
        out.problems.append("the content digest does not match the dossier")
    else:
        out.checked.append(f"content digest {doc['content_sha256'][:16]}… matches")
    _check_pdf(path, record, doc, out)
    return out


def _check_pdf(path: Path, record: Path, doc: dict[str, Any], out: Verification) -> None:
    meta = doc.get("pdf") or {}
    pdf = path if path.suffix.lower() == ".pdf" else record.parent / Path(
        str(meta.get("file") or "")).name
    if not meta.get("sha256"):
        out.problems.append("the record names no PDF")
    elif not pdf.is_file():
        out.checked.append(f"PDF {pdf.name} not found beside the record: not checked")
    elif hashlib.sha256(pdf.read_bytes()).hexdigest() != meta["sha256"]:
        out.problems.append(f"the PDF {pdf.name} is not the one signed (its SHA-256 differs)")
    else:
        out.checked.append(f"PDF {pdf.name} is the one signed (SHA-256 matches)")

