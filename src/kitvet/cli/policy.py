"""``kitvet policy``: list profiles and explain how a profile judges a subject."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kitvet.model.risk import Assertion, RiskList, Subject
    from kitvet.policy import Verdict


@click.group()
def policy() -> None:
    """Policy profiles: how assertions become ban, review, monitor or allow."""


@policy.command("profiles")
def profiles() -> None:
    """The bundled profiles, with their descriptions."""
    from kitvet.policy import load_profile, profile_names

    for name in profile_names():
        spec = load_profile(name).spec
        click.echo(f"{name}: {spec.description or ''}")


@policy.command("show")
@click.argument("profile", default="default")
def show(profile: str) -> None:
    """Print a profile file (a bundled name or a path), to read it or start your own."""
    from kitvet.policy import load_profile

    pol = load_profile(profile)  # validates; errors name file and place
    origin = pol.spec.origin_path
    click.echo(origin.read_text("utf-8") if origin else "", nl=False)


@policy.command("explain")
@click.argument("subject")
@click.option("--profile", default="default", show_default=True,
              help="Policy profile: a bundled name or a profile file.")
@click.option("--list", "list_paths", multiple=True, type=click.Path(dir_okay=False),
              help="An additional risk list file (repeatable).")
@click.option("--no-bundled", is_flag=True, help="Do not load kitvet's bundled lists.")
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned or unverified lists.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def explain(subject: str, profile: str, list_paths: tuple[str, ...], no_bundled: bool,
            allow_unsigned: bool, fmt: str) -> None:
    """How PROFILE derives SUBJECT's status (an id, name or alias), assertion by assertion."""
    from kitvet.lists import find_subject, load_lists
    from kitvet.policy import load_profile

    ls = load_lists(list(list_paths), allow_unsigned=allow_unsigned,
                    include_bundled=not no_bundled)
    rl, subj = find_subject(ls, subject)
    pol = load_profile(profile)
    verdict = pol.evaluate(subj)
    if fmt == "json":
        click.echo(json.dumps(verdict_to_dict(rl, subj, verdict), indent=2, ensure_ascii=False))
    else:
        _print(rl, subj, verdict)


def _assertion_dict(a: Assertion) -> dict[str, Any]:
    return {k: getattr(a, k) for k in ("authority", "authority_id", "jurisdiction", "kind",
                                        "instrument", "citation", "date", "date_note",
                                        "valid_until", "scope", "reference_url", "source",
                                        "source_quality", "verified", "note")}


def verdict_to_dict(rl: RiskList, s: Subject, v: Verdict) -> dict[str, Any]:
    """A verdict as JSON-ready data (for ``--format json`` and other tools)."""
    return {
        "subject": {"id": s.id, "name": s.name, "list": rl.name},
        "profile": v.profile,
        "status": v.status,
        "rule": v.rule,
        "deadlines": v.deadlines,
        "assertions": [
            {**_assertion_dict(o.assertion), "outcome": o.status or
             ("exculpatory" if o.assertion.exculpatory else "ignored"),
             "reason": o.reason, "deciding": o.assertion in v.deciding}
            for o in v.outcomes
        ],
    }


def _print(rl: RiskList, s: Subject, v: Verdict) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text as _Text

    from kitvet.lists.format import printable
    from kitvet.policy import describe_assertion

    def Text(text: str, style: str = "") -> _Text:
        return _Text(printable(text), style=style)

    colours = {"ban": "bold red", "review": "yellow", "monitor": "cyan", "allow": "green"}
    console = Console(highlight=False)
    head = Text(f"{s.name} [{s.id}, list {rl.name}] under profile {v.profile}: ")
    head.append(v.status.upper(), style=colours.get(v.status, ""))
    console.print(head)
    console.print(Text(f"Decided by: {v.rule}"))
    if v.deadlines:
        steps = ", ".join(f"{k} within {d} days" for k, d in v.deadlines.items())
        console.print(Text(f"Deadlines: {steps}"))
    t = Table(expand=True)
    t.add_column("", width=1, no_wrap=True)  # ▶ marks the deciding assertions
    for name, ratio in (("assertion", 5), ("outcome", 2), ("why", 6)):
        t.add_column(name, ratio=ratio, overflow="fold", min_width=len(name))
    for o in v.outcomes:
        a = o.assertion
        mark = "▶" if a in v.deciding else ""
        outcome = o.status or ("exculpatory" if a.exculpatory else "ignored")
        style = "green" if a.exculpatory else colours.get(o.status or "", "dim")
        desc = describe_assertion(a) + ("" if a.verified else " UNVERIFIED")
        t.add_row(Text(mark), Text(desc), Text(outcome, style=style), Text(o.reason))
    console.print(t)
    if v.exculpatory:
        console.print(Text("Shown beside the accusations (never lowers a status):", style="green"))
        for a in v.exculpatory:
            console.print(Text(f"  {describe_assertion(a)}: {a.scope or a.instrument}"))
