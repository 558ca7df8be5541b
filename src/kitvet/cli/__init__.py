"""kitvet's command line.

Commands live one area per module (``kitvet.cli.<area>``) and are imported only when invoked,
so ``kitvet collect`` stays free of heavy imports. To add a command: write it in its area's
module and add one line to :data:`COMMANDS` (another package adds its own through the
``kitvet.commands`` entry point group, see :mod:`kitvet.plugins`).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import Any

import click

from kitvet import __version__
from kitvet.errors import KitvetError
from kitvet.plugins import Registry

#: command name -> "module:attribute" (a click command or group)
COMMANDS: Registry[click.Command] = Registry("kitvet.commands", {
    "collect": "kitvet.cli.collect:collect",
    "review": "kitvet.cli.review:review",
    "demo": "kitvet.cli.review:demo",
    "lists": "kitvet.cli.lists:lists",
    "policy": "kitvet.cli.policy:policy",
    "import": "kitvet.cli.importer:import_",
    "identify": "kitvet.cli.identify:identify",
    "orgs": "kitvet.cli.orgs:orgs",
    "update-data": "kitvet.cli.hwdata:update_data",
    "estate": "kitvet.cli.estate:estate",
    "findings": "kitvet.cli.estate:findings",
    "decide": "kitvet.cli.estate:decide",
    "exception": "kitvet.cli.estate:exception",
    "campaign": "kitvet.cli.estate:campaign",
    "audit": "kitvet.cli.estate:audit",
    "enforce": "kitvet.cli.enforce:enforce",
    "serve": "kitvet.cli.serve:serve",
    "bench": "kitvet.cli.bench:bench",
    "ransom": "kitvet.cli.ransom:ransom",
    "alerts": "kitvet.cli.alerts:alerts",
    "dossier": "kitvet.cli.dossier:dossier",
}, kind=click.Command, what="command")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not self._available(cmd_name):
            return None
        command: click.Command = COMMANDS.load(cmd_name)
        return command

    @staticmethod
    def _available(name: str) -> bool:
        """A command whose module is not installed (a trimmed build) is not offered."""
        module_name = COMMANDS[name].split(":")[0]
        try:
            return importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            return False

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KitvetError as e:
            click.echo(f"kitvet: error: {e}", err=True)
            ctx.exit(EXIT_ERROR)
        except OSError as e:
            name = getattr(e, "filename", None)
            click.echo(f"kitvet: error: {name + ': ' if name else ''}{e.strerror or e}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kitvet")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
def main(verbose: int) -> None:
    """Review every program and device an estate runs against sourced risk lists,
    ban what is confirmed malicious, and prove the ban was carried out."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="kitvet: %(levelname)s: %(message)s", stream=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    main()
