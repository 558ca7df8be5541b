"""``kitvet serve``: the estate server (ingest API and dashboard), its accounts and tokens.

    kitvet serve [--estate DIR] [--db URL] [--host 127.0.0.1] [--port 8080] [--demo]
    kitvet serve user add NAME --role admin|reviewer|auditor [--institution I ...]
    kitvet serve user list | user disable NAME
    kitvet serve token add --institution I --name N   (an institution's ingest token)
    kitvet serve token add --user NAME --name N       (a user's API token)
    kitvet serve token list | token revoke ID
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kitvet.cli.options import ESTATE_HELP, open_estate_at, with_estate

if TYPE_CHECKING:
    from kitvet.estate import Estate
    from kitvet.server.settings import ServerSettings

DEMO_ADMIN = "admin"
#: A new token's lifetime (days), as kitvet.estate.tokens.DEFAULT_DAYS (not imported: the CLI
#: starts without the estate layer).
DEFAULT_TOKEN_DAYS = 365


def _settings(**overrides: Any) -> ServerSettings:
    from kitvet.server.settings import ServerSettings

    return ServerSettings(**{k: v for k, v in overrides.items() if v not in (None, ())})


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


@click.group(invoke_without_command=True)
@click.option("--estate", type=click.Path(file_okay=False, path_type=Path), help=ESTATE_HELP)
@click.option("--db", envvar="KITVET_DB",
              help="Review database URL for a new estate (postgresql://... or sqlite:///...; "
                   "or $KITVET_DB).")
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, help="Port [8080].")
@click.option("--demo", is_flag=True,
              help="Serve the bundled demo estate; its admin's password is printed once.")
@click.option("--profile", help="Policy profile of the server's reviews [default].")
@click.option("--list", "list_paths", multiple=True, type=click.Path(dir_okay=False),
              help="An additional risk list (repeatable).")
@click.option("--allow-unsigned", is_flag=True, default=None,
              help="Accept unsigned risk lists.")
@click.option("--max-body-mib", type=click.IntRange(1, 4096),
              help="Largest ingest request, compressed [64].")
@click.option("--review", "review_mode", type=click.Choice(["background", "off"]),
              help="Review after each ingest in a worker thread [background].")
@click.option("--alerts", "alerts_mode", type=click.Choice(["background", "off"]),
              help="Send queued alerts from a thread of the server [background].")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Worker processes, each with its own connections to the estate [1].")
@click.option("--ssl-certfile", "tls_certfile", type=click.Path(dir_okay=False, exists=True,
              path_type=Path), help="Serve HTTPS: certificate chain (PEM).")
@click.option("--ssl-keyfile", "tls_keyfile", type=click.Path(dir_okay=False, exists=True,
              path_type=Path), help="Serve HTTPS: private key (PEM).")
@click.option("--sso-config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Single sign-on (OpenID Connect) configuration, YAML (see docs/server.md).")
@click.pass_context
def serve(ctx: click.Context, estate: Path | None, db: str | None, host: str | None,
          port: int | None, demo: bool, profile: str | None, list_paths: tuple[str, ...],
          allow_unsigned: bool | None, max_body_mib: int | None, review_mode: str | None,
          alerts_mode: str | None, workers: int | None, tls_certfile: Path | None,
          tls_keyfile: Path | None, sso_config: Path | None) -> None:
    """Run the estate server: ingest API under /api/v1 and the review dashboard."""
    ctx.obj = {"estate": estate, "db": db}
    if ctx.invoked_subcommand:
        return
    settings = _settings(estate=estate, host=host, port=port, profile=profile,
                         lists=tuple(list_paths), allow_unsigned=allow_unsigned,
                         max_body_bytes=max_body_mib * 1024 * 1024 if max_body_mib else None,
                         review_mode=review_mode, alerts_mode=alerts_mode, workers=workers,
                         tls_certfile=tls_certfile, tls_keyfile=tls_keyfile,
                         sso_config=sso_config)
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        raise click.UsageError("HTTPS needs both --ssl-certfile and --ssl-keyfile")
    est = (_demo_estate(estate, db, settings) if demo
           else open_estate_at(estate, db=db, actor="cli:serve"))
    _run(est, settings)


def _demo_estate(estate: Path | None, db: str | None, settings: ServerSettings) -> Estate:
    """Create or re-open the demo estate, import the demo inventory, review, add the admin."""
    from kitvet.data import demo_estate
    from kitvet.estate import estate_dir
    from kitvet.server.app import load_lists_and_policy

    root = estate or (estate_dir().parent / "demo-estate")
    est = open_estate_at(root, db=db, create=True, actor="cli:serve-demo")
    result = est.import_snapshots(demo_estate(), actor="cli:serve-demo")
    if result.batch_id or est.status().last_review is None:
        lists, policy = load_lists_and_policy(settings)
        est.review(actor="cli:serve-demo", lists=lists, policy=policy, profile=settings.profile)
    click.echo(f"demo estate: {est.root} ({est.host_count()} hosts)")
    if est.accounts.get_user(DEMO_ADMIN) is None:
        password = secrets.token_urlsafe(12)
        est.accounts.create_user(DEMO_ADMIN, password, role="admin", actor="cli:serve-demo")
        click.echo(f"demo admin account: user {DEMO_ADMIN!r}, password {password!r} "
                   "(shown only this once)")
    else:
        click.echo(f"log in as {DEMO_ADMIN!r} with the password printed when the demo estate "
                   "was created (or add a user: kitvet serve --estate DIR user add ...)")
    return est


def _run(est: Estate, settings: ServerSettings) -> None:
    import logging

    import uvicorn

    from kitvet.server.app import create_app

    tls = settings.tls_certfile is not None
    if tls and not settings.secure_cookies:
        settings = settings.model_copy(update={"secure_cookies": True})
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.secure_cookies:
        logging.getLogger("kitvet.server").warning(
            "listening on %s without Secure cookies: put the server behind HTTPS and set "
            "KITVET_SERVER_SECURE_COOKIES=1", settings.host)
    scheme = "https" if tls else "http"
    options: dict[str, Any] = dict(
        host=settings.host, port=settings.port, log_level="info", server_header=False,
        proxy_headers=False,
        ssl_certfile=str(settings.tls_certfile) if tls else None,
        ssl_keyfile=str(settings.tls_keyfile) if tls else None)
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    click.echo(f"kitvet server on {scheme}://{settings.host}:{settings.port}/ "
               f"(estate {est.root}{workers}; Ctrl-C stops)")
    if settings.workers > 1:
        # each worker process builds its own app from the settings (see kitvet.server.asgi);
        # the estate was created or migrated above, once, before they start
        from kitvet.server.asgi import CONFIG_ENV

        os.environ[CONFIG_ENV] = settings.model_copy(update={"estate": est.root}
                                                     ).model_dump_json()
        est.close()
        # /metrics adds up the workers' counters through prometheus-client's shared folder
        from kitvet.server.metrics import MULTIPROC_ENV

        own = MULTIPROC_ENV not in os.environ
        if own:
            os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="kitvet-metrics-")
        try:
            uvicorn.run("kitvet.server.asgi:app_from_environment", factory=True,
                        workers=settings.workers, **options)
        finally:
            if own:
                shutil.rmtree(os.environ.pop(MULTIPROC_ENV), ignore_errors=True)
        return
    uvicorn.run(create_app(est, settings), **options)


@serve.group()
def user() -> None:
    """Manage dashboard accounts."""


def _read_password(password_stdin: bool) -> tuple[str, bool]:
    """(password, generated?): from stdin, a hidden prompt, or generated when not a terminal."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return secrets.token_urlsafe(15), True


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "reviewer", "auditor"]), required=True)
@click.option("--institution", "institutions", multiple=True,
              help="Institution a reviewer (or a scoped auditor) may see (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@with_estate(from_group=True)
def user_add(est: Estate, name: str, role: str, institutions: tuple[str, ...],
             password_stdin: bool) -> None:
    """Create an account (the password is prompted, read from stdin, or generated and shown)."""
    password, generated = _read_password(password_stdin)
    u = est.accounts.create_user(name, password, role=role, institutions=institutions,
                                 actor=_actor())
    scope = ", ".join(u.institutions) or "every institution"
    click.echo(f"user {u.username!r} ({u.role}; {scope}) created")
    if generated:
        click.echo(f"password: {password}  (shown only this once)")


@user.command("list")
@with_estate(from_group=True)
def user_list(est: Estate) -> None:
    """List accounts."""
    for u in est.accounts.list_users():
        click.echo(f"{u.username}\t{u.role}\t{', '.join(u.institutions) or '*'}")


@user.command("disable")
@click.argument("name")
@with_estate(from_group=True)
def user_disable(est: Estate, name: str) -> None:
    """Disable an account and end its sessions."""
    est.accounts.disable_user(name, actor=_actor())
    click.echo(f"user {name!r} disabled")


@user.command("unlock")
@click.argument("name")
@with_estate(from_group=True)
def user_unlock(est: Estate, name: str) -> None:
    """Forget an account's failed logins, from every address (audited): the way back in when
    the login throttle has locked it."""
    n = est.accounts.unlock_user(name, actor=_actor())
    click.echo(f"user {name!r} unlocked ({n} failed login(s) forgotten)")


@serve.group()
def token() -> None:
    """Manage API tokens (only their SHA-256 is stored)."""


@token.command("add")
@click.option("--institution", help="Issue an ingest token for this institution.")
@click.option("--user", "username", help="Issue an API token acting as this user.")
@click.option("--name", required=True, help="What or who uses the token.")
@click.option("--scope", type=click.Choice(["ingest", "read", "write"]),
              help="ingest (an institution's agents), read (dashboards: safe methods only) or "
                   "write (scripts acting with the user's role) [ingest / write].")
@click.option("--expires-days", type=click.FloatRange(0, 3650, min_open=True),
              help=f"Lifetime in days [{DEFAULT_TOKEN_DAYS}].")
@click.option("--no-expiry", is_flag=True, help="The token never expires (not advised).")
@with_estate(from_group=True)
def token_add(est: Estate, institution: str | None, username: str | None, name: str,
              scope: str | None, expires_days: float | None, no_expiry: bool) -> None:
    """Issue a token; it is printed once."""
    days = None if no_expiry else (expires_days or DEFAULT_TOKEN_DAYS)
    value, info = est.tokens.issue_token(name=name, institution=institution, username=username,
                                         scope=scope, expires_days=days, actor=_actor())
    click.echo(f"token {info.token_id} ({info.scope}: {institution or username}; expires "
               f"{(info.expires_at or 'never')[:16]}): {value}")
    click.echo("store it now: it is shown only this once", err=True)


@token.command("rotate")
@click.argument("token_id", type=int)
@click.option("--overlap-hours", type=click.FloatRange(0, 24 * 90), default=24.0,
              show_default=True, help="How long the old token keeps working.")
@click.option("--expires-days", type=click.FloatRange(0, 3650, min_open=True),
              help=f"Lifetime of the new token in days [{DEFAULT_TOKEN_DAYS}].")
@with_estate(from_group=True)
def token_rotate(est: Estate, token_id: int, overlap_hours: float,
                 expires_days: float | None) -> None:
    """Issue a token's successor (printed once); the old one works for the overlap, then
    expires: agents switch over without downtime."""
    value, info = est.tokens.rotate_token(token_id, actor=_actor(),
                                          overlap_s=int(overlap_hours * 3600),
                                          expires_days=expires_days or DEFAULT_TOKEN_DAYS)
    click.echo(f"token {info.token_id} replaces token {token_id} (which works for "
               f"{overlap_hours:g} more hours): {value}")
    click.echo("store it now: it is shown only this once", err=True)


@token.command("list")
@with_estate(from_group=True)
def token_list(est: Estate) -> None:
    """List live tokens (never their values): scope, expiry, last use."""
    for t in est.tokens.list_tokens():
        click.echo(f"{t.token_id}\t{t.scope}\t{t.institution or t.username}\t{t.name}\t"
                   f"created {t.created_at[:16]}\texpires {(t.expires_at or 'never')[:16]}\t"
                   f"last used {(t.last_used_at or '-')[:16]}")


@token.command("revoke")
@click.argument("token_id", type=int)
@with_estate(from_group=True)
def token_revoke(est: Estate, token_id: int) -> None:
    """Revoke a token."""
    est.tokens.revoke_token(token_id, actor=_actor())
    click.echo(f"token {token_id} revoked")
