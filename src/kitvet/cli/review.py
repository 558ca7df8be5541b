"""``kitvet review`` (one-shot review of this host or of inventory files) and ``kitvet demo``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kitvet.cli import EXIT_FINDINGS, EXIT_OK
from kitvet.model.risk import FLAGGED_STATUSES, status_rank
from kitvet.report import FORMATS

if TYPE_CHECKING:
    from kitvet.lists.kev import KevCatalog
    from kitvet.model import Snapshot
    from kitvet.model.risk import ListSet
    from kitvet.policy import Policy

FAIL_ON = (*FLAGGED_STATUSES, "none")
BAR_COLOUR = {"ban": "red", "review": "yellow", "monitor": "cyan"}


def list_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that loads risk lists and a policy."""
    f = click.option("--allow-unsigned", is_flag=True,
                     help="Accept risk lists that are unsigned or whose signature does not verify.")(f)
    f = click.option("--no-eol", is_flag=True, expose_value=False, callback=_remember_no_eol,
                     help="Leave out the end-of-life list (built from endoflife.date's "
                          "release-cycle data, which `kitvet update-data` refreshes).")(f)
    f = click.option("--kev", "kev_path", type=click.Path(exists=True, dir_okay=False),
                     expose_value=False, callback=_remember_kev,
                     help="CISA's KEV catalogue (known_exploited_vulnerabilities.json) to join "
                          "by CVE to vulnerability subjects that carry versions [default: "
                          "$KITVET_KEV, else the copy `kitvet update-data --only kev` keeps].")(f)
    f = click.option("--no-bundled", is_flag=True, help="Do not load kitvet's bundled lists.")(f)
    f = click.option("--list", "list_paths", multiple=True, type=click.Path(dir_okay=False),
                     help="An additional risk list file (repeatable).")(f)
    f = click.option("--profile", default="default", show_default=True,
                     help="Policy profile: a bundled name or a profile file.")(f)
    return f


def _remember_no_eol(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta["kitvet.no_eol"] = value


def _remember_kev(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    ctx.meta["kitvet.kev"] = value


def kev_catalog() -> KevCatalog | None:
    """The KEV catalogue of this command (``--kev``, else the one in force), or None."""
    from kitvet.lists.kev import load_kev

    ctx = click.get_current_context(silent=True)
    path = ctx.meta.get("kitvet.kev") if ctx else None
    return load_kev(Path(path) if path else None)


def load_lists_and_policy(list_paths: tuple[str, ...], no_bundled: bool, allow_unsigned: bool,
                          profile: str) -> tuple[ListSet, Policy]:
    """The lists and policy a review runs under (``--no-eol`` of the command leaves out the
    end-of-life list)."""
    from kitvet.lists import load_lists
    from kitvet.policy import load_profile

    ctx = click.get_current_context(silent=True)
    no_eol = bool(ctx and ctx.meta.get("kitvet.no_eol"))
    lists = load_lists(list(list_paths), allow_unsigned=allow_unsigned,
                       include_bundled=not no_bundled)
    if not no_eol:
        from kitvet.identify.eol import with_eol

        lists = with_eol(lists)
    from kitvet.lists.kev import with_kev

    lists, _joined = with_kev(lists, kev_catalog())
    return lists, load_profile(profile)


def this_host(institution: str | None = None) -> Snapshot:
    """Collect this machine's inventory."""
    from kitvet.sources.local import collect

    return collect(Path("/"), institution=institution)


def write_output(text: str, output: str | None) -> None:
    """Write a report to a file atomically, or to stdout."""
    if not output or output == "-":
        click.echo(text, nl=False)
        return
    from kitvet.util import atomic_write_text

    atomic_write_text(Path(output), text)


@click.command()
@click.argument("inventory", nargs=-1, type=click.Path(exists=True, path_type=Path))
@list_options
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="ban", show_default=True,
              help="Exit 1 when a finding has this status or a more severe one.")
@click.option("--input-format", help="Format of the inventory files (default: detected).")
@click.option("--institution", help="Institution of hosts whose inventory names none.")
@click.option("--kev-unchecked", is_flag=True,
              help="Also show, apart from the findings (on stderr), where a product listed in "
                   "KEV is seen whose version kitvet could not check (no version data for its "
                   "CVEs in the lists): not findings.")
def review(inventory: tuple[Path, ...], profile: str, list_paths: tuple[str, ...],
           no_bundled: bool, allow_unsigned: bool, fmt: str, output: str | None, fail_on: str,
           input_format: str | None, institution: str | None, kev_unchecked: bool) -> None:
    """Review this host (no INVENTORY) or inventory files against the risk lists.

    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 error.
    """
    from kitvet.match import review_snapshots
    from kitvet.model.risk import status_rank
    from kitvet.report import build, render, render_bytes, report_format

    binary = report_format(fmt).binary
    if binary and (not output or output == "-"):
        raise click.UsageError(f"--format {fmt} writes a file: give -o FILE")
    lists, policy = load_lists_and_policy(list_paths, no_bundled, allow_unsigned, profile)
    if inventory:
        from kitvet.sources.registry import read_paths

        snaps = read_paths(list(inventory), fmt=input_format, institution=institution)
    else:
        snaps = [this_host(institution)]
    result = review_snapshots(snaps, lists, policy)
    model = build(result)
    if kev_unchecked:
        _show_unchecked(snaps, lists)
    if fmt == "table" and not output:
        from kitvet.report.terminal import render as render_table

        click.echo(render_table(model, width=_width(), color=sys.stdout.isatty()), nl=False)
    elif binary:
        from kitvet.util import atomic_write_bytes

        atomic_write_bytes(Path(output), render_bytes(model, fmt))  # type: ignore[arg-type]
    else:
        write_output(render(model, fmt), output)
    worst = model.worst()
    if fail_on != "none" and worst and status_rank(worst) >= status_rank(fail_on):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


def _show_unchecked(snaps: list[Snapshot], lists: ListSet) -> None:
    """"Product listed in KEV, version not checked": on stderr, never among the findings."""
    from kitvet.match.kev import unchecked_sightings

    cat = kev_catalog()
    if cat is None:
        raise click.UsageError("--kev-unchecked needs a KEV catalogue: --kev FILE, $KITVET_KEV "
                               "or `kitvet update-data --only kev`")
    rows = unchecked_sightings(snaps, lists, cat)
    click.echo(f"Products listed in KEV, version not checked (not findings): {len(rows)}",
               err=True)
    for r in rows:
        click.echo(f"  {r['host']}  {r['name']} {r['version'] or ''}  ~ {r['product']} "
                   f"({r['cves']})  via {r['why']}", err=True)


def _width() -> int:
    import shutil

    return max(100, shutil.get_terminal_size((160, 40)).columns)


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to write the reports.")
@click.option("--profile", default="default", show_default=True, help="Policy profile.")
@click.option("--no-host", is_flag=True, help="Review only the demo estate, not this machine.")
def demo(out_dir: Path, profile: str, no_host: bool) -> None:
    """Review this machine and the bundled demo estate; print a summary, write HTML/JSON reports."""
    from rich.console import Console
    from rich.markup import escape

    from kitvet.data import demo_estate
    from kitvet.match import review_snapshots
    from kitvet.report import build, render
    from kitvet.report.terminal import summary_lines

    console = Console(stderr=False, highlight=False)
    lists, policy = load_lists_and_policy((), False, False, profile)
    snaps = demo_estate()
    if not no_host:
        try:
            snaps.append(this_host("This machine"))
        except Exception as e:  # the demo still runs on the demo estate
            console.print(f"[yellow]this machine could not be collected: {e}[/]")
    result = review_snapshots(snaps, lists, policy)
    model = build(result, title="kitvet demo: this machine and the demo estate")
    for line in summary_lines(model):
        console.print(line)
    for inst, counts in model.by_institution.items():
        bar = "".join(f"[{BAR_COLOUR[st]}]{'█' * counts.get(st, 0)}[/]" for st in FLAGGED_STATUSES)
        console.print(f"  {inst:<34} {bar} {sum(counts.values())}")
    console.print()
    for f in [f for f in model.findings if status_rank(f["status"]) >= status_rank("review")][:12]:
        console.print(f"  [bold]{f['status'].upper():7}[/] " + escape(
            f"{f['hostname'] or f['host_id']}: {f['name']} {f['version'] or ''} — "
            f"{f['explanation']}"))
    out_dir.mkdir(parents=True, exist_ok=True)
    from kitvet.util import atomic_write_text

    html_path, json_path = out_dir / "kitvet-report.html", out_dir / "kitvet-report.json"
    atomic_write_text(html_path, render(model, "html"))
    atomic_write_text(json_path, render(model, "json"))
    console.print(f"\nHTML report: {html_path.resolve()}\nJSON report: {json_path.resolve()}")
