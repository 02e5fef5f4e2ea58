"""`profreg lsp`: the language server. Its options belong to the server's one parser.

The console script hands `profreg lsp ...` to `profreg_lsp.launch.main` before Click is
loaded (`profreg.cli`); this command lists `lsp` among the others and runs the server for
callers that run the Click group directly (`launch.run`: no process-wide trims, the
group may run inside another program).
"""
from __future__ import annotations

import click
from profreg_lsp.launch import run as serve


@click.command(
    "lsp",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("server_args", nargs=-1, type=click.UNPROCESSED)
def lsp_command(server_args: tuple[str, ...]) -> None:
    """Run the profreg language server (diagnostics, completion, hover, rename, quick fixes)."""
    serve(list(server_args), prog="profreg lsp")
