"""The risk-list file format: YAML text <-> validated document <-> :class:`RiskList`.

A list file is YAML (a JSON-compatible subset: no anchors needed, dates as ``YYYY-MM-DD``
strings) validated by the JSON Schema shipped in ``lists/data/risk-list.schema.json``.
Every error names the file and the place in the document, e.g.
``kitvet-core.yaml: subjects[3].assertions[0].date: 'not-a-date' is not a date``.
The format is documented in ``docs/risk-lists.md``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kitvet.errors import ListError
from kitvet.model.risk import Assertion, Identifier, RiskList, Subject

logger = logging.getLogger(__name__)

#: Version of the list format this kitvet writes (``kitvet_list:`` key).
LIST_FORMAT_VERSION = "1.0"
#: Largest YAML list file kitvet reads (hostile or corrupt input is bounded).
MAX_LIST_BYTES = 32 * 1024 * 1024
#: Largest JSON list file (a list of 100,000 subjects is ~100 MB; JSON parses ~100× faster).
MAX_JSON_LIST_BYTES = 512 * 1024 * 1024

_TUPLE_FIELDS = {"aliases", "versions", "package_types", "platforms", "fixed_versions"}


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML loader that keeps dates as strings and refuses duplicate keys."""


# Dates stay text: the canonical form (and signatures) must not depend on YAML's typing.
_StrictLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping  # type: ignore[arg-type]
)


@lru_cache(maxsize=1)
def list_schema() -> dict[str, Any]:
    """The JSON Schema of list files (shipped as ``lists/data/risk-list.schema.json``)."""
    text = resources.files("kitvet.lists").joinpath("data/risk-list.schema.json").read_text("utf-8")
    return json.loads(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _is_json(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return text[:64].lstrip().startswith(b"{")
    return text[:64].lstrip().startswith("{")


def parse_text(text: str | bytes, *, file: str) -> dict[str, Any]:
    """Parse list YAML (or JSON) into a plain document; YAML errors name file and line.

    A document that starts with ``{`` is read as JSON (YAML's JSON subset, parsed by the
    json module: big lists are written as JSON)."""
    if _is_json(text):
        if len(text) > MAX_JSON_LIST_BYTES:
            raise ListError(f"list is larger than {MAX_JSON_LIST_BYTES} bytes", file=file)
        try:
            doc = json.loads(text, object_pairs_hook=_no_duplicates)
        except ValueError as e:
            raise ListError(f"not valid JSON: {e}", file=file) from e
        if not isinstance(doc, dict):
            raise ListError("a list file must be a mapping with kitvet_list, name, ...",
                            file=file)
        return doc
    if len(text) > MAX_LIST_BYTES:
        raise ListError(f"list is larger than {MAX_LIST_BYTES} bytes", file=file)
    try:
        doc = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ListError(f"not valid YAML: {e.problem or e}", file=file, place=place) from e
    except yaml.YAMLError as e:
        raise ListError(f"not valid YAML: {e}", file=file) from e
    if not isinstance(doc, dict):
        raise ListError("a list file must be a mapping with kitvet_list, name, ...", file=file)
    return doc


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and parse (not yet validate) the list file at ``path``."""
    p = Path(path)
    return parse_text(read_bytes(p), file=p.name)


def read_bytes(p: Path) -> bytes:
    """The bytes of a list file, bounded by :data:`MAX_JSON_LIST_BYTES`."""
    try:
        size = p.stat().st_size
        if size > MAX_JSON_LIST_BYTES:
            raise ListError(f"list is larger than {MAX_JSON_LIST_BYTES} bytes", file=p.name)
        return p.read_bytes()
    except OSError as e:
        raise ListError(f"cannot read list: {e.strerror or e}", file=str(p)) from e


def _place(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _message(err: Any) -> str:
    v = err.instance
    shown = repr(v) if not isinstance(v, (dict, list)) else type(v).__name__
    if err.validator == "format":
        return f"{shown} is not a {err.validator_value}"
    if err.validator == "pattern" and err.validator_value.startswith("^\\d{4}"):
        return f"{shown} is not a date (YYYY-MM-DD)"
    if err.validator == "pattern" and err.validator_value.startswith("^[^\\u0000"):
        return f"{printable(str(v))[:80]!r} contains control characters"
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(v) - set(allowed))
        return f"unknown field {', '.join(map(repr, extra))} (allowed: {', '.join(allowed)})"
    if err.validator == "enum":
        allowed = [a for a in err.validator_value if a is not None]
        return f"{shown} is not one of {', '.join(map(str, allowed))}"
    if err.validator == "anyOf" and err.context:
        return _message(min(err.context, key=lambda e: len(list(e.relative_path))))
    return err.message


#: Characters that reorder or break what a terminal shows (C1 controls, line and paragraph
#: separators, bidirectional overrides and isolates): a list entry could otherwise display as
#: something it is not.
_HIDDEN = frozenset([*map(chr, range(0x80, 0xA0)), "\u061c", "\u200e", "\u200f", "\u2028",
                     "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))])


def _escape(c: str) -> str:
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def printable(text: str) -> str:
    """``text`` with control characters (other than newline and tab) and characters that
    reorder the display (bidirectional overrides) shown as ``\\xNN`` / ``\\uNNNN``."""
    return "".join(
        c if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127 and c not in _HIDDEN)
        else _escape(c)
        for c in text
    )


def validate_document(doc: dict[str, Any], *, file: str) -> None:
    """Validate a parsed list against the schema and the rules a schema cannot say.

    Raises :class:`ListError` naming the file and the place of the first problem. A document
    the compiled validator (jsonschema-rs, a hundred times faster on a list of 100,000
    subjects) accepts is not validated again; one it refuses is, for the message.
    """
    if not _fast_valid(doc):
        _explain_invalid(doc, file=file)
    _check_unique_ids(doc, file=file)


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a dependency; the full validator still works
        return None
    return jsonschema_rs.validator_for(list_schema(), validate_formats=True)


def _fast_valid(doc: dict[str, Any]) -> bool:
    v = _fast_validator()
    return v is not None and bool(v.is_valid(doc))


def _explain_invalid(doc: dict[str, Any], *, file: str) -> None:
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(list_schema())
    validator = validator_cls(list_schema(), format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        err = errors[0]
        raise ListError(_message(err), file=file, place=_place(err.absolute_path))


def _check_unique_ids(doc: dict[str, Any], *, file: str) -> None:
    seen: dict[str, int] = {}
    for i, subj in enumerate(doc.get("subjects", [])):
        sid = subj["id"]
        if sid in seen:
            raise ListError(
                f"duplicate subject id {sid!r} (first at subjects[{seen[sid]}])",
                file=file,
                place=f"subjects[{i}].id",
            )
        seen[sid] = i


def _build(cls: type, data: dict[str, Any]) -> Any:
    kwargs = {k: (tuple(v) if k in _TUPLE_FIELDS else v) for k, v in data.items()}
    return cls(**kwargs)


def document_to_list(doc: dict[str, Any], *, origin: str | None = None) -> RiskList:
    """A validated document as a :class:`RiskList` (call :func:`validate_document` first)."""
    subjects = []
    for s in doc.get("subjects", []):
        data = dict(s)
        data["identifiers"] = tuple(_build(Identifier, i) for i in s.get("identifiers", []))
        data["assertions"] = tuple(_build(Assertion, a) for a in s.get("assertions", []))
        subjects.append(_build(Subject, data))
    return RiskList(
        name=doc["name"],
        publisher=doc["publisher"],
        version=str(doc["version"]),
        date=doc["date"],
        description=doc.get("description"),
        subjects=tuple(subjects),
        origin=origin,
    )


def _clean(obj: Any, skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        if f.name in skip:
            continue
        v = getattr(obj, f.name)
        if v is None or v == () or (f.name == "verified" and v is True):
            continue
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def list_to_document(rl: RiskList) -> dict[str, Any]:
    """A :class:`RiskList` as a plain document (the inverse of :func:`document_to_list`)."""
    doc: dict[str, Any] = {
        "kitvet_list": LIST_FORMAT_VERSION,
        "name": rl.name,
        "publisher": rl.publisher,
        "version": rl.version,
        "date": rl.date,
    }
    if rl.description:
        doc["description"] = rl.description
    subjects = []
    for s in rl.subjects:
        d = _clean(s, {"identifiers", "assertions"})
        d["identifiers"] = [_clean(i, set()) for i in s.identifiers]
        d["assertions"] = [_clean(a, set()) for a in s.assertions]
        subjects.append(d)
    doc["subjects"] = subjects
    return doc


def dump_yaml(doc: dict[str, Any]) -> str:
    """A document as readable YAML (key order kept; dates as quoted-free ISO strings)."""
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def write_list(rl: RiskList | dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a list (or document) atomically (temp file + ``os.replace``): JSON when ``path``
    ends in ``.json`` (big lists: fast to read back), else YAML."""
    doc = list_to_document(rl) if isinstance(rl, RiskList) else rl
    validate_document(doc, file=Path(path).name)
    json_out = str(path).endswith(".json")
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n" if json_out else dump_yaml(doc)
    return atomic_write(Path(path), text.encode("utf-8"))


def atomic_write(path: Path, data: bytes) -> Path:
    """Write bytes to ``path`` via a temp file in the same directory and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; lists and public keys are meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
