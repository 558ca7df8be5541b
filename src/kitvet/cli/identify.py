"""``kitvet identify``: which identifier led to which organisation, from which database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kitvet.identify.explain import Explained

IDENTIFY_SCHEMA_VERSION = "1.0.0"


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="ITEM-OR-FILE...")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--input-format", default=None,
              help="Format of inventory files (default: detected from content).")
@click.option("--all", "include_unknown", is_flag=True,
              help="Also list inventory items no identifier attributes to an organisation.")
@click.option("--suggest", is_flag=True,
              help="For organisation names no database knows, suggest similar names of the "
                   "organisation graph (fuzzy, for a reviewer to add as aliases; never a "
                   "finding).")
def identify(targets: tuple[str, ...], fmt: str, input_format: str | None,
             include_unknown: bool, suggest: bool) -> None:
    """Explain who made an item or every item of an inventory file.

    ITEM is KIND:VALUE, e.g. usb:12d1, usb:12d1:1506, pci:19e5, mac:bc:5e:33:00:11:22,
    oui:"zte corporation", publisher:"AO Kaspersky Lab", signer:"CN=..., O=...",
    bundle:com.kaspersky.kav, package:kesl, process:avp.exe, or a CPE such as
    cpe:2.3:o:hikvision:... typed as is. Anything else is read as an inventory file or
    folder in any format kitvet imports (see kitvet import).
    """
    from kitvet.identify.explain import with_suggestions

    results = []
    for target in targets:
        results.extend(explain(target, fmt=input_format,
                               include_unknown=include_unknown or suggest))
    if suggest:
        results = with_suggestions(results)
    if fmt == "json":
        doc = {"kitvet_identify": IDENTIFY_SCHEMA_VERSION,
               "items": [r.to_dict() for r in results]}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _table(results)


def explain(target: str, *, fmt: str | None = None,
            include_unknown: bool = False) -> list[Explained]:
    """Explain an item (``KIND:VALUE``) or every item of an inventory file or folder."""
    from kitvet.identify.explain import explain_snapshots, explain_typed
    from kitvet.sources.registry import read_paths

    if not Path(target).exists() and (typed := explain_typed(target)) is not None:
        return [typed]
    return explain_snapshots(read_paths([Path(target)], fmt=fmt),
                             include_unknown=include_unknown)


def _table(results: list[Explained]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from kitvet.identify.explain import why_unknown

    console = Console(soft_wrap=False)
    if not results:
        console.print("No item identified.")
        return
    table = Table(show_lines=False, title="Who made it")
    table.add_column("Item", overflow="fold", ratio=2)
    table.add_column("Organisation", overflow="fold", ratio=2)
    table.add_column("Why (identifier → organisation, database)", overflow="fold", ratio=4)
    for r in results:
        item = r.item + (f"\nhost {r.host_id}" if r.host_id else "") + (
            f"\n{r.location}" if r.location else "")
        if not r.attributions:
            table.add_row(Text(item), Text("unknown", style="dim"),
                          Text(why_unknown(r), style="dim"))
        for i, a in enumerate(r.attributions):
            # inventory text is shown as plain Text: markup in hostile values is not rendered
            table.add_row(Text(item if i == 0 else ""), Text(a.organisation), Text(a.explanation))
        for s in r.extra.get("suggestions", []):
            table.add_row(Text(""), Text(f"suggestion: {s['organisation']}", style="yellow"),
                          Text(f"{s['name']!r} looks like {s['similar_to']!r} (similarity "
                               f"{s['score']}); add it to the organisation graph as an alias, "
                               "with a source, if it is the same organisation", style="yellow"))
    console.print(table)
