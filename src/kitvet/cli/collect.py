"""``kitvet collect``: inventory this Linux host (or a mounted root) into kitvet's JSON format.

Kept free of heavy imports: this command must finish well under half a second.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the inventory here (atomically) [default: standard output].")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("/"), show_default=True,
              help="Inventory the filesystem mounted here (image, container, backup) instead "
                   "of the running system; sysfs and neighbours are then skipped.")
@click.option("--institution", metavar="NAME", help="Institution this host belongs to.")
@click.option("--host-id", metavar="ID",
              help="Host id to record [default: /etc/machine-id, else a hash of the hostname].")
@click.option("--files", "file_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also record the files under this folder (repeatable): names, sizes and "
                   "times only, symbolic links not followed (for ransomware sweeps).")
@click.option("--files-max", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Most files recorded per folder.")
@click.option("--files-hash", is_flag=True,
              help="Also hash each file (SHA-256, SHA-1, MD5; files up to 64 MiB).")
def collect(output: Path | None, root: Path, institution: str | None,
            host_id: str | None, file_dirs: tuple[Path, ...], files_max: int,
            files_hash: bool) -> None:
    """Inventory the packages, devices and network neighbours of this Linux host."""
    from kitvet.model.document import write_document
    from kitvet.sources.local import collect as collect_local

    snap = collect_local(root, institution=institution, host_id=host_id)
    if file_dirs:
        import dataclasses

        from kitvet.sources import files

        for d in file_dirs:
            files.collect(snap, d, max_files=files_max, hashes=files_hash)
        if "files" not in snap.host.sources:
            snap.host = dataclasses.replace(snap.host, sources=(*snap.host.sources, "files"))
    write_document([snap], output if output is not None else "-")
    if output is not None:
        click.echo(
            f"{snap.host.hostname or snap.host.host_id}: {len(snap.software)} software, "
            f"{len(snap.devices)} devices, {len(snap.files)} files, {len(snap.skipped)} "
            f"skipped -> {output}",
            err=True,
        )
