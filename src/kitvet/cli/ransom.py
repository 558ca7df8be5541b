"""``kitvet ransom``: which family, is there a free decryptor, which hosts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kitvet.model.ransom import Family, FamilyList

_LIST = click.option("--list", "list_paths", multiple=True,
                     type=click.Path(exists=True, dir_okay=False),
                     help="A family list of your own (repeatable), besides the bundled one and "
                          "those in ~/.config/kitvet/ransom/.")
_UNSIGNED = click.option("--allow-unsigned", is_flag=True,
                         help="Accept unsigned or unverified family lists.")
_OUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                    help="Write to this file (atomically) instead of the terminal.")


@click.group()
def ransom() -> None:
    """Ransomware triage: identify a family, find a free decryptor, sweep the estate."""


def _lists(list_paths: tuple[str, ...], allow_unsigned: bool
           ) -> tuple[list[FamilyList], list[Family]]:
    from kitvet.ransom import load_all, merged

    lists = load_all(list_paths, allow_unsigned=allow_unsigned)
    return lists, merged(lists)


def lists_meta(lists: Sequence[FamilyList]) -> list[dict[str, Any]]:
    """What a report says of the lists it used."""
    return [{"name": fl.name, "version": fl.version, "date": fl.date, "origin": fl.origin,
             "signed_by": fl.signed_by, "sources": [s.__dict__ for s in fl.sources]}
            for fl in lists]


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
        return
    from kitvet.lists.format import atomic_write

    atomic_write(output, (text.rstrip("\n") + "\n").encode("utf-8"))
    click.echo(f"wrote {output}", err=True)


@ransom.command("identify")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", "names", multiple=True,
              help="A file name or extension to identify without a file (repeatable), e.g. "
                   "'report.docx.lockbit' or '.locky'.")
@_LIST
@_UNSIGNED
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "stix"]),
              default="table", show_default=True)
@_OUT
def identify(files: tuple[Path, ...], names: tuple[str, ...], list_paths: tuple[str, ...],
             allow_unsigned: bool, fmt: str, output: Path | None) -> None:
    """Which family wrote this ransom note or encrypted this file (ranked, with evidence).

    FILES are only read (at most 1 MiB each), never opened in another program or run.
    Exit code 0 when every file was read (known or unknown family), 2 on error.
    """
    from kitvet.errors import KitvetError
    from kitvet.ransom import build_index, identify_file, identify_name

    if not files and not names:
        raise click.UsageError("give a FILE or --name NAME")
    lists, families = _lists(list_paths, allow_unsigned)
    idx = build_index(families)
    results = []
    for f in files:
        if f.is_dir():
            raise KitvetError("is a folder; give the note or encrypted file itself",
                              file=str(f))
        results.append(identify_file(f, idx))
    results += [identify_name(n, idx) for n in names]
    meta = lists_meta(lists)
    if fmt == "json":
        from kitvet.report.ransom import identify_json

        _emit(identify_json(results, meta), output)
    elif fmt == "html":
        from kitvet.report.ransom import identify_html

        _emit(identify_html(results, meta), output)
    elif fmt == "stix":
        _emit(_stix_for(results), output)
    else:
        from kitvet.report.ransom import identify_table

        _table(lambda con: identify_table(con, results), output)


def _table(draw: Any, output: Path | None) -> None:
    from rich.console import Console

    if output is None:
        draw(Console(highlight=False, soft_wrap=False))
        return
    import io

    con = Console(record=True, width=140, file=io.StringIO())
    draw(con)
    _emit(con.export_text(), output)


def _stix_for(results: list[Any]) -> str:
    from kitvet.ransom.stix import Entry, Indicator, bundle

    entries: dict[str, Entry] = {}
    for r in results:
        if r.verdict == "unknown" or not r.candidates:
            continue
        best = r.candidates[0]
        e = entries.setdefault(best.family.id, Entry(best.family))
        why = f"seen in {r.subject} (kitvet ransom identify, {best.confidence} confidence: " \
              f"{best.match})"
        if best.confidence != "none" and r.name:
            e.indicators.append(Indicator("file-name", r.name, why))
        for f in r.features:
            if f.kind in ("onion", "email", "tox", "btc", "xmr"):
                e.indicators.append(Indicator(f.kind, f.value, why))
    return bundle(list(entries.values()), created=dt.date.today().isoformat())


@ransom.command("decryptors")
@click.argument("family")
@_LIST
@_UNSIGNED
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]),
              default="table", show_default=True)
@_OUT
def decryptors(family: str, list_paths: tuple[str, ...], allow_unsigned: bool, fmt: str,
               output: Path | None) -> None:
    """Free decryptors known for FAMILY (id, name or synonym), with publisher, date and source.

    Where none is known it says so and lists what the sources give. Exit code 0 when a
    decryptor is known, 1 when none is, 2 on error.
    """
    from kitvet.ransom import find_families
    from kitvet.report import ransom as rep

    lists, families = _lists(list_paths, allow_unsigned)
    hits = find_families(families, family)
    meta = lists_meta(lists)
    if fmt == "json":
        texts = [rep.decryptors_json(f, meta) for f in hits]
        _emit(texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]", output)
    elif fmt == "html":
        _emit(rep.decryptors_html(hits[0], meta) if len(hits) == 1 else
              "\n".join(rep.decryptors_html(f, meta) for f in hits), output)
    else:
        def draw(con: Any) -> None:
            for f in hits:
                rep.decryptors_table(con, f)
                con.print()

        _table(draw, output)
    raise SystemExit(0 if any(f.decryptors for f in hits) else 1)


@ransom.command("families")
@click.argument("queries", nargs=-1)
@_LIST
@_UNSIGNED
@click.option("--format", "fmt", type=click.Choice(["table", "json", "stix"]),
              default="table", show_default=True)
@_OUT
def families_(queries: tuple[str, ...], list_paths: tuple[str, ...], allow_unsigned: bool,
              fmt: str, output: Path | None) -> None:
    """The families of the lists in force and their indicators; STIX for sharing.

    Without QUERIES: a count per list. With QUERIES (id, name or synonym): each family's
    note names, extensions, patterns and contact addresses.
    """
    import json

    from kitvet.ransom import find_families

    lists, fams = _lists(list_paths, allow_unsigned)
    chosen = [f for q in queries for f in find_families(fams, q)]
    if fmt == "stix":
        from kitvet.ransom.stix import Entry, bundle, family_indicators

        if not chosen:
            raise click.UsageError("name the families to export")
        _emit(bundle([Entry(f, family_indicators(f)) for f in chosen],
                     created=lists[0].date if lists else dt.date.today().isoformat()), output)
        return
    if fmt == "json":
        from dataclasses import asdict

        _emit(json.dumps({"lists": lists_meta(lists),
                          "families": [asdict(f) for f in chosen]}, indent=2,
                         ensure_ascii=False), output)
        return

    def draw(con: Any) -> None:
        from rich.text import Text

        from kitvet.lists.format import printable

        for fl in lists:
            con.print(Text(f"{fl.name} {fl.version} ({fl.date}): {len(fl.families)} families, "
                           f"{'signed by ' + fl.signed_by if fl.signed_by else 'UNSIGNED'}"))
        for f in chosen:
            con.print(Text(f"\n{printable(f.name)} [{f.id}]", style="bold"))
            for label, values in (("synonyms", f.synonyms), ("note names", f.note_names),
                                  ("note name patterns", [p.text for p in f.note_name_patterns]),
                                  ("extensions", f.extensions),
                                  ("extension patterns", [p.text for p in f.extension_patterns]),
                                  ("contacts", [f"{k} {v}" for k, v in f.contacts]),
                                  ("decryptors", [d.url for d in f.decryptors])):
                if values:
                    con.print(Text(f"  {label}: " + ", ".join(map(printable, values[:30]))
                                   + (" …" if len(values) > 30 else "")))
            con.print(Text(f"  source: {printable(f.source or '—')}", style="dim"))

    _table(draw, output)


@ransom.command("sweep")
@click.argument("inventory", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--estate", "estate_path", type=click.Path(file_okay=False, path_type=Path),
              help="Sweep the current inventory of this estate (its lake) instead of files.")
@click.option("--family", "family_queries", multiple=True,
              help="Only these families (id, name or synonym; repeatable) [default: all].")
@_LIST
@_UNSIGNED
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html", "stix"]),
              default="table", show_default=True)
@_OUT
def sweep(inventory: tuple[Path, ...], estate_path: Path | None, family_queries: tuple[str, ...],
          list_paths: tuple[str, ...], allow_unsigned: bool, fmt: str,
          output: Path | None) -> None:
    """Which hosts show a family's note names or extensions, and where (an incident).

    Reads the file rows of INVENTORY (kitvet collect --files, osquery file/hash results, CSV
    file listings, any format kitvet import reads) or of an estate's current snapshots.
    Exit code 0 when no file shows an indicator, 1 when some do, 2 on error.
    """
    from kitvet.ransom import find_families

    if bool(inventory) == bool(estate_path):
        raise click.UsageError("give INVENTORY files or --estate DIR (one of them)")
    lists, families = _lists(list_paths, allow_unsigned)
    if family_queries:
        families = list({f.id: f for q in family_queries for f in find_families(families, q)}
                        .values())
    if estate_path is not None:
        from kitvet.estate import open_estate

        with open_estate(estate_path) as est:
            table, left_out = est.ransom_sweep(families)
        scope = f"estate {estate_path}"
    else:
        from kitvet.match.ransom import sweep_snapshots
        from kitvet.sources.registry import read_paths

        snaps = read_paths(list(inventory))
        table, left_out = sweep_snapshots(snaps, families)
        scope = f"{len(snaps)} inventory snapshot(s)"
    _report_sweep(table.to_pylist(), left_out, lists, scope, fmt, output)


def _report_sweep(hits: list[dict[str, Any]], left_out: list[str], lists: Sequence[FamilyList], scope: str,
                  fmt: str, output: Path | None) -> None:
    import json

    from kitvet.report import ransom as rep

    doc = rep.sweep_dict(hits, left_out, lists_meta(lists), scope)
    if fmt == "json":
        _emit(json.dumps(doc, indent=2, ensure_ascii=False), output)
    elif fmt == "csv":
        _emit(rep.sweep_csv(doc), output)
    elif fmt == "html":
        _emit(rep.sweep_html(doc), output)
    elif fmt == "stix":
        _emit(_sweep_stix(hits, lists), output)
    else:
        _table(lambda con: rep.sweep_table(con, doc), output)
    raise SystemExit(1 if hits else 0)


def _sweep_stix(hits: list[dict[str, Any]], lists: Sequence[FamilyList]) -> str:
    from kitvet.ransom import merged
    from kitvet.ransom.stix import Entry, Indicator, bundle

    fams = {f.id: f for f in merged(lists)}
    entries: dict[str, Entry] = {}
    per_host: dict[tuple[str, str], list[str]] = {}
    for h in hits:
        e = entries.setdefault(h["family_id"], Entry(fams[h["family_id"]]))
        kind = "note-name" if h["indicator_kind"] == "note-name" else \
            "extension" if h["indicator_kind"] == "extension" else None
        if kind:
            e.indicators.append(Indicator(kind, h["indicator"], f"found by kitvet ransom sweep "
                                          f"({h['indicator_kind']})"))
        per_host.setdefault((h["family_id"], h["hostname"] or h["host_id"]), []).append(
            h.get("mtime") or "")
    for (fid, host), times in per_host.items():
        first = min((t for t in times if t), default="")
        entries[fid].sightings.append((host, len(times), first))
    return bundle(list(entries.values()), created=dt.date.today().isoformat())
