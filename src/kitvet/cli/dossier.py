"""``kitvet dossier``: the signed record of one decision, and its offline verification.

``kitvet dossier SUBJECT`` is ``kitvet dossier make SUBJECT``. See ``docs/reports.md``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kitvet.cli import EXIT_FINDINGS
from kitvet.cli.options import actor_option, with_estate
from kitvet.cli.review import list_options, load_lists_and_policy

if TYPE_CHECKING:
    from kitvet.estate import Estate


class DossierGroup(click.Group):
    """A group whose default command is ``make``: ``kitvet dossier SUBJECT``."""

    default_command = "make"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group(cls=DossierGroup)
def dossier() -> None:
    """The ban dossier: one signed PDF + JSON for a decision (``kitvet dossier SUBJECT``)."""


def _default_name(subject: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", subject).strip("-.") or "subject"
    return Path(f"dossier-{safe[:80]}.pdf")


@dossier.command("make")
@click.argument("subject")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF to write (default: dossier-SUBJECT.pdf); the signed JSON record "
                   "is written beside it with the suffix .json.")
@click.option("--institution", "institutions", multiple=True,
              help="Show only this institution's exposure (repeatable; default: all).")
@list_options
@actor_option
@with_estate
def make(est: Estate, subject: str, output: Path | None, institutions: tuple[str, ...],
         profile: str, list_paths: tuple[str, ...], no_bundled: bool, allow_unsigned: bool,
         actor: str) -> None:
    """Write the dossier of SUBJECT: assertions for and against side by side, the policy's
    reasoning, the decision and who took it, exposure per institution, the campaign and its
    burndown, exceptions, the audit chain head — signed with the estate's Ed25519 key."""
    from kitvet.estate import EVERYTHING, Scope
    from kitvet.util import atomic_write_bytes

    lists, policy = load_lists_and_policy(list_paths, no_bundled, allow_unsigned, profile)
    ctx = click.get_current_context()
    explicit = ctx.get_parameter_source("profile") == click.core.ParameterSource.COMMANDLINE
    scope = Scope(institutions=frozenset(institutions)) if institutions else EVERYTHING
    d = est.dossier(subject, actor=actor, lists=lists, policy=policy if explicit else None,
                    scope=scope)
    pdf_path = output or _default_name(d.subject_id)
    json_path = pdf_path.with_suffix(".json")
    pdf, record = est.issue_dossier(d, actor=actor, pdf_name=pdf_path.name)
    atomic_write_bytes(pdf_path, pdf)
    atomic_write_bytes(json_path, record)
    dec = d.decision
    click.echo(f"dossier of {d.subject_id}: {len(d.against)} assertion(s) against, "
               f"{len(d.for_subject)} for; decision "
               + (f"{dec.decision} by {dec.actor} on {dec.at[:10]}" if dec else "none")
               + f"; {sum(e.hosts for e in d.exposure)} host(s) exposed in "
               f"{len(d.exposure)} institution(s)")
    click.echo(f"wrote {pdf_path} and {json_path} (signed)")


@dossier.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The estate's public key (PEM, from kitvet dossier key): the dossier must "
                   "be signed by it.")
@click.option("--signature", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signed JSON record of a PDF (default: the .json beside it).")
def verify(file: Path, key_file: Path | None, signature: Path | None) -> None:
    """Check a dossier offline (its PDF or its JSON record): signature, content digest and
    PDF; exit 1 if anything does not verify."""
    from kitvet.lists.signing import load_public_key
    from kitvet.report.dossier import verify as check

    trusted = load_public_key(key_file) if key_file else None
    res = check(file, signature=signature, trusted=trusted)
    for line in res.checked:
        click.echo(f"ok: {line}")
    for line in res.problems:
        click.echo(f"FAILED: {line}")
    if not res.ok:
        click.echo(f"dossier {res.record} does NOT verify", err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(f"dossier of {res.subject} verifies (key {res.key_id})")


@dossier.command("key")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the public key (PEM) here instead of printing it.")
@with_estate
def key(est: Estate, output: Path | None) -> None:
    """Print the estate's dossier-signing public key (PEM) and its key id, to publish."""
    kid, pem = est.public_key()
    if output is not None:
        from kitvet.util import atomic_write_bytes

        atomic_write_bytes(output, pem)
        click.echo(f"key {kid} written to {output}")
        return
    click.echo(f"# key id {kid}")
    click.echo(pem.decode("ascii"), nl=False)


