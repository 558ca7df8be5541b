"""``kitvet update-data``: fetch the IEEE registries and usb.ids/pci.ids into kitvet's data dir.

Each file is downloaded with httpx to a temporary file in the data dir, checked to be the
format it claims (CSV header of the IEEE registries, vendor lines of the ids files), and only
then moved over the old copy (``os.replace``): an interrupted or bad download never leaves a
half-written file. ``sources.json`` records the URL, time, size and sha256 of each file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

import click

from kitvet.errors import KitvetError

#: file name -> where its publisher serves it (Debian's update-ieee-data, usbutils, pciutils).
DEFAULT_URLS: dict[str, str] = {
    "oui.csv": "https://standards-oui.ieee.org/oui/oui.csv",
    "mam.csv": "https://standards-oui.ieee.org/oui28/mam.csv",
    "oui36.csv": "https://standards-oui.ieee.org/oui36/oui36.csv",
    "iab.csv": "https://standards-oui.ieee.org/iab/iab.csv",
    "usb.ids": "http://www.linux-usb.org/usb.ids",
    "pci.ids": "https://pci-ids.ucw.cz/v2.2/pci.ids",
}
MAX_BYTES = 64 * 1024 * 1024
_CSV_HEADER = b"Registry,Assignment,Organization Name"
_IDS_VENDOR = re.compile(rb"^[0-9a-f]{4}  \S", re.MULTILINE)
#: Vendors whose product names the bundled subset keeps (those kitvet's risk lists name).
SUBSET_PRODUCTS = {"usb.ids": ("12d1", "19d2", "1472", "238b"), "pci.ids": ("19e5",)}


class DataFetchError(KitvetError):
    """A data file could not be fetched or is not what it claims to be."""


def check_content(name: str, data: bytes) -> None:
    """Raise :class:`DataFetchError` unless ``data`` looks like the file ``name``."""
    if name.endswith(".csv"):
        if not data.lstrip(b"\xef\xbb\xbf").startswith(_CSV_HEADER):
            raise DataFetchError("not an IEEE registry CSV (header missing)", file=name)
        if data.count(b"\n") < 2:
            raise DataFetchError("IEEE registry CSV without entries", file=name)
    elif name.endswith(".ids"):
        if len(_IDS_VENDOR.findall(data[: 4 * 1024 * 1024])) < 1:
            raise DataFetchError("no vendor lines (not an ids file)", file=name)
    else:  # pragma: no cover - names come from DEFAULT_URLS
        raise DataFetchError("unknown data file", file=name)


def fetch_one(client: object, url: str, name: str, target_dir: Path,
              advance: object = None) -> dict[str, object]:
    """Download ``url`` into ``target_dir/name`` atomically; return its manifest entry."""
    import httpx

    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".part")
    digest = hashlib.sha256()
    size = 0
    try:
        stream = client.stream("GET", url)  # type: ignore[attr-defined]
        with os.fdopen(fd, "wb") as out, stream as resp:
            if resp.status_code != 200:
                raise DataFetchError(f"HTTP {resp.status_code} from {url}", file=name)
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise DataFetchError(f"larger than {MAX_BYTES} bytes", file=name)
                digest.update(chunk)
                out.write(chunk)
                if advance is not None:
                    advance(len(chunk))  # type: ignore[operator]
        with open(tmp, "rb") as fh:
            check_content(name, fh.read())
        os.chmod(tmp, 0o644)  # public data: a service account must read what an admin fetched
        os.replace(tmp, target_dir / name)
    except httpx.HTTPError as e:
        Path(tmp).unlink(missing_ok=True)
        raise DataFetchError(f"cannot fetch {url}: {e}", file=name) from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"url": url, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bytes": size, "sha256": digest.hexdigest()}


def _write_json(path: Path, data: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update(target: Path, names: list[str], url_base: str | None, timeout: float,
           progress: bool = True) -> tuple[dict[str, dict[str, object]], list[str]]:
    """Fetch ``names`` into ``target``; returns (manifest entries fetched, error lines)."""
    import httpx
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    target.mkdir(parents=True, exist_ok=True)
    done: dict[str, dict[str, object]] = {}
    errors: list[str] = []
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": "kitvet update-data"}) as client, Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        disable=not progress, transient=True,
    ) as bar:
        for name in names:
            url = url_base.rstrip("/") + "/" + name if url_base else DEFAULT_URLS[name]
            task = bar.add_task(name, total=None)
            try:
                done[name] = fetch_one(client, url, name, target,
                                       advance=lambda n, t=task: bar.advance(t, n))
            except DataFetchError as e:
                errors.append(str(e))
    manifest_path = target / "sources.json"
    manifest: dict[str, object] = {}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
    manifest.update(done)
    if done:
        _write_json(manifest_path, manifest)
    return done, errors


#: data file -> the database of kitvet.identify.hardware it feeds (HardwareDB.sources() keys).
_DATABASE = {"usb.ids": "usb.ids", "pci.ids": "pci.ids", "oui.csv": "MA-L", "mam.csv": "MA-M",
             "oui36.csv": "MA-S", "iab.csv": "IAB"}


def _not_used(target: Path, names: list[str]) -> list[str]:
    """Why fetched files will not be read: another dir is kitvet's, or the system's copy wins."""
    from kitvet.identify import hardware

    if target.resolve() != hardware.data_dir().resolve():
        return [f"kitvet reads its data dir {hardware.data_dir()}; set KITVET_DATA_DIR={target} "
                "to use these files"]
    used = hardware.HardwareDB(data=target).sources()
    return [f"{name}: the system's copy is read first ({used[_DATABASE[name]]})"
            for name in names
            if used.get(_DATABASE[name]) and str(target / name) not in str(used[_DATABASE[name]])]


def make_subset(name: str, source: Path, out: Path) -> int:
    """Write the bundled subset of an ids file: every vendor line, products of listed vendors."""
    raw = gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes()
    keep_products = set(SUBSET_PRODUCTS.get(name, ()))
    lines_out: list[bytes] = []
    in_header, current = True, None
    for line in raw.split(b"\n"):
        if in_header and line.startswith(b"#"):
            lines_out.append(line)
            continue
        if in_header:
            lines_out.append(b"# kitvet bundled subset of this file: every vendor line, product "
                             b"lines only for " + ", ".join(sorted(keep_products)).encode()
                             + (b"; the device classes" if name == "pci.ids" else b""))
            lines_out.append(b"# (licence of the original: GPL-2.0-or-later or BSD-3-Clause)")
            in_header = False
        if _IDS_VENDOR.match(line):
            current = line[:4].decode()
            lines_out.append(line)
        elif line.startswith(b"\t") and current in keep_products:
            lines_out.append(line)
        elif line and not line.startswith((b"\t", b"#")):
            current = None
            if not _IDS_VENDOR.match(line):
                if name == "pci.ids":  # keep pci.ids' device classes (5 kB) for descriptions
                    lines_out.extend(raw[raw.find(b"\n" + line + b"\n") + 1 :].split(b"\n"))
                break  # class/other sections follow the vendors
    data = b"\n".join(lines_out) + b"\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)
    return len(lines_out)


def _update_releases(target: Path, url_base: str | None, api: str, local: list[Path],
                     timeout: float) -> list[str]:
    """Refresh the release data; print what was saved and changed; return error lines."""
    from kitvet.cli.eoldata import update_releases
    from kitvet.identify import releases

    entry, errors, notes = update_releases(target, url_base=url_base, api=api, timeout=timeout,
                                           local=local or None)
    releases.reset()
    if entry is not None:
        n = entry['products']
        click.echo(f"endoflife.json: {n} product{'s' if n != 1 else ''}, {entry['cycles']} release "
                   f"cycles from {entry['url']}")
    for line in notes:
        click.echo(f"kitvet: note: {line}", err=True)
    return errors


def _update_kev(target: Path, url_base: str | None, kev_url: str, local: Path | None,
                timeout: float) -> list[str]:
    """Refresh ``kev.json`` (CISA's KEV catalogue as published); print what is new; return
    error lines. A catalogue that cannot be read leaves the previous copy in place."""
    from kitvet.errors import ListError
    from kitvet.lists.kev import KEV_FILE, read_kev
    from kitvet.util import atomic_write_bytes

    if local is not None:
        where = str(local)
        try:
            data = local.read_bytes()
        except OSError as e:
            return [f"{KEV_FILE}: cannot read {local}: {e}"]
    else:
        import httpx

        where = url_base.rstrip("/") + "/" + KEV_FILE if url_base else kev_url
        try:
            with httpx.Client(timeout=timeout, follow_redirects=True,
                              headers={"User-Agent": "kitvet update-data"}) as client:
                resp = client.get(where)
        except httpx.HTTPError as e:
            return [f"{KEV_FILE}: cannot fetch {where}: {e}"]
        if resp.status_code != 200:
            return [f"{KEV_FILE}: HTTP {resp.status_code} from {where}"]
        data = bytes(resp.content)
    try:
        cat = read_kev(data, file=KEV_FILE)
    except ListError as e:
        return [f"{KEV_FILE}: {where}: {e.message if hasattr(e, 'message') else e}"]
    if not cat.entries:
        return [f"{KEV_FILE}: {where}: no vulnerability could be read; the previous copy is kept"]
    old = target / KEV_FILE
    before: set[str] = set()
    if old.is_file():
        try:
            before = set(read_kev(old.read_bytes(), file=KEV_FILE).entries)
        except ListError:
            before = set()
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(old, data)
    new = sorted(set(cat.entries) - before) if before else []
    click.echo(f"{KEV_FILE}: CISA KEV catalogue {cat.version}, {len(cat.entries)} "
               f"vulnerabilities from {where}" + (f" ({len(new)} new: "
                                                  f"{', '.join(new[:10])}"
                                                  f"{' …' if len(new) > 10 else ''})"
                                                  if new else ""))
    for sk in cat.skipped:
        click.echo(f"kitvet: note: {KEV_FILE}: skipped {sk.line()}", err=True)
    return []


@click.command("update-data")
@click.option("--url-base", metavar="URL",
              help="Fetch every file as URL/<name> (a mirror) instead of from its publisher.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to store the files [default: $KITVET_DATA_DIR or "
                   "~/.local/share/kitvet/data].")
@click.option("--only", multiple=True,
              type=click.Choice(sorted([*DEFAULT_URLS, "endoflife", "kev"])),
              help="Fetch only these files (repeatable); endoflife: the release-cycle data of "
                   "endoflife.date (end-of-life findings); kev: CISA's KEV catalogue (joined "
                   "by CVE to vulnerability lists with versions; fetched by default only once "
                   "the data dir holds a copy).")
@click.option("--kev-url", default="https://www.cisa.gov/sites/default/files/feeds/"
              "known_exploited_vulnerabilities.json", show_default=True, metavar="URL",
              help="Where CISA publishes the KEV catalogue.")
@click.option("--kev-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the KEV catalogue from this file instead.")
@click.option("--releases-api", default="https://endoflife.date/api/v1/products/",
              show_default=True, metavar="URL",
              help="endoflife.date's API v1 product URL (each product is fetched as URL<name>).")
@click.option("--releases-from", multiple=True, metavar="PATH",
              type=click.Path(exists=True, path_type=Path),
              help="Read release data from files or folders instead (API v1 documents, "
                   "endoflife.date products/*.md); repeatable.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per request.")
@click.option("--make-subset", "subset_dir", type=click.Path(file_okay=False, path_type=Path),
              hidden=True, help="Maintainers: write the bundled usb/pci subsets to this dir.")
def update_data(url_base: str | None, data_dir: Path | None, only: tuple[str, ...],
                kev_url: str, kev_from: Path | None, releases_api: str,
                releases_from: tuple[Path, ...], timeout: float,
                subset_dir: Path | None) -> None:
    """Fetch the IEEE OUI registries (MA-L, MA-M, MA-S, IAB), usb.ids/pci.ids,
    endoflife.date's release cycles and (with --only kev, or once a copy is kept) CISA's
    KEV catalogue.

    kitvet prefers the system's copies (Debian: ieee-data, usb.ids, pci.ids packages); the
    fetched files are used where the system has none. See docs/collect.md and, for the
    release data, docs/vulnerable.md.
    """
    from kitvet.identify import hardware

    if subset_dir is not None:
        db = hardware.HardwareDB()
        for name in SUBSET_PRODUCTS:
            src = getattr(db, "_usb" if name == "usb.ids" else "_pci")
            if src is None:
                raise DataFetchError("no source file found to make a subset from", file=name)
            n = make_subset(name, src.path, subset_dir / f"{name}.subset.gz")
            click.echo(f"{name}: {n} lines from {src.path}")
        return
    target = data_dir or hardware.data_dir()
    from kitvet.lists.kev import KEV_FILE

    wanted = list(only) or [*DEFAULT_URLS, "endoflife",
                            *(["kev"] if (target / KEV_FILE).is_file() else [])]
    if releases_from and not only:
        wanted = ["endoflife"]
    if kev_from and not only:
        wanted = ["kev"]
    names = [n for n in wanted if n not in ("endoflife", "kev")]
    done, errors = update(target, names, url_base, timeout) if names else ({}, [])
    hardware.reset()
    if "endoflife" in wanted:
        errors += _update_releases(target, url_base, releases_api, list(releases_from), timeout)
    if "kev" in wanted:
        errors += _update_kev(target, url_base, kev_url, kev_from, timeout)
    for name, entry in done.items():
        click.echo(f"{name}: {entry['bytes']} bytes from {entry['url']}")
    for line in _not_used(target, list(done)):
        click.echo(f"kitvet: note: {line}", err=True)
    if errors:
        for line in errors:
            click.echo(f"kitvet: error: {line}", err=True)
        raise click.exceptions.Exit(2)
    click.echo(f"saved in {target}")
