"""``kitvet import``: read other tools' inventory (osquery, CycloneDX, SPDX, CSV, ...)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import click

from kitvet.errors import KitvetError, SourceError
from kitvet.model import Snapshot
from kitvet.model.document import write_document
from kitvet.sources import registry
from kitvet.sources.detect_util import merge_snapshots
from kitvet.sources.interface import Importer

logger = logging.getLogger(__name__)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", metavar="FORMAT",
              help="Read every file as this format instead of detecting it "
                   "(osquery, cyclonedx, spdx, csv, kitvet, ...).")
@click.option("--institution", metavar="NAME", help="Institution of hosts that name none.")
@click.option("--map", "map_spec", metavar="FIELD=COLUMN,...",
              help='CSV column mapping, e.g. "name=Software,version=Version,host=Computer Name"'
                   " (implies --format csv).")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV column mapping file (YAML or TOML; implies --format csv).")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE",
              help="Where to write the kitvet inventory JSON ('-' for stdout).")
def import_(paths: tuple[Path, ...], fmt: str | None, institution: str | None,
            map_spec: str | None, mapping_file: Path | None, output: str) -> None:
    """Import inventory files (or folders of them) into one kitvet inventory document.

    Formats are detected from content unless --format is given; folders are walked.
    A summary (hosts, items, skipped records with reasons) goes to stderr.
    """
    fixed = _fixed_importer(fmt, map_spec, mapping_file)
    files = registry.expand(paths)
    snaps: list[Snapshot] = []
    failed: list[str] = []
    ignored = 0
    with _progress(len(files)) as advance:
        for path, explicit in files:
            advance()
            try:
                imp = fixed or registry.detect(path)
            except SourceError:
                if explicit:
                    raise
                ignored += 1  # a file of no known format inside a folder
                continue
            try:
                snaps.extend(imp.read(path, institution=institution))
            except KitvetError as e:
                if explicit:
                    raise
                failed.append(str(e))
                click.echo(f"kitvet: warning: {e}", err=True)
    snaps = merge_snapshots(snaps)
    write_document(snaps, output)
    _summary(snaps, len(files) - ignored, failed)
    if ignored:
        click.echo(f"  {ignored} file(s) in folders were not in a known format and ignored",
                   err=True)


def _fixed_importer(fmt: str | None, map_spec: str | None, mapping_file: Path | None
                    ) -> Importer | None:
    """The importer every file is read with, when the format is given (or implied)."""
    if map_spec and mapping_file:
        raise click.UsageError("give --map or --mapping, not both")
    if map_spec or mapping_file:
        from kitvet.sources.csv_mapping import CsvImporter, load_mapping, parse_map

        if fmt not in (None, "csv"):
            raise click.UsageError("--map/--mapping are for --format csv")
        mapping = parse_map(map_spec) if map_spec else load_mapping(mapping_file)  # type: ignore
        return CsvImporter(mapping)
    return registry.importer(fmt) if fmt else None


class _progress:
    """A rich progress bar on stderr when there are many files; a no-op otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.total < 5:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        if not console.is_terminal:
            return lambda: None
        self.bar = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                            console=console, transient=True)
        self.bar.__enter__()
        task = self.bar.add_task("import", total=self.total)
        return lambda: self.bar.advance(task)  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _summary(snaps: list[Snapshot], n_files: int, failed: list[str]) -> None:
    software = sum(len(s.software) for s in snaps)
    devices = sum(len(s.devices) for s in snaps)
    files = sum(len(s.files) for s in snaps)
    reasons = Counter(k.reason for s in snaps for k in s.skipped)
    skipped = sum(reasons.values())
    listed = f", {files} file row(s)" if files else ""
    click.echo(f"kitvet: imported {n_files - len(failed)} of {n_files} file(s): "
               f"{len(snaps)} host(s), {software} software item(s), {devices} device(s)"
               f"{listed}, {skipped} skipped", err=True)
    for reason, n in reasons.most_common(10):
        click.echo(f"  skipped {n} × {reason}", err=True)
    if len(reasons) > 10:
        click.echo(f"  ... and {len(reasons) - 10} other reason(s)", err=True)
    if failed:
        click.echo(f"  {len(failed)} file(s) could not be read (see warnings above)", err=True)
