"""The `profreg` console script: the program's one entry.

`profreg lsp ...` goes straight to the language server's own parser
(`profreg_lsp.launch.main`): a server lives as long as the editor that started it, and
through Click it would keep the CLI framework resident for nothing. Every other command
goes to the Click group in `profreg.commands`. Each is imported only on its own path, so
`profreg --version` loads no server and `profreg lsp` no Click.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["lsp"]:
        from profreg_lsp.launch import main as serve  # the server's one option parser

        serve(args[1:], prog="profreg lsp")
        return
    from .commands import run  # Click, and the command group that loads each command on use

    run(args)
