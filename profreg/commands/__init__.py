"""The `profreg` Click group: one module per command group, each imported when used.

Start-up stays close to a bare `import yaml`: `profreg --help` and `profreg --version`
import no validator, store or server code.
"""
from __future__ import annotations

import difflib
import importlib
import sys

import click

from .. import __version__
from ..errors import CommandLoadError, ProfregError

# command name -> "module:attribute" under profreg.commands
COMMANDS = {
    "validate": "validate:validate_command",
    "resolve": "resolve:resolve_command",
    "migrate": "migrate:migrate_command",
    "list": "read:list_command",
    "show": "read:show_command",
    "registry": "write:registry_group",
    "profile": "write:profile_group",
    "set-default": "write:set_default_command",
    "schema": "schema:schema_command",
    "lsp": "lsp:lsp_command",
    "init": "init:init_command",
    "watch": "watch:watch_command",
    "history": "history:history_command",
    "diff": "history:diff_command",
    "rollback": "history:rollback_command",
}


class LazyGroup(click.Group):
    """Imports a command's module when the command is used. A module that fails to import is
    a one-line error naming it (`CommandLoadError`): a broken command is a bug to see, not
    "no such command"."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = f"{__name__}.{module_name}"
        try:
            loaded = importlib.import_module(module)
        except ImportError as exc:
            raise CommandLoadError(cmd_name, module, exc) from exc
        return getattr(loaded, attr)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            # Click suggests only from `self.commands`, which a lazy group leaves empty.
            close = difflib.get_close_matches(name, self.list_commands(ctx))
            hint = ""
            if len(close) == 1:
                hint = f" Did you mean {close[0]!r}?"
            elif close:
                hint = f" (Did you mean one of: {', '.join(close)}?)"
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="profreg")
@click.option("--store", "store_spec", metavar="SPEC",
              help="The store for the command that follows (as its own --store; else $PROFREG_STORE).")
def cli(store_spec: str | None) -> None:
    """Profile registries: validate, resolve, migrate, edit, and serve the language server."""


def root_store_spec() -> str | None:
    """`--store` given before the command (`profreg --store x.db list`), if any."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().params.get("store_spec") if ctx is not None else None


def run(argv: list[str] | None = None) -> None:
    """Run the Click group: expected errors are one line on stderr, never a traceback."""
    try:
        cli.main(args=argv, prog_name="profreg", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        # Click turns Ctrl-C into Abort (nothing prompts, so nothing else does): a write in
        # progress was rolled back or never started, the store is as it was.
        click.echo("profreg: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        # one line, like every other expected error (Click would print Usage/Try/Error)
        click.echo(f"profreg: {exc.format_message()}", err=True)
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except ProfregError as exc:
        click.echo(f"profreg: {exc}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
