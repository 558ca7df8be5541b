"""``kitvet bench``: generate realistic estates, export them for ingest, review on Spark."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kitvet.cli.options import actor_option, opened_estate


def _progress(label: str, total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=False)
    return prog, prog.add_task(label, total=total)


def _run(label: str, total: int, fn: Callable[[Callable[[int], None]], Any]) -> Any:
    prog, task = _progress(label, total)
    with prog:
        return fn(lambda n: prog.advance(task, n))


@click.group()
def bench() -> None:
    """Scale tools: generate estates, export them as osquery logs / kitvet JSON, Spark review."""


@bench.command("generate")
@click.option("--hosts", type=click.IntRange(min=1), required=True, help="Number of hosts.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Estate folder to create (must not exist or be empty).")
@click.option("--batch-hosts", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Hosts per lake batch file.")
@click.option("--osquery-logs", type=click.Path(path_type=Path), default=None,
              help="Also write the estate as osquery result logs into this folder.")
@click.option("--kitvet-json", type=click.Path(path_type=Path), default=None,
              help="Also write the estate as kitvet inventory JSON into this folder.")
@click.option("--export-hosts", type=click.IntRange(min=1), default=None,
              help="Export only the first N hosts as logs/JSON (default: all).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes writing batches (same bytes whatever the number).")
@actor_option
def generate_cmd(hosts: int, seed: int, out: Path, batch_hosts: int, osquery_logs: Path | None,
                 kitvet_json: Path | None, export_hosts: int | None, workers: int,
                 actor: str) -> None:
    """Generate a deterministic, realistic estate: an inventory lake (Parquet) and its review
    database, so it opens like any other (kitvet estate review, findings list, serve).

    Windows, Linux (deb, rpm) and macOS hosts across institutions; ~1,200 software items
    and ~25 devices per host; ~1% of hosts carry listed items (Kaspersky, Huawei modems,
    Hikvision cameras, xz-utils 5.6.1) beside decoys such as 5.6.1+really5.4.5-1.
    """
    from kitvet.bench.writer import generate

    manifest = _run("generating hosts", hosts, lambda p: generate(
        out, hosts, seed, batch_hosts=batch_hosts, progress=p, workers=workers))
    with opened_estate(out, create=True, actor=actor) as est:
        est.record_lake_batches(manifest["batches"], actor=actor)
    _export(out, osquery_logs, kitvet_json, export_hosts or hosts)
    click.echo(json.dumps({k: v for k, v in manifest.items() if k != "batches"}, indent=2))


def _export(estate: Path, osq: Path | None, kv: Path | None, n: int) -> None:
    from kitvet.bench.estate import read_manifest
    from kitvet.bench.export import export_kitvet, export_osquery

    n = min(n, read_manifest(estate)["hosts"])
    if osq:
        _run("osquery logs", n, lambda p: export_osquery(estate, osq, max_hosts=n, progress=p))
    if kv:
        _run("kitvet JSON", n, lambda p: export_kitvet(estate, kv, max_hosts=n, progress=p))


@bench.command("export")
@click.option("--estate", "estate", type=click.Path(path_type=Path, exists=True,
                                                   file_okay=False), required=True,
              help="A generated estate folder.")
@click.option("--format", "fmt", type=click.Choice(["osquery", "kitvet"]), required=True)
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True)
@click.option("--hosts", type=click.IntRange(min=1), default=None,
              help="Only the first N hosts (default: all).")
def export_cmd(estate: Path, fmt: str, out: Path, hosts: int | None) -> None:
    """Write a generated estate as osquery result logs or kitvet JSON (one file per batch)."""
    from kitvet.bench.estate import read_manifest

    n = hosts or read_manifest(estate)["hosts"]
    _export(estate, out if fmt == "osquery" else None, out if fmt == "kitvet" else None, n)


@bench.command("change")
@click.option("--estate", "estate", type=click.Path(path_type=Path, exists=True,
                                                   file_okay=False), required=True)
@click.option("--fraction", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.01,
              show_default=True, help="Share of hosts that get a new snapshot.")
@click.option("--generation", type=click.IntRange(min=1), default=1, show_default=True)
@actor_option
def change_cmd(estate: Path, fraction: float, generation: int, actor: str) -> None:
    """Give some hosts a new snapshot (a new batch), as a later inventory run would."""
    from kitvet.bench.writer import apply_change

    rec = apply_change(estate, fraction, generation)
    if (estate / "estate.toml").exists():  # an estate (not only a lake): its database too
        with opened_estate(estate, actor=actor) as est:
            est.record_lake_batches([rec["batch_id"]], actor=actor)
    click.echo(json.dumps({k: v for k, v in rec.items() if k != "snapshot_ids"}, indent=2))


@bench.command("spark-review")
@click.option("--estate", "estate", type=click.Path(path_type=Path, exists=True,
                                                   file_okay=False), required=True,
              help="Estate folder holding lake/ (generated or a kitvet estate).")
@click.option("--master", default="local[2]", show_default=True,
              help="Spark master URL (local[N], spark://host:7077, yarn, k8s://...).")
@click.option("--profile", default="default", show_default=True, help="Policy profile.")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), default=None,
              help="Write findings as Parquet here.")
def spark_review_cmd(estate: Path, master: str, profile: str, out: Path | None) -> None:
    """Review an estate's lake on Apache Spark (same findings as the DuckDB engine)."""
    from rich.console import Console

    from kitvet.lists import bundled
    from kitvet.match.spark import run_spark
    from kitvet.policy import load_profile

    lists, policy = bundled(), load_profile(profile)
    with Console(stderr=True).status(f"reviewing {estate} on Spark ({master})"):
        findings = run_spark(estate, lists, policy, master=master)
    if out:
        from kitvet.bench.estate import write_parquet

        write_parquet(findings, out)
    counts: dict[str, int] = {}
    for s in findings.column("status").to_pylist():
        counts[s] = counts.get(s, 0) + 1
    click.echo(json.dumps({"findings": findings.num_rows, "by_status": counts}))
