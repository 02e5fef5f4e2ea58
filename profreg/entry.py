"""The `profreg` console script: `profreg lsp` goes straight to the server, the rest to Click.

The language server lives as long as the editor that started it; through Click it would
keep the CLI framework resident (~0.6 MB, and ~40 ms more start-up) for nothing. The
server's options are parsed by `profreg_lsp.launch` (the `profreg-lsp` script's parser);
`profreg lsp --help` still goes through Click, whose help lists every command alike.
"""
from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["lsp"] and not {"-h", "--help"} & set(args[1:]):
        from profreg_lsp.launch import main as serve

        serve(args[1:], prog="profreg lsp")
        return
    from .cli import main as cli_main

    cli_main()
