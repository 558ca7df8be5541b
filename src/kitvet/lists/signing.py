"""Ed25519 signatures over risk lists.

Canonical form (``kitvet-list-json-v1``): the list file parsed as YAML (dates kept as text),
serialised as JSON with keys sorted, no insignificant whitespace (``","`` and ``":"``
separators), non-ASCII characters kept as themselves, encoded as UTF-8. Comments and YAML
layout are therefore not signed (they carry no meaning); every key and value is.

The signature is a detached JSON file ``<list>.sig``::

    {"kitvet_signature": "1", "algorithm": "ed25519", "canonical": "kitvet-list-json-v1",
     "key_id": "<16 hex>", "sha256": "<hex of the canonical form>", "signature": "<base64>"}

Key id: the first 16 hex digits of SHA-256 over the raw 32-byte public key. Public keys are
PEM (SubjectPublicKeyInfo) files ``<name>.pub``; private keys PEM PKCS#8, mode 0600.
Trusted keys: the bundled ``lists/data/keys/*.pub``, ``$XDG_CONFIG_HOME/kitvet/keys/*.pub``
(default ``~/.config/kitvet/keys``) and any files or directories named in
``KITVET_TRUSTED_KEYS`` (separated by ``os.pathsep``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kitvet.errors import ListError
from kitvet.lists.format import atomic_write

logger = logging.getLogger(__name__)

CANONICAL = "kitvet-list-json-v1"
ALGORITHM = "ed25519"
SIG_SUFFIX = ".sig"
MAX_SIG_BYTES = 64 * 1024


class SignatureError(ListError):
    """A list is unsigned, signed by an untrusted key, or its signature does not verify."""


@dataclass(frozen=True)
class Signature:
    """A parsed detached signature."""

    key_id: str
    signature: bytes
    sha256: str | None = None
    algorithm: str = ALGORITHM


def canonical_bytes(doc: Mapping[str, Any]) -> bytes:
    """The canonical form of a parsed list document (what is signed)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key id: 16 hex digits of SHA-256 over the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keypair(private_path: Path, public_dir: Path) -> tuple[str, Path]:
    """Create a new Ed25519 key pair; returns (key id, path of the public key file).

    The private key is written with mode 0600 and never overwritten.
    """
    if private_path.exists():
        raise SignatureError("refusing to overwrite an existing private key", file=str(private_path))
    priv = Ed25519PrivateKey.generate()
    kid = key_id(priv.public_key())
    pem = priv.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = priv.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pub_path = atomic_write(public_dir / f"{kid}.pub", pub)
    return kid, pub_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM PKCS#8 Ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise SignatureError(f"cannot read private key: {e}", file=str(path)) from e
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("not an Ed25519 private key", file=str(path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as e:
        raise SignatureError(f"cannot read public key: {e}", file=str(path)) from e
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("not an Ed25519 public key", file=str(path))
    return key


def _key_files(entry: Path) -> list[Path]:
    if entry.is_dir():
        return sorted(entry.glob("*.pub"))
    return [entry] if entry.is_file() else []


def default_key_locations() -> list[Path]:
    """Where trusted public keys are looked for, in order (see module docs)."""
    bundled = Path(str(resources.files("kitvet.lists").joinpath("data/keys")))
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kitvet" / "keys"
    extra = [Path(p) for p in os.environ.get("KITVET_TRUSTED_KEYS", "").split(os.pathsep) if p]
    return [bundled, config, *extra]


def trusted_key_files(
    locations: Iterable[str | os.PathLike[str]] | None = None,
) -> list[tuple[str, Path, Ed25519PublicKey]]:
    """(key id, file, key) of every readable trusted key, in search order."""
    out = []
    entries = default_key_locations() if locations is None else [Path(p) for p in locations]
    for entry in entries:
        for f in _key_files(entry):
            try:
                k = load_public_key(f)
            except SignatureError as e:
                logger.warning("ignoring unreadable trusted key: %s", e)
                continue
            out.append((key_id(k), f, k))
    return out


def trusted_keys(
    locations: Iterable[str | os.PathLike[str]] | None = None,
) -> dict[str, Ed25519PublicKey]:
    """Trusted public keys by key id, from ``locations`` (files or dirs) or the defaults."""
    return {kid: k for kid, _, k in trusted_key_files(locations)}


def sign_document(doc: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The detached signature (as a JSON-ready dict) of a parsed list document."""
    data = canonical_bytes(doc)
    return {
        "kitvet_signature": "1",
        "algorithm": ALGORITHM,
        "canonical": CANONICAL,
        "key_id": key_id(private_key.public_key()),
        "sha256": hashlib.sha256(data).hexdigest(),
        "signature": base64.b64encode(private_key.sign(data)).decode("ascii"),
    }


def write_signature(list_path: Path, sig: Mapping[str, Any]) -> Path:
    """Write ``<list>.sig`` atomically."""
    out = sig_path(list_path)
    atomic_write(out, (json.dumps(sig, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return out


def sig_path(list_path: Path) -> Path:
    """The detached signature file of a list file."""
    return list_path.with_name(list_path.name + SIG_SUFFIX)


def parse_signature(data: bytes, *, file: str) -> Signature:
    """Parse a detached signature file; errors name the file and field."""
    if len(data) > MAX_SIG_BYTES:
        raise SignatureError("signature file is too large", file=file)
    try:
        obj = json.loads(data)
    except ValueError as e:
        raise SignatureError(f"not a JSON signature file: {e}", file=file) from e
    if not isinstance(obj, dict):
        raise SignatureError("signature file must be a JSON object", file=file)
    for k in ("algorithm", "key_id", "signature"):
        if not isinstance(obj.get(k), str):
            raise SignatureError("missing or not a string", file=file, place=k)
    if obj["algorithm"] != ALGORITHM:
        raise SignatureError(f"unsupported algorithm {obj['algorithm']!r}", file=file, place="algorithm")
    if obj.get("canonical", CANONICAL) != CANONICAL:
        raise SignatureError(f"unknown canonical form {obj['canonical']!r}", file=file, place="canonical")
    try:
        raw = base64.b64decode(obj["signature"], validate=True)
    except ValueError as e:
        raise SignatureError("signature is not base64", file=file, place="signature") from e
    return Signature(key_id=obj["key_id"], signature=raw, sha256=obj.get("sha256"))


def verify_document(
    doc: Mapping[str, Any], sig: Signature, keys: Mapping[str, Ed25519PublicKey], *, file: str
) -> str:
    """Verify ``sig`` over ``doc`` with a trusted key; returns the key id or raises."""
    key = keys.get(sig.key_id)
    if key is None:
        raise SignatureError(
            f"signed by key {sig.key_id}, which is not trusted "
            "(add its .pub to ~/.config/kitvet/keys or KITVET_TRUSTED_KEYS)",
            file=file,
        )
    try:
        key.verify(sig.signature, canonical_bytes(doc))
    except InvalidSignature as e:
        raise SignatureError(
            f"signature by key {sig.key_id} does not verify: the list was changed after signing",
            file=file,
        ) from e
    return sig.key_id
