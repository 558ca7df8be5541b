"""The organisation graph: every name an organisation has in each registry, and its relations.

A graph file (YAML, ``kitvet_orgs: "1.0"``, JSON Schema ``identify/data/organisations.schema.json``,
documented in ``docs/organisations.md``) lists organisations with the names they appear under
(IEEE MA-L/MA-M/MA-S/IAB registrants, usb.ids / pci.ids vendor ids, publishers, code-signing
subjects, Apple Team IDs, package namespaces ...) and dated, sourced relations between them:
``subsidiary``, ``affiliate``, ``joint-venture``, ``brand``, ``former-owner``. kitvet ships one
(``identify/data/organisations.yaml``, Ed25519-signed like the risk lists); an organisation adds
its own files (``$XDG_CONFIG_HOME/kitvet/orgs/*.yaml`` or ``KITVET_ORGS``), signed by a trusted
key unless told to accept them unsigned.

What a file may not say, it is refused for, with one line naming the file and the entry: a
schema error, an unknown organisation in a relation, a cycle, two relations of one pair whose
validity periods overlap, one registry name claimed by two organisations.

:meth:`OrgGraph.family` follows the relations from an organisation as far as a *reach* allows
(``kitvet.model.risk.REACHES``): brands at every reach, subsidiaries from ``subsidiaries``,
affiliates and joint ventures only at ``subsidiaries-and-affiliates``; ``former-owner`` never.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kitvet.errors import KitvetError
from kitvet.identify.orgs import org_key

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
BUNDLED_GRAPH = DATA / "organisations.yaml"
GRAPH_FORMAT_VERSION = "1.0"
MAX_GRAPH_BYTES = 16 * 1024 * 1024

#: Relation type -> the reach level that follows it (None: never followed).
RELATION_LEVELS: dict[str, int | None] = {
    "brand": 0, "subsidiary": 1, "joint-venture": 2, "affiliate": 2, "former-owner": None,
}
RELATION_WORDS = {"brand": "a brand of", "subsidiary": "a subsidiary of",
                  "joint-venture": "a joint venture of", "affiliate": "an affiliate of",
                  "former-owner": "formerly owned by"}
#: Registries whose values are organisation names (matched as publisher, signer, IEEE name).
NAME_REGISTRIES = frozenset({"ieee", "publisher", "signer", "alias"})


class OrgGraphError(KitvetError):
    """An organisation graph file is invalid, unsigned or cannot be read."""


@dataclass(frozen=True)
class OrgName:
    """One name (or id) an organisation appears under in one registry."""

    registry: str
    value: str
    source: str
    registries: tuple[str, ...] = ()  # IEEE: MA-L, MA-M, MA-S, IAB
    label: str | None = None
    source_quality: str | None = None
    reference_url: str | None = None
    verified: bool = True


@dataclass(frozen=True)
class Organisation:
    """A legal entity (or brand) and every name it appears under."""

    id: str
    name: str
    names: tuple[OrgName, ...] = ()
    country: str | None = None
    description: str | None = None

    def all_names(self) -> list[str]:
        """The canonical name and every organisation-name value (not ids)."""
        out = [self.name] + [n.value for n in self.names if n.registry in NAME_REGISTRIES]
        return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Relation:
    """``from_id`` is ``type`` of ``to_id`` (a subsidiary of ...), from/to dates, with source."""

    from_id: str
    type: str
    to_id: str
    source: str
    valid_from: str | None = None
    valid_to: str | None = None
    source_quality: str | None = None
    reference_url: str | None = None
    description: str | None = None
    note: str | None = None
    place: str = ""  # "file: relations[i]" for messages

    @property
    def start(self) -> str:
        """First day it held (``0000-01-01`` if undated)."""
        return _day(self.valid_from) or "0000-01-01"

    @property
    def end(self) -> str:
        """First day it no longer held (``9999-12-31`` if ongoing)."""
        return _day(self.valid_to) or "9999-12-31"

    def holds_on(self, day: str) -> bool:
        """True if the relation held on ``day`` (YYYY-MM-DD)."""
        return self.start <= day < self.end

    def period(self) -> str:
        """'since 2017-05-25', 'until 2020-11-17', '2008 – 2012-03-29' or ''."""
        if self.valid_from and self.valid_to:
            return f"{self.valid_from} – {self.valid_to}"
        if self.valid_from:
            return f"since {self.valid_from}"
        if self.valid_to:
            return f"until {self.valid_to}"
        return ""


def _day(period: str | None) -> str | None:
    if not period:
        return None
    parts = period.split("-")
    return "-".join([*parts, *(["01"] * (3 - len(parts)))])


@dataclass(frozen=True)
class Reached:
    """An organisation reached from another through relations (empty path: itself)."""

    org: Organisation
    path: tuple[Relation, ...]
    level: int  # reach level needed: 0 entity, 1 subsidiaries, 2 subsidiaries-and-affiliates

    @property
    def valid_from(self) -> str | None:
        """First day every relation of the path held (None: always)."""
        starts = [r.start for r in self.path if r.valid_from]
        return max(starts) if starts else None

    @property
    def valid_to(self) -> str | None:
        """First day one relation of the path no longer held (None: still holds)."""
        ends = [r.end for r in self.path if r.valid_to]
        return min(ends) if ends else None


@dataclass(frozen=True)
class OrgGraph:
    """Organisations by id and the relations between them (bundled plus an organisation's)."""

    organisations: dict[str, Organisation]
    relations: tuple[Relation, ...] = ()
    origins: tuple[str, ...] = ()
    signed_by: tuple[str | None, ...] = ()
    _by_target: dict[str, tuple[Relation, ...]] = field(default_factory=dict, compare=False,
                                                          repr=False)

    def get(self, org_id: str) -> Organisation | None:
        """The organisation with this id."""
        return self.organisations.get(org_id)

    def find(self, query: str) -> Organisation | None:
        """An organisation by id, or by any of its names (normalised)."""
        if query in self.organisations:
            return self.organisations[query]
        key = org_key(query)
        for org in self.organisations.values():
            if key and any(org_key(n) == key for n in org.all_names()):
                return org
        return None

    def relations_of(self, org_id: str) -> list[Relation]:
        """Every relation with ``org_id`` at either end."""
        return [r for r in self.relations if org_id in (r.from_id, r.to_id)]

    def family(self, org_id: str, max_level: int = 2) -> list[Reached]:
        """``org_id`` and every organisation reached from it within ``max_level`` (brands at 0,
        subsidiaries at 1, affiliates and joint ventures at 2), once per path that reaches it
        (paths differ in level and in the dates they held: a joint venture bought out becomes
        a subsidiary). Relations are followed from the listed company outwards: to its brands,
        subsidiaries, joint ventures, and affiliates (either way); subsidiaries of subsidiaries
        are subsidiaries. Lowest level first, then shortest path."""
        root = self.organisations.get(org_id)
        if root is None:
            return []
        out = [Reached(root, (), 0)]
        stack = [out[0]]
        while stack:
            here = stack.pop()
            seen = {org_id, *(r.from_id for r in here.path), *(r.to_id for r in here.path)}
            cur = here.org.id
            for rel, other in self._edges(cur):
                lvl = RELATION_LEVELS[rel.type]
                if lvl is None or other not in self.organisations or other in seen:
                    continue
                level = max(here.level, lvl)
                if level > max_level:
                    continue
                cand = Reached(self.organisations[other], (*here.path, rel), level)
                if cand.valid_from and cand.valid_to and cand.valid_from >= cand.valid_to:
                    continue  # the relations of this path never held at the same time
                out.append(cand)
                stack.append(cand)
        return sorted(out, key=lambda r: (r.level, len(r.path), r.org.id, r.valid_from or ""))

    def _edges(self, org_id: str) -> Iterator[tuple[Relation, str]]:
        for rel in self._by_target.get(org_id, ()):
            yield rel, rel.from_id
        for rel in self.relations:
            if rel.type == "affiliate" and rel.from_id == org_id:
                yield rel, rel.to_id

    def describe_path(self, reached: Reached) -> str:
        """'Huawei Device Co., Ltd. → a subsidiary of Huawei Technologies Co., Ltd. (source;
        since 2019)' for each relation of the path, or '' for the organisation itself."""
        parts = []
        for rel in reached.path:
            frm, to = self.organisations[rel.from_id], self.organisations[rel.to_id]
            when = rel.period()
            src = rel.reference_url or rel.source
            extra = "; ".join(x for x in (when, f"source: {src}") if x)
            parts.append(f"{frm.name} → {RELATION_WORDS[rel.type]} {to.name} ({extra})")
        return " → ".join(parts)


# --- reading -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def graph_schema() -> dict[str, Any]:
    """The JSON Schema of organisation graph files."""
    return json.loads((DATA / "organisations.schema.json").read_text("utf-8"))


def read_graph_document(path: Path) -> dict[str, Any]:
    """Parse a graph file (YAML; dates stay text, duplicate keys refused)."""
    from kitvet.lists.format import parse_text

    try:
        if path.stat().st_size > MAX_GRAPH_BYTES:
            raise OrgGraphError(f"larger than {MAX_GRAPH_BYTES} bytes", file=path.name)
        data = path.read_bytes()
    except OSError as e:
        raise OrgGraphError(f"cannot read: {e.strerror or e}", file=str(path)) from e
    try:
        return parse_text(data, file=path.name)
    except KitvetError as e:
        raise OrgGraphError(e.message, file=e.file, place=e.place) from e


def validate_graph_document(doc: dict[str, Any], *, file: str) -> None:
    """Refuse a document the schema refuses, with the file and the entry."""
    import jsonschema

    from kitvet.lists.format import _message, _place

    cls = jsonschema.validators.validator_for(graph_schema())
    validator = cls(graph_schema(), format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        err = errors[0]
        raise OrgGraphError(_message(err), file=file, place=_place(err.absolute_path))


def _entries(doc: dict[str, Any], file: str) -> tuple[list[Organisation], list[Relation]]:
    orgs = []
    for i, o in enumerate(doc.get("organisations", [])):
        names = tuple(OrgName(registry=n["registry"], value=str(n["value"]), source=n["source"],
                              registries=tuple(n.get("registries", ())), label=n.get("label"),
                              source_quality=n.get("source_quality"),
                              reference_url=n.get("reference_url"),
                              verified=n.get("verified", True))
                      for n in o.get("names", []))
        orgs.append((i, Organisation(o["id"], o["name"], names, o.get("country"),
                                     o.get("description"))))
    rels = [Relation(from_id=r["from"], type=r["type"], to_id=r["to"], source=r["source"],
                     valid_from=r.get("valid_from"), valid_to=r.get("valid_to"),
                     source_quality=r.get("source_quality"),
                     reference_url=r.get("reference_url"), description=r.get("description"),
                     note=r.get("note"), place=f"{file}: relations[{i}]")
            for i, r in enumerate(doc.get("relations", []))]
    return [o for _, o in orgs], rels


def build_graph(docs: Iterable[tuple[dict[str, Any], str, str | None]]) -> OrgGraph:
    """Merge validated documents (document, file name, signing key id) into one graph and check
    what a schema cannot: ids, names, relation ends, cycles, overlapping periods."""
    orgs: dict[str, Organisation] = {}
    rels: list[Relation] = []
    origins, signers = [], []
    owner: dict[tuple[str, str], str] = {}
    for doc, file, signed_by in docs:
        origins.append(file)
        signers.append(signed_by)
        entries, more = _entries(doc, file)
        seen: set[str] = set()
        for i, org in enumerate(entries):
            if org.id in seen:
                raise OrgGraphError(f"duplicate organisation id {org.id!r}", file=file,
                                    place=f"organisations[{i}].id")
            seen.add(org.id)
            _check_names(org, owner, file, i)
            if org.id in orgs:  # an organisation's file adds names to a bundled organisation
                old = orgs[org.id]
                org = Organisation(old.id, old.name, old.names + org.names, old.country,
                                   old.description)
            orgs[org.id] = org
        rels += more
    _check_relations(orgs, rels)
    by_target: dict[str, list[Relation]] = {}
    for r in rels:
        if r.type != "former-owner":
            by_target.setdefault(r.to_id, []).append(r)
    return OrgGraph(orgs, tuple(rels), tuple(origins), tuple(signers),
                    {k: tuple(v) for k, v in by_target.items()})


def _check_names(org: Organisation, owner: dict[tuple[str, str], str], file: str,
                 i: int) -> None:
    """One registry name (normalised) or id belongs to one organisation."""
    for j, n in enumerate(org.names):
        kind = "name" if n.registry in NAME_REGISTRIES else n.registry
        key = (kind, org_key(n.value) if kind == "name" else n.value.strip().lower())
        other = owner.setdefault(key, org.id)
        if other != org.id:
            raise OrgGraphError(f"{n.registry} {n.value!r} is already a name of {other!r}",
                                file=file, place=f"organisations[{i}].names[{j}]")


def _check_relations(orgs: dict[str, Organisation], rels: list[Relation]) -> None:
    for r in rels:
        for end in (r.from_id, r.to_id):
            if end not in orgs:
                raise OrgGraphError(f"unknown organisation {end!r}", place=r.place)
        if r.from_id == r.to_id:
            raise OrgGraphError(f"{r.from_id!r} cannot be related to itself", place=r.place)
        if r.start >= r.end:
            raise OrgGraphError(f"valid_to {r.valid_to} is not after valid_from "
                                f"{r.valid_from}", place=r.place)
    for i, a in enumerate(rels):
        for b in rels[:i]:
            if {a.from_id, a.to_id} == {b.from_id, b.to_id} and a.start < b.end \
                    and b.start < a.end:
                raise OrgGraphError(
                    f"{a.type} {a.from_id} → {a.to_id} ({a.period() or 'undated'}) overlaps "
                    f"{b.place.rsplit(': ', 1)[-1]} ({b.type}, {b.period() or 'undated'}): "
                    "one relation between two organisations at a time", place=a.place)
    _check_cycles(rels)


def _check_cycles(rels: list[Relation]) -> None:
    """No organisation may be, through ownership or brand relations, part of itself."""
    edges: dict[str, list[Relation]] = {}
    order = {id(r): i for i, r in enumerate(rels)}
    for r in rels:
        if r.type != "former-owner":
            edges.setdefault(r.from_id, []).append(r)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[Relation]) -> None:
        state[node] = 1
        for r in edges.get(node, []):
            if state.get(r.to_id) == 1:
                start = next(i for i, t in enumerate(trail) if t.from_id == r.to_id) \
                    if any(t.from_id == r.to_id for t in trail) else len(trail)
                loop = [*trail[start:], r]
                last = max(loop, key=lambda x: order[id(x)])  # the entry that closes it
                k = loop.index(last)
                loop = loop[k:] + loop[:k]  # read the cycle from that entry
                names = " → ".join([loop[0].from_id, *(t.to_id for t in loop)])
                raise OrgGraphError(f"cycle {names}", place=last.place)
            if state.get(r.to_id) is None:
                visit(r.to_id, [*trail, r])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def _signature(path: Path, doc: dict[str, Any], *, allow_unsigned: bool) -> str | None:
    from kitvet.lists import signing

    sig_file = signing.sig_path(path)
    try:
        data = sig_file.read_bytes()
    except OSError:
        if allow_unsigned:
            logger.warning("%s: unsigned organisation graph accepted", path.name)
            return None
        raise OrgGraphError(f"unsigned (no {sig_file.name}); sign it with 'kitvet lists sign' "
                            "or pass --allow-unsigned", file=path.name) from None
    try:
        sig = signing.parse_signature(data, file=sig_file.name)
        return signing.verify_document(doc, sig, signing.trusted_keys(), file=path.name)
    except KitvetError as e:
        if allow_unsigned:
            logger.warning("%s; accepted as unsigned", e)
            return None
        raise OrgGraphError(e.message, file=e.file, place=e.place) from e


def extra_graph_paths() -> list[Path]:
    """An organisation's own graph files: ``KITVET_ORGS`` (``:``-separated files or folders),
    else every ``*.yaml`` in ``$XDG_CONFIG_HOME/kitvet/orgs``."""
    env = os.environ.get("KITVET_ORGS")
    if env is not None:
        entries = [Path(p) for p in env.split(os.pathsep) if p]
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        entries = [(Path(xdg) if xdg else Path.home() / ".config") / "kitvet" / "orgs"]
    out: list[Path] = []
    for e in entries:
        if e.is_dir():
            out += sorted(e.glob("*.yaml")) + sorted(e.glob("*.yml"))
        elif e.is_file():
            out.append(e)
    return out


def load_graph(extra: Iterable[str | os.PathLike[str]] | None = None, *,
               allow_unsigned: bool = False, bundled: bool = True) -> OrgGraph:
    """The bundled graph (signature checked) merged with ``extra`` files (default: the
    organisation's, see :func:`extra_graph_paths`). Raises :class:`OrgGraphError`."""
    paths = ([BUNDLED_GRAPH] if bundled else []) + [Path(p) for p in (
        extra if extra is not None else extra_graph_paths())]
    docs = []
    for p in paths:
        doc = read_graph_document(p)
        validate_graph_document(doc, file=p.name)
        signed = _signature(p, doc, allow_unsigned=allow_unsigned and p != BUNDLED_GRAPH)
        docs.append((doc, p.name, signed))
    return build_graph(docs)


_default: OrgGraph | None = None


def default_graph() -> OrgGraph:
    """The process-wide graph: bundled plus the organisation's files (built on first use)."""
    global _default
    if _default is None:
        _default = load_graph()
    return _default


def configure(graph: OrgGraph | None) -> None:
    """Use ``graph`` for every look-up of this process (None: load the default again)."""
    global _default
    _default = graph
    import sys

    software = sys.modules.get("kitvet.identify.software")
    if software is not None:
        software.load_aliases.cache_clear()
        software.clear_caches()


def sign_graph(path: str | os.PathLike[str], key: str | os.PathLike[str]) -> str:
    """Validate the graph file at ``path`` (with the bundled graph it extends) and write its
    detached signature ``<path>.sig`` with the private key ``key``; returns the key id."""
    from kitvet.lists import signing

    p = Path(path)
    doc = read_graph_document(p)
    validate_graph_document(doc, file=p.name)
    others = [] if p.resolve() == BUNDLED_GRAPH.resolve() else [
        (read_graph_document(BUNDLED_GRAPH), BUNDLED_GRAPH.name, None)]
    build_graph([*others, (doc, p.name, None)])
    sig = signing.sign_document(doc, signing.load_private_key(Path(key)))
    signing.write_signature(p, sig)
    return str(sig["key_id"])
