"""Ransomware family lists: the file format, loading with signatures, the bundled list.

A family list is kitvet's signed list format with its own content: YAML or JSON with the top
key ``kitvet_ransom``, validated by ``ransom/data/ransom-list.schema.json`` and signed like
a risk list (a detached Ed25519 ``.sig`` over the canonical JSON form, the same trusted
keys; ``kitvet lists sign`` and ``kitvet lists verify`` take both kinds). JSON is read with
the JSON parser (a 2 MB list loads in a fraction of a second), YAML with kitvet's strict
YAML loader. The format is documented in ``docs/ransom.md``.

Validation against the JSON Schema takes seconds on the 2,135-family bundled list, so it is
done where a list is made or accepted: by the import, by ``kitvet lists sign`` (which refuses
an invalid list) and on loading any list whose signature does not verify (accepted with
``--allow-unsigned``). A list signed by a trusted key was validated by its signer; loading it
checks its signature and its regular expressions, and a malformed entry is still refused
with its place, never a traceback.

Lists in force: the bundled ``kitvet-ransomware`` (built from the MISP galaxy), every
``*.json``/``*.yaml`` in ``$XDG_CONFIG_HOME/kitvet/ransom/`` (an organisation's own
families and decryptors) and those named with ``--list``. Entries with the same family id
are merged: their indicators and decryptors are added together, each keeping its source.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from kitvet.errors import ListError
from kitvet.lists import signing
from kitvet.lists.format import MAX_LIST_BYTES, dump_yaml, parse_text
from kitvet.model.ransom import Decryptor, Family, FamilyList, ListSource, Pattern

logger = logging.getLogger(__name__)

#: Version of the family-list format this kitvet writes (``kitvet_ransom:`` key).
RANSOM_FORMAT_VERSION = "1.0"
#: File name of the bundled list (in ``kitvet/ransom/data``).
BUNDLED = "kitvet-ransomware.json"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of family lists."""
    text = resources.files("kitvet.ransom").joinpath("data/ransom-list.schema.json")
    return json.loads(text.read_text("utf-8"))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse(data: bytes, *, file: str) -> dict[str, Any]:
    """Parse a family list (JSON or YAML) into a plain document (not yet validated)."""
    if len(data) > MAX_LIST_BYTES:
        raise ListError(f"list is larger than {MAX_LIST_BYTES} bytes", file=file)
    if data.lstrip()[:1] == b"{":
        try:
            doc = json.loads(data, object_pairs_hook=_no_duplicates)
        except (ValueError, RecursionError) as e:
            raise ListError(f"not valid JSON: {e}", file=file) from e
    else:
        doc = parse_text(data, file=file)
    if not isinstance(doc, dict):
        raise ListError("a family list must be a mapping with kitvet_ransom, name, ...",
                        file=file)
    return doc


def is_family_list(doc: dict[str, Any]) -> bool:
    """Whether a parsed list document is a ransomware family list (not a risk list)."""
    return "kitvet_ransom" in doc


def validate(doc: dict[str, Any], *, file: str) -> None:
    """Validate against the schema and the rules it cannot say (unique ids, regexes)."""
    import jsonschema

    from kitvet.lists.format import _message, _place

    cls = jsonschema.validators.validator_for(schema())
    validator = cls(schema(), format_checker=cls.FORMAT_CHECKER)
    err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if err is not None:
        raise ListError(_message(err), file=file, place=_place(err.absolute_path))
    seen: dict[str, int] = {}
    for i, fam in enumerate(doc["families"]):
        if fam["id"] in seen:
            raise ListError(f"duplicate family id {fam['id']!r} (first at families"
                            f"[{seen[fam['id']]}])", file=file, place=f"families[{i}].id")
        seen[fam["id"]] = i
        for key in ("note_name_patterns", "extension_patterns"):
            for j, p in enumerate(fam.get(key, [])):
                try:
                    re.compile(p["regex"])
                except re.error as e:
                    raise ListError(f"not a valid regular expression: {e}", file=file,
                                    place=f"families[{i}].{key}[{j}].regex") from e


def _tuple(items: Iterable[Any] | None) -> tuple[Any, ...]:
    return tuple(items or ())


def to_list(doc: dict[str, Any], *, origin: str | None = None,
            signed_by: str | None = None) -> FamilyList:
    """A validated document as a :class:`FamilyList`."""
    families = []
    for i, f in enumerate(doc["families"]):
        for key in ("note_name_patterns", "extension_patterns"):
            for j, p in enumerate(f.get(key, ())):
                try:
                    re.compile(p["regex"])
                except re.error as e:
                    raise ListError(f"not a valid regular expression: {e}", file=origin,
                                    place=f"families[{i}].{key}[{j}].regex") from e
        families.append(Family(
            id=f["id"], name=f["name"], synonyms=_tuple(f.get("synonyms")),
            description=f.get("description"), galaxy_uuid=f.get("galaxy_uuid"),
            related=_tuple(f.get("related")), note_names=_tuple(f.get("note_names")),
            note_name_patterns=tuple(Pattern(**p) for p in f.get("note_name_patterns", ())),
            extensions=_tuple(f.get("extensions")),
            extension_patterns=tuple(Pattern(**p) for p in f.get("extension_patterns", ())),
            contacts=tuple((c["kind"], c["value"]) for c in f.get("contacts", ())),
            note_texts=_tuple(f.get("note_texts")), refs=_tuple(f.get("refs")),
            decryptors=tuple(Decryptor(**d) for d in f.get("decryptors", ())),
            source=f.get("source"), list_name=doc["name"]))
    return FamilyList(
        name=doc["name"], publisher=doc["publisher"], version=str(doc["version"]),
        date=doc["date"], description=doc.get("description"), families=tuple(families),
        sources=tuple(ListSource(**s) for s in doc.get("sources", ())), origin=origin,
        signed_by=signed_by)


def load(path: str | os.PathLike[str], *, allow_unsigned: bool = False,
         trusted_keys: Iterable[str | os.PathLike[str]] | None = None) -> FamilyList:
    """Load, validate and signature-check the family list at ``path`` (as risk lists are:
    unsigned or untrusted lists are refused unless ``allow_unsigned``)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_LIST_BYTES:
            raise ListError(f"list is larger than {MAX_LIST_BYTES} bytes", file=p.name)
        data = p.read_bytes()
    except OSError as e:
        raise ListError(f"cannot read list: {e.strerror or e}", file=str(path)) from e
    doc = parse(data, file=p.name)
    if not is_family_list(doc):
        raise ListError("not a ransomware family list (no 'kitvet_ransom' key)", file=p.name)
    signed_by = _signature(p, doc, allow_unsigned, trusted_keys)
    if signed_by is None:
        validate(doc, file=p.name)
    try:
        return to_list(doc, origin=str(p), signed_by=signed_by)
    except (KeyError, TypeError, AttributeError) as e:  # a signer that skipped validation
        validate(doc, file=p.name)
        raise ListError(f"malformed list: {e}", file=p.name) from e


def _signature(p: Path, doc: dict[str, Any], allow_unsigned: bool,
               trusted_keys: Iterable[str | os.PathLike[str]] | None) -> str | None:
    from kitvet.lists.loader import _check_signature

    return _check_signature(p, doc, allow_unsigned=allow_unsigned, trusted_keys=trusted_keys)


def bundled_path() -> Path:
    """Where the bundled family list is."""
    return Path(str(resources.files("kitvet.ransom").joinpath("data", BUNDLED)))


@lru_cache(maxsize=1)
def bundled() -> FamilyList:
    """The bundled family list, verified with the bundled public key; loaded once."""
    return load(bundled_path(), trusted_keys=signing.default_key_locations()[:1])


def config_dir() -> Path:
    """Where an organisation's own family lists are picked up."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "kitvet" / "ransom"


def load_all(paths: Iterable[str | os.PathLike[str]] = (), *, allow_unsigned: bool = False,
             include_bundled: bool = True, include_config: bool = True) -> list[FamilyList]:
    """The family lists in force: bundled, the organisation's folder, then ``paths``."""
    lists = [bundled()] if include_bundled else []
    extra = sorted(config_dir().glob("*.json")) + sorted(config_dir().glob("*.y*ml")) \
        if include_config and config_dir().is_dir() else []
    for p in [*extra, *map(Path, paths)]:
        lists.append(load(p, allow_unsigned=allow_unsigned))
    names: dict[str, str] = {}
    for fl in lists:
        if fl.name in names:
            raise ListError(f"two family lists are named {fl.name!r} (also {names[fl.name]})",
                            file=fl.origin)
        names[fl.name] = fl.origin or fl.name
    return lists


def merged(lists: Iterable[FamilyList]) -> list[Family]:
    """Every family of ``lists``; entries sharing an id are merged into one."""
    out: dict[str, Family] = {}
    for fl in lists:
        for fam in fl.families:
            out[fam.id] = _merge(out[fam.id], fam) if fam.id in out else fam
    return list(out.values())


def _merge(a: Family, b: Family) -> Family:
    def union(x: tuple[Any, ...], y: tuple[Any, ...]) -> tuple[Any, ...]:
        return x + tuple(v for v in y if v not in x)

    return Family(
        id=a.id, name=a.name, synonyms=union(a.synonyms, b.synonyms),
        description=a.description or b.description, galaxy_uuid=a.galaxy_uuid or b.galaxy_uuid,
        related=union(a.related, b.related), note_names=union(a.note_names, b.note_names),
        note_name_patterns=union(a.note_name_patterns, b.note_name_patterns),
        extensions=union(a.extensions, b.extensions),
        extension_patterns=union(a.extension_patterns, b.extension_patterns),
        contacts=union(a.contacts, b.contacts), note_texts=union(a.note_texts, b.note_texts),
        refs=union(a.refs, b.refs), decryptors=union(a.decryptors, b.decryptors),
        source="; ".join(s for s in (a.source, b.source) if s) or None,
        list_name=", ".join(s for s in (a.list_name, b.list_name) if s) or None)


def dump(doc: dict[str, Any], path: Path) -> bytes:
    """The bytes of a family list document: JSON for ``.json`` files, else YAML."""
    if path.suffix.lower() == ".json":
        return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return dump_yaml(doc).encode("utf-8")
