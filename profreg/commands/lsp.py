"""`profreg lsp`: the language server on stdio (or TCP). pygls is imported only here.

The `profreg` console script hands `profreg lsp ...` straight to `profreg_lsp.launch`
(see `profreg.entry`); this Click command gives `profreg lsp --help` and in-process runs.
"""
from __future__ import annotations

import click


def _host_port(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    import argparse

    from profreg_lsp.launch import host_port

    try:
        return host_port(value)
    except argparse.ArgumentTypeError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default; editors pass it).")
@click.option("--tcp", callback=_host_port, metavar="HOST:PORT", help="Listen on a TCP address instead.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="WARNING",
              show_default=True, help="What the server logs to stderr.")
def lsp_command(stdio: bool, tcp: tuple[str, int] | None, log_level: str) -> None:
    """Run the profreg language server (diagnostics, completion, hover, rename, quick fixes)."""
    if stdio and tcp:
        raise click.UsageError("--stdio and --tcp exclude each other")
    from profreg_lsp.launch import serve

    serve(tcp, log_level)
