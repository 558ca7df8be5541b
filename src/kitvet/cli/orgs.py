"""``kitvet orgs``: the organisation graph — names, blocks, relations, export and coverage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kitvet.identify.graph import OrgGraph

ORGS_SCHEMA_VERSION = "1.0.0"

_graph_options = [
    click.option("--orgs", "extra", multiple=True, type=click.Path(path_type=Path),
                 help="An organisation graph file of yours, added to the bundled one "
                      "(repeatable; default: $KITVET_ORGS or ~/.config/kitvet/orgs/*.yaml)."),
    click.option("--allow-unsigned", is_flag=True,
                 help="Accept graph files of yours that are unsigned or signed by an "
                      "untrusted key."),
]


def graph_options(fn: Any) -> Any:
    """The --orgs / --allow-unsigned options of every orgs command."""
    for opt in reversed(_graph_options):
        fn = opt(fn)
    return fn


def _load(extra: tuple[Path, ...], allow_unsigned: bool) -> OrgGraph:
    from kitvet.identify import graph as og

    g = og.load_graph(list(extra) if extra else None, allow_unsigned=allow_unsigned)
    og.configure(g)
    return g


@click.group()
def orgs() -> None:
    """The organisation graph: who belongs to whom, under which names (docs/organisations.md)."""


def ieee_blocks(org_names: dict[str, str]) -> dict[str, list[tuple[str, str, str]]]:
    """Every IEEE block whose registrant is one of ``org_names`` (org key -> organisation id):
    organisation id -> [(registry, assignment, registrant)]."""
    from kitvet.identify import hardware
    from kitvet.identify.orgs import org_key

    out: dict[str, list[tuple[str, str, str]]] = {}
    for registry, digits, registrant in hardware.default_db().registry_entries():
        oid = org_names.get(org_key(registrant))
        if oid:
            out.setdefault(oid, []).append((registry, digits, registrant))
    return out


def _name_index(g: OrgGraph) -> dict[str, str]:
    from kitvet.identify.orgs import org_key

    return {org_key(n): o.id for o in g.organisations.values() for n in o.all_names()}


@orgs.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@graph_options
def show(query: str, fmt: str, extra: tuple[Path, ...], allow_unsigned: bool) -> None:
    """Every name, IEEE block, USB/PCI vendor id and relation (with sources) of QUERY (an id or
    a name) and of its corporate family."""
    from kitvet.errors import KitvetError

    g = _load(extra, allow_unsigned)
    org = g.find(query)
    if org is None:
        raise KitvetError(f"no organisation {query!r} in the organisation graph "
                          "(kitvet orgs graph lists them)")
    family = g.family(org.id)
    blocks = ieee_blocks({k: v for k, v in _name_index(g).items()
                          if v in {r.org.id for r in family}})
    doc = {"kitvet_orgs_show": ORGS_SCHEMA_VERSION, "organisation": org.id, "family": [
        {"id": r.org.id, "name": r.org.name, "level": r.level,
         "path": g.describe_path(r) or None,
         "names": [{k: v for k, v in n.__dict__.items() if v not in (None, (), True)}
                   for n in r.org.names],
         "ieee_blocks": [{"registry": reg, "assignment": a, "registrant": who}
                         for reg, a, who in sorted(blocks.get(r.org.id, []))],
         "relations": [_relation(g, rel) for rel in g.relations_of(r.org.id)]}
        for r in family]}
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _show_table(doc)


def _relation(g: Any, rel: Any) -> dict[str, Any]:
    from kitvet.identify.graph import RELATION_WORDS

    return {"from": rel.from_id, "type": rel.type, "to": rel.to_id,
            "text": f"{g.organisations[rel.from_id].name} is {RELATION_WORDS[rel.type]} "
                    f"{g.organisations[rel.to_id].name}",
            "valid_from": rel.valid_from, "valid_to": rel.valid_to, "source": rel.source,
            "reference_url": rel.reference_url, "source_quality": rel.source_quality,
            "note": rel.note}


def _show_table(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(soft_wrap=False)
    for fam in doc["family"]:
        table = Table(title=f"{fam['name']} ({fam['id']})", title_justify="left",
                      show_lines=False)
        table.add_column("Registry", ratio=1)
        table.add_column("Name or id", ratio=3, overflow="fold")
        table.add_column("Source", ratio=4, overflow="fold")
        for n in fam["names"]:
            regs = f" ({', '.join(n['registries'])})" if n.get("registries") else ""
            table.add_row(n["registry"] + regs, Text(n["value"]), Text(n["source"]))
        counts = Counter(b["registry"] for b in fam["ieee_blocks"])
        if counts:
            first = ", ".join(b["assignment"] for b in fam["ieee_blocks"][:6])
            more = " ..." if len(fam["ieee_blocks"]) > 6 else ""
            table.add_row("IEEE blocks", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                          f"{first}{more}")
        for rel in fam["relations"]:
            when = " – ".join(x for x in (rel["valid_from"] or "", rel["valid_to"] or "") if x)
            table.add_row("relation", Text(rel["text"] + (f" ({when})" if when else "")),
                          Text(rel["reference_url"] or rel["source"]))
        if fam["path"]:
            table.caption = f"in the family: {fam['path']}"
        console.print(table)


@orgs.command("graph")
@click.option("--format", "fmt", type=click.Choice(["json", "dot"]), default="json",
              show_default=True, help="JSON, or Graphviz DOT.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@graph_options
def graph_cmd(fmt: str, output: Path | None, extra: tuple[Path, ...],
              allow_unsigned: bool) -> None:
    """Export the organisation graph (organisations, names, relations with their sources)."""
    g = _load(extra, allow_unsigned)
    text = to_dot(g) if fmt == "dot" else json.dumps(to_json(g), indent=2, ensure_ascii=False)
    if output:
        from kitvet.lists.format import atomic_write

        atomic_write(output, (text + "\n").encode("utf-8"))
    else:
        click.echo(text)


def to_json(g: Any) -> dict[str, Any]:
    """The graph as a JSON document (schema-versioned)."""
    return {"kitvet_orgs_graph": ORGS_SCHEMA_VERSION, "origins": list(g.origins),
            "organisations": [{"id": o.id, "name": o.name, "country": o.country,
                               "names": [{k: v for k, v in n.__dict__.items()
                                          if v not in (None, (), True)} for n in o.names]}
                              for o in g.organisations.values()],
            "relations": [_relation(g, r) for r in g.relations]}


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def to_dot(g: OrgGraph) -> str:
    """The graph in Graphviz DOT: one node per organisation, one edge per relation (dashed for
    a former owner), labelled with the type and dates."""
    lines = ["digraph kitvet_orgs {", "  rankdir=LR;", "  node [shape=box];"]
    for o in g.organisations.values():
        lines.append(f"  {_dot_id(o.id)} [label={_dot_id(o.name)}];")
    for r in g.relations:
        label = r.type + (f"\\n{r.period()}" if r.period() else "")
        style = " style=dashed" if r.type == "former-owner" else ""
        lines.append(f"  {_dot_id(r.from_id)} -> {_dot_id(r.to_id)} "
                     f"[label={_dot_id(label)}{style}];")
    lines.append("}")
    return "\n".join(lines)


@orgs.command()
@click.option("--profile", default="default", show_default=True,
              help="Policy profile whose status each vendor gets.")
@click.option("--list", "list_paths", multiple=True, type=click.Path(path_type=Path),
              help="A risk list of yours (default: the bundled and fetched lists).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--on", "day", metavar="YYYY-MM-DD",
              help="Count the family as it was on this day [default: today].")
@graph_options
def coverage(profile: str, list_paths: tuple[Path, ...], fmt: str, day: str | None,
             extra: tuple[Path, ...], allow_unsigned: bool) -> None:
    """Per listed vendor: how many registry entries of its corporate family are attributed to
    it (IEEE blocks per registry, USB/PCI vendor ids), as far as its assertions reach and as
    the relations stood on a day."""
    from datetime import date

    from kitvet.lists import load_lists
    from kitvet.match.reach import max_reach

    day = day or date.today().isoformat()
    g = _load(extra, allow_unsigned)
    ls = load_lists(list(list_paths), allow_unsigned=allow_unsigned)
    index = _name_index(g)
    rows = []
    for rl, s in ls.subjects():
        if not s.organisation or g.get(s.organisation) is None:
            continue
        family = [r for r in g.family(s.organisation, max_reach(s))
                  if (r.valid_from or "") <= day < (r.valid_to or "9999")]
        ids = {r.org.id for r in family}
        blocks = ieee_blocks({k: v for k, v in index.items() if v in ids})
        counts = Counter(reg for b in blocks.values() for reg, _, _ in b)
        hw = sum(1 for r in family for n in r.org.names if n.registry in ("usb.ids", "pci.ids"))
        rows.append({"list": rl.name, "subject": s.id, "organisations": len(ids),
                     "MA-L": counts.get("MA-L", 0), "MA-M": counts.get("MA-M", 0),
                     "MA-S": counts.get("MA-S", 0), "IAB": counts.get("IAB", 0),
                     "usb_pci_ids": hw, "family": sorted(ids)})
    if fmt == "json":
        click.echo(json.dumps({"kitvet_orgs_coverage": ORGS_SCHEMA_VERSION, "profile": profile,
                               "on": day, "vendors": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Registry entries attributed to each listed vendor's family")
    for col in ("subject", "organisations", "MA-L", "MA-M", "MA-S", "IAB", "usb/pci ids"):
        table.add_column(col, justify="left" if col == "subject" else "right")
    for r in rows:
        table.add_row(*(str(r[k]) for k in ("subject", "organisations", "MA-L", "MA-M", "MA-S",
                                            "IAB", "usb_pci_ids")))
    Console(soft_wrap=False).print(table)


@orgs.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", required=True, type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="Ed25519 private key (kitvet lists keygen).")
def sign(path: Path, key: Path) -> None:
    """Validate an organisation graph file and write its signature PATH.sig."""
    from kitvet.identify.graph import sign_graph

    kid = sign_graph(path, key)
    click.echo(f"signed {path} with key {kid} -> {path}.sig")
