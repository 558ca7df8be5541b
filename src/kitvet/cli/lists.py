"""``kitvet lists``: show, sign, verify, update, diff, export and import risk lists."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kitvet.lists.diff import ListDiff
    from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject


def _config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kitvet"


@click.group()
def lists() -> None:
    """Risk lists: what authorities said of which vendors, products and devices."""


def _load(list_paths: tuple[str, ...], only_given: bool, allow_unsigned: bool) -> ListSet:
    from kitvet.lists import load_lists

    return load_lists(list(list_paths), allow_unsigned=allow_unsigned,
                      include_bundled=not only_given, include_updated=not only_given)


@lists.command("show")
@click.option("--list", "list_paths", multiple=True, type=click.Path(dir_okay=False),
              help="A risk list file to show (repeatable; default: the bundled lists).")
@click.option("--no-bundled", is_flag=True,
              help="Do not show kitvet's bundled lists nor the fetched ones.")
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned or unverified lists.")
@click.option("--subject", "subject_ids", multiple=True,
              help="Show only this subject: its id, name or an alias (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def show(list_paths: tuple[str, ...], no_bundled: bool, allow_unsigned: bool,
         subject_ids: tuple[str, ...], fmt: str) -> None:
    """Subjects, identifiers and assertions with authority, instrument, date and source."""
    ls = _load(list_paths, no_bundled or bool(list_paths), allow_unsigned)
    if subject_ids:
        from kitvet.lists import find_subject

        subject_ids = tuple(find_subject(ls, q)[1].id for q in subject_ids)  # unknown: exit 2
    if fmt == "json":
        from kitvet.lists.format import list_to_document

        out = []
        for rl in ls.lists:
            doc = list_to_document(rl)
            if subject_ids:
                doc["subjects"] = [s for s in doc["subjects"] if s["id"] in subject_ids]
            out.append({"origin": rl.origin, "signed_by": rl.signed_by, "list": doc})
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    console = Console(highlight=False)
    for rl in ls.lists:
        _show_list(console, rl, subject_ids)


def _t(value: Any, style: str | None = None) -> Any:
    """Untrusted text as a rich Text (never interpreted as markup)."""
    from rich.text import Text

    from kitvet.lists.format import printable

    return Text("" if value is None else printable(str(value)), style=style or "")


def _show_list(console: Any, rl: RiskList, subject_ids: tuple[str, ...]) -> None:
    signed = f"signed by key {rl.signed_by}" if rl.signed_by else "UNSIGNED"
    head = _t(f"{rl.name} {rl.version} ({rl.date}) by {rl.publisher} — {signed}",
              "bold" if rl.signed_by else "bold red")
    console.rule(head)
    for s in rl.subjects:
        if subject_ids and s.id not in subject_ids:
            continue
        _show_subject(console, s)


def _show_subject(console: Any, s: Subject) -> None:
    from rich.table import Table

    title = _t(f"{s.name}  [{s.id}, {s.kind}]", "bold cyan")
    if s.aliases:
        title.append(f"  aka {', '.join(s.aliases)}", style="dim")
    console.print(title)
    if s.description:
        console.print(_t(s.description, "italic"))
    if s.identifiers:
        t = Table(expand=True)
        for name, ratio in (("identifier", 2), ("value", 3), ("versions", 2), ("where", 2),
                            ("source", 4)):
            t.add_column(name, ratio=ratio, overflow="fold")
        for i in s.identifiers:
            t.add_row(_t(i.kind), _t(i.value), _t(", ".join(i.versions) or i.version_range or "any"),
                      _t(", ".join(i.package_types + i.platforms) or "any"), _source(i))
        console.print(t)
    if s.assertions:
        t = Table(expand=True)
        for name, ratio in (("assertion", 2), ("authority", 3), ("instrument", 3), ("date", 2),
                            ("source", 4)):
            t.add_column(name, ratio=ratio, overflow="fold")
        for a in s.assertions:
            style = "green" if a.exculpatory else None
            t.add_row(_t(a.kind, style), _t(f"{a.authority} [{a.jurisdiction or '?'}]"),
                      _t(a.instrument), _t(a.date or f"undated: {a.date_note or 'no date'}"),
                      _source(a))
        console.print(t)
    console.print()


def _source(x: Assertion | Identifier) -> Any:
    text = _t(x.source or "no source given", None if x.source else "red")
    if x.source_quality:
        text.append(f" ({x.source_quality})", style="dim")
    if not x.verified:
        text.append(" UNVERIFIED", style="bold yellow")
    return text


@lists.command("keygen")
@click.option("--private-key", type=click.Path(dir_okay=False, path_type=Path),
              default=lambda: str(_config_dir() / "list-signing-key.pem"),
              show_default="~/.config/kitvet/list-signing-key.pem",
              help="Where to write the new private key (mode 0600; never overwritten).")
@click.option("--public-dir", type=click.Path(file_okay=False, path_type=Path),
              default=lambda: str(_config_dir() / "keys"), show_default="~/.config/kitvet/keys",
              help="Directory for the public key <key id>.pub (a trusted-keys directory).")
def keygen(private_key: Path, public_dir: Path) -> None:
    """Create an Ed25519 key pair for signing risk lists."""
    from kitvet.lists.signing import generate_keypair

    kid, pub = generate_keypair(private_key, public_dir)
    click.echo(f"key id {kid}\nprivate key: {private_key} (keep it secret, outside any repository)"
               f"\npublic key:  {pub} (give it to those who should trust your lists)")


@lists.command("sign")
@click.argument("list_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "private_key", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The Ed25519 private key (PEM) to sign with.")
def sign(list_file: Path, private_key: Path) -> None:
    """Validate LIST_FILE and write its detached signature LIST_FILE.sig."""
    from kitvet.lists import signing
    from kitvet.lists.format import read_document, validate_document

    if _is_family_list(list_file):
        from kitvet.ransom import listfile

        doc = listfile.parse(list_file.read_bytes(), file=list_file.name)
        listfile.validate(doc, file=list_file.name)
    else:
        doc = read_document(list_file)
        validate_document(doc, file=list_file.name)
    sig = signing.sign_document(doc, signing.load_private_key(private_key))
    out = signing.write_signature(list_file, sig)
    click.echo(f"signed {list_file} with key {sig['key_id']} -> {out}")


@lists.command("keys")
def keys_() -> None:
    """The trusted public keys and where each was found."""
    from kitvet.lists.signing import default_key_locations, trusted_key_files

    found = trusted_key_files()
    for kid, path, _ in found:
        click.echo(f"{kid}  {path}")
    if not found:
        click.echo("no trusted keys")
    click.echo("searched: " + ", ".join(str(p) for p in default_key_locations()), err=True)


@lists.command("verify")
@click.argument("list_files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Trust only these public keys or key directories (default: trusted keys).")
def verify(list_files: tuple[Path, ...], keys: tuple[Path, ...]) -> None:
    """Check that each list is valid and signed by a trusted key (exit 2 if not)."""
    from kitvet.lists import load_list

    for f in list_files:
        if _is_family_list(f):
            from kitvet.ransom.listfile import load as load_families
            from kitvet.ransom.listfile import validate

            fl = load_families(f, trusted_keys=list(keys) or None)
            from kitvet.ransom.listfile import parse

            validate(parse(f.read_bytes(), file=f.name), file=f.name)
            click.echo(f"{f}: OK — {fl.name} {fl.version}, {len(fl.families)} ransomware "
                       f"families, signed by key {fl.signed_by}")
            continue
        rl = load_list(f, trusted_keys=list(keys) or None)
        click.echo(f"{f}: OK — {rl.name} {rl.version}, {len(rl.subjects)} subjects, "
                   f"signed by key {rl.signed_by}")


def _is_family_list(path: Path) -> bool:
    """Whether a list file is a ransomware family list (``kitvet_ransom`` near its start)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b"kitvet_ransom" in head


@lists.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned or unverified lists.")
@click.option("--profile", help="Also show the subjects whose status under this policy profile "
                                "(bundled name or file) the update changes.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def diff(old: Path, new: Path, allow_unsigned: bool, profile: str | None, fmt: str) -> None:
    """Subjects, identifiers and assertions added, removed and changed from OLD to NEW.

    Exit code 0 when the lists say the same thing, 1 when they differ, 2 on error.
    """
    from kitvet.lists import load_list
    from kitvet.lists.diff import diff_lists, status_changes

    d = diff_lists(load_list(old, allow_unsigned=allow_unsigned),
                   load_list(new, allow_unsigned=allow_unsigned))
    statuses = None
    if profile:
        from kitvet.policy import load_profile

        pol = load_profile(profile)
        statuses = (pol.name, status_changes(d.old, d.new, pol))
    if fmt == "json":
        doc: dict[str, Any] = {
            "old": {"name": d.old.name, "version": d.old.version, "signed_by": d.old.signed_by},
            "new": {"name": d.new.name, "version": d.new.version, "signed_by": d.new.signed_by},
            "changes": [c.to_dict() for c in d.changes]}
        if statuses:
            doc["statuses"] = {"profile": statuses[0], "changed": [
                {"subject": sid, "old": o, "new": n} for sid, o, n in statuses[1]]}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _print_diff(d, statuses)
    raise SystemExit(0 if d.empty else 1)


def _print_diff(d: ListDiff, statuses: tuple[str, list[tuple[str, str, str]]] | None = None) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    signed = {True: "signed", False: "UNSIGNED"}
    console.print(_t(f"{d.old.name} {d.old.version} ({signed[bool(d.old.signed_by)]}) → "
                     f"{d.new.name} {d.new.version} ({signed[bool(d.new.signed_by)]})", "bold"))
    marks = {"added": ("+", "green"), "removed": ("-", "red"), "changed": ("~", "yellow")}
    for c in d.changes:
        mark, style = marks[c.what]
        where = f"{c.subject_id}: " if c.subject_id and c.item != "subject" else ""
        console.print(_t(f"{mark} {c.item} {where}{c.key}", style))
        for name, o, n in c.fields:
            console.print(_t(f"      {name}: {o!r} → {n!r}"))
    summary = ", ".join(f"{d.count(w)} {w}" for w in ("added", "removed", "changed"))
    console.print(_t(f"{summary}" if d.changes else "no differences", "bold"))
    if statuses is not None:
        name, changed = statuses
        console.print(_t(f"status under {name}: " + ("unchanged for every subject"
                                                      if not changed else ""), "bold"))
        for sid, o, n in changed:
            console.print(_t(f"  {sid}: {o} → {n}"))


@lists.command("update")
@click.option("--url", "urls", multiple=True,
              help="A list URL to fetch (repeatable; default: the URLs in lists.toml).")
@click.option("--osv", "osv_urls", multiple=True,
              help="An OSV feed to follow (repeatable): an ecosystem's all.zip or a file of "
                   "OSV records over https://, kept as the list osv-malicious-<ecosystem> "
                   "(default: the [[osv]] entries of lists.toml).")
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="List configuration [default: ~/.config/kitvet/lists.toml].")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path),
              help="Where good copies are kept [default: $KITVET_LISTS_DIR or "
                   "~/.local/share/kitvet/data/lists]; other commands read the default "
                   "place, so set KITVET_LISTS_DIR rather than this to use the copies.")
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned or unverified lists.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
def update(urls: tuple[str, ...], osv_urls: tuple[str, ...], config: Path | None,
           store: Path | None, allow_unsigned: bool, timeout: float) -> None:
    """Fetch configured lists (conditional requests), verify them, keep the last good copy;
    follow OSV feeds, saying which records each update added, withdrew and changed.

    Exit code 0 when every list is up to date, 2 when any update failed (its last good copy
    stays in use).
    """
    from rich.console import Console
    from rich.progress import Progress

    from kitvet.lists.osv_feed import OsvFeed
    from kitvet.lists.update import ListSource, read_config, update_lists

    sources: list[ListSource | OsvFeed] = [ListSource(u) for u in urls]
    sources += [OsvFeed(u) for u in osv_urls]
    sources = sources or read_config(config)
    if not sources:
        click.echo("no lists configured: add [[list]] url = \"https://...\" (or [[osv]] "
                   "url = ...) to ~/.config/kitvet/lists.toml or pass --url (--osv)")
        return
    results = []
    con = Console(stderr=True)  # stdout carries only the result (an export, JSON)
    with Progress(transient=True, console=con, disable=not con.is_terminal) as progress:
        task = progress.add_task("updating lists", total=len(sources))
        for src in sources:
            results += update_lists([src], store=store, allow_unsigned=allow_unsigned,
                                    timeout=timeout)
            progress.advance(task)
    for r in results:
        click.echo(f"{r.status:9} {r.url}: {r.message}", err=r.status == "failed")
        for line in r.details:
            click.echo(f"          {line}")
        if r.status == "updated" and r.path is not None:
            _compile_for_review(r.path, allow_unsigned)
    if any(r.status == "failed" for r in results):
        raise SystemExit(2)


def _compile_for_review(path: Path, allow_unsigned: bool) -> None:
    """Compile an updated list's identifiers for review now (kept beside its list-cache
    entry, :func:`kitvet.match.idtable.derived_table`), so the next review does not: seconds
    for a feed of 100,000 records. A failure only leaves it to that review."""
    from kitvet.errors import KitvetError
    from kitvet.lists import load_list
    from kitvet.match.idtable import derived_table

    try:
        derived_table(load_list(path, allow_unsigned=allow_unsigned))
    except (KitvetError, OSError) as e:
        click.echo(f"          (identifiers not compiled now: {e})", err=True)


@lists.command("export")
@click.option("--format", "fmt", type=click.Choice(["misp", "stix"]), required=True,
              help="MISP event JSON or STIX 2.1 bundle JSON.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (atomically); '-' for stdout.")
@click.option("--list", "list_path", type=click.Path(exists=True, dir_okay=False),
              help="The list to export [default: kitvet-core, the newest fetched by "
                   "'kitvet lists update' or else the bundled one].")
@click.option("--allow-unsigned", is_flag=True, help="Accept an unsigned or unverified list.")
@click.option("--profile", default="default", show_default=True,
              help="Profile whose statuses tag MISP objects (kitvet:status).")
def export(fmt: str, output: Path, list_path: str | None, allow_unsigned: bool,
           profile: str) -> None:
    """Export a risk list to share it with other institutions (MISP or STIX 2.1)."""
    from kitvet.lists import load_list, load_lists
    from kitvet.lists.format import atomic_write

    if list_path:
        rl = load_list(list_path, allow_unsigned=allow_unsigned)
    else:  # a fetched kitvet-core replaces the bundled one, as for every other command
        rl = next(x for x in load_lists([], allow_unsigned=allow_unsigned).lists
                  if x.name == "kitvet-core")
    if fmt == "misp":
        from kitvet.lists.misp import export_misp
        from kitvet.policy import load_profile

        text = export_misp(rl, load_profile(profile))
    else:
        from kitvet.lists.stix import export_stix

        text = export_stix(rl)
    if str(output) == "-":
        click.echo(text)
        return
    atomic_write(output, (text + "\n").encode("utf-8"))
    click.echo(f"exported {rl.name} {rl.version} ({len(rl.subjects)} subjects) as {fmt} "
               f"to {output}", err=True)


@lists.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The kitvet list (YAML) to write, atomically.")
@click.option("--format", "fmt",
              type=click.Choice(["auto", "misp", "stix", "kev", "nvd", "misp-galaxy", "osv",
                                 "hashes"]),
              default="auto", show_default=True, help="misp event, stix bundle, CISA kev "
              "catalogue (known_exploited_vulnerabilities.json: assertions about CVEs, no "
              "identifiers), nvd (NVD CVE API 2.0 JSON, a file or, with --format nvd, a "
              "folder: CPE applicability by version), the MISP galaxy's ransomware cluster (a "
              "ransomware family list), osv records (a record, a folder tree of records or a "
              "zip such as an ecosystem's all.zip) or a plain hash list (one MD5, SHA-1 or "
              "SHA-256 per line, an optional description).")
@click.option("--name", help="Name of the new list [default: the name the source carries].")
@click.option("--dry-run", is_flag=True,
              help="misp-galaxy: show the report and the changes against OUTPUT, write nothing.")
@click.option("--authority", help="hashes: who says these files are malicious (required "
              "for a hash list), e.g. 'CERT-XX'.")
@click.option("--authority-id", help="hashes: the authority's id for policy rules, e.g. cert-xx.")
@click.option("--reference-url", help="hashes: where the list is published.")
@click.option("--date", "list_date", help="hashes: the date of the list [default: today].")
@click.option("--verified", is_flag=True,
              help="hashes: you vouch for the list (its assertions count as verified).")
@click.option("--platform", "platforms", multiple=True,
              type=click.Choice(["macos", "windows", "linux"]),
              help="hashes: the platform the files are for, where you know it (repeatable); "
                   "macOS files become Santa BINARY rules in 'kitvet enforce export'.")
@click.option("--vulnerabilities", is_flag=True,
              help="osv: import vulnerability records (GHSA-, PYSEC-, GO-, ... : vulnerable "
                   "versions, joined by CVE to CISA's KEV at review time) instead of "
                   "malicious-package (MAL-) records.")
def import_(source: Path, output: Path, fmt: str, name: str | None, dry_run: bool,
            authority: str | None, authority_id: str | None, reference_url: str | None,
            list_date: str | None, verified: bool, platforms: tuple[str, ...],
            vulnerabilities: bool) -> None:
    """Turn a MISP event, STIX 2.1 bundle, CISA KEV catalogue, the MISP galaxy's
    ransomware cluster or OSV malicious-package records into a kitvet list.

    The new list is unsigned: review it, then sign it with your key. For the galaxy, when
    OUTPUT exists the families, indicators and decryptors the update adds, removes and changes
    are printed first. For OSV, records that are malformed, withdrawn, of an unknown ecosystem
    or not malicious-package records are named on stderr with the reason.
    """
    import zipfile

    from kitvet.errors import ListError
    from kitvet.lists.format import MAX_LIST_BYTES, write_list

    if fmt == "nvd":
        _import_nvd(source, output, name)
        return
    if fmt == "osv" or (fmt == "auto" and (source.is_dir() or zipfile.is_zipfile(source))):
        _import_osv(source, output, name, vulnerabilities)
        return
    if source.is_dir():
        raise ListError("a folder is read only as OSV records (--format osv) or NVD JSON "
                        "(--format nvd)", file=str(source))
    if source.stat().st_size > MAX_LIST_BYTES * 2:
        raise ListError(f"larger than {MAX_LIST_BYTES * 2} bytes", file=source.name)
    data = source.read_bytes()
    if fmt == "auto":
        fmt = _sniff(data, source.name)
    if fmt == "hashes":
        _import_hashes(data, source, output, name, authority, authority_id, reference_url,
                       list_date, verified, platforms)
        return
    if fmt == "osv":
        _import_osv(source, output, name, vulnerabilities)
        return
    if fmt == "misp-galaxy":
        _import_galaxy(data, source, output, name, dry_run)
        return
    if fmt == "misp":
        from kitvet.lists.misp import import_misp

        doc = import_misp(data, file=source.name)
    elif fmt == "kev":
        from kitvet.lists.kev import kev_to_document

        doc, skipped = kev_to_document(data, file=source.name)
        for sk in skipped:
            click.echo(f"skipped vulnerabilities[{sk.index}]: {sk.reason}", err=True)
        click.echo("KEV gives no versions: the list carries its assertions about CVEs and no "
                   "identifiers (never a finding by itself); reviews join it by CVE to "
                   "vulnerability lists with versions (--kev)", err=True)
    elif fmt == "nvd":
        _import_nvd(source, output, name)
        return
    else:
        from kitvet.lists.stix import import_stix

        doc = import_stix(data, file=source.name)
    if name:
        doc["name"] = name
    write_list(doc, output)
    click.echo(f"wrote {output}: {doc['name']} {doc['version']}, {len(doc['subjects'])} "
               f"subjects (unsigned: review it, then 'kitvet lists sign {output} --key ...')")


def _import_hashes(data: bytes, source: Path, output: Path, name: str | None,
                   authority: str | None, authority_id: str | None, reference_url: str | None,
                   list_date: str | None, verified: bool, platforms: tuple[str, ...] = ()
                   ) -> None:
    from kitvet.errors import ListError
    from kitvet.lists.format import write_list
    from kitvet.lists.hashlist import hashlist_to_document
    from kitvet.util import today

    if not authority:
        raise ListError("a hash list needs --authority: who says these files are malicious",
                        file=source.name)
    doc, skipped = hashlist_to_document(
        data, file=source.name, name=name or "hashes", authority=authority,
        authority_id=authority_id, reference_url=reference_url, date=list_date or today(),
        verified=verified, platforms=tuple(dict.fromkeys(platforms)))
    for sk in skipped:
        click.echo(f"skipped line {sk.line}: {sk.reason}", err=True)
    if not doc["subjects"]:
        raise ListError("no hash in the file", file=source.name)
    write_list(doc, output)
    n = sum(len(s["identifiers"]) for s in doc["subjects"])
    click.echo(f"wrote {output}: {doc['name']} {doc['version']}, {n} hashes in "
               f"{len(doc['subjects'])} subjects (unsigned: review it, then 'kitvet lists sign "
               f"{output} --key ...')")


def _import_osv(source: Path, output: Path, name: str | None, vulnerabilities: bool
                ) -> None:
    from kitvet.errors import ListError
    from kitvet.lists.format import write_list
    from kitvet.lists.osv_import import import_osv, malicious_only, vulnerabilities_only

    if vulnerabilities:
        doc, report = import_osv(source, name=name or "osv-vulnerabilities",
                                 kind_for=vulnerabilities_only)
    else:
        doc, report = import_osv(source, name=name or "osv-malicious", kind_for=malicious_only)
    for line in report.lines():
        click.echo(line, err=True)
    if not doc["subjects"]:
        raise ListError("no record could be imported (see above)", file=source.name)
    write_list(doc, output)
    click.echo(f"wrote {output}: {doc['name']} {doc['version']}, {len(doc['subjects'])} "
               f"subjects (unsigned: review it, then 'kitvet lists sign {output} --key ...')")


def _import_nvd(source: Path, output: Path, name: str | None) -> None:
    from kitvet.lists.format import write_list
    from kitvet.lists.nvd import nvd_to_document

    doc, skipped = nvd_to_document([source], name=name or "nvd-cpe")
    for sk in skipped:
        click.echo(f"skipped {sk.line()}", err=True)
    write_list(doc, output)
    click.echo(f"wrote {output}: {doc['name']} {doc['version']}, {len(doc['subjects'])} "
               f"CVEs with CPE applicability, {len(skipped)} skipped (unsigned: review it, then "
               f"'kitvet lists sign {output} --key ...')")


def _import_galaxy(data: bytes, source: Path, output: Path, name: str | None,
                   dry_run: bool) -> None:
    import datetime as dt

    from kitvet.errors import ListError
    from kitvet.lists.format import atomic_write
    from kitvet.ransom import galaxy, listfile
    from kitvet.ransom.diff import diff_documents

    doc, report = galaxy.galaxy_to_document(
        data, file=source.name, name=name or "kitvet-ransomware",
        retrieved=dt.datetime.now(dt.UTC).date().isoformat())
    for line in report.lines():
        click.echo(line, err=True)
    listfile.validate(doc, file=output.name)
    if output.exists():
        try:
            old = listfile.parse(output.read_bytes(), file=output.name)
        except ListError as e:
            click.echo(f"cannot compare with {output}: {e}", err=True)
        else:
            for line in diff_documents(old, doc):
                click.echo(line)
    if dry_run:
        return
    atomic_write(output, listfile.dump(doc, output))
    click.echo(f"wrote {output}: {doc['name']} {doc['version']}, {len(doc['families'])} "
               f"ransomware families (unsigned: review it, then 'kitvet lists sign {output} "
               "--key ...')")


def _sniff(data: bytes, file: str) -> str:
    from kitvet.errors import ListError

    try:
        obj = json.loads(data)
    except ValueError as e:
        from kitvet.lists.hashlist import looks_like_hashlist

        if looks_like_hashlist(data):
            return "hashes"
        raise ListError(f"not JSON: {e}", file=file) from e
    from kitvet.ransom.galaxy import looks_like_galaxy

    if looks_like_galaxy(obj):
        return "misp-galaxy"
    if isinstance(obj, dict) and obj.get("type") == "bundle":
        return "stix"
    if isinstance(obj, dict) and ("Event" in obj or "info" in obj):
        return "misp"
    if isinstance(obj, dict) and "vulnerabilities" in obj and "catalogVersion" in obj:
        return "kev"
    from kitvet.lists.nvd import looks_like_nvd

    if looks_like_nvd(obj):
        return "nvd"
    from kitvet.lists.osv_import import looks_like_osv

    if looks_like_osv(obj):
        return "osv"
    raise ListError("neither a MISP event, a STIX bundle, a KEV catalogue nor an OSV record "
                    "(nor NVD CVE JSON; use --format)", file=file)
