"""Run `profreg ARGS` in this process through the real entry point (`profreg.cli.main`).

Much faster than a subprocess per call; `main()` is the same code the console script runs,
so exit codes and the one-line error messages are the real ones. End-to-end subprocess
runs (tests.conftest.run_cli) cover the console script itself.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str


def profreg(*args: str) -> Result:
    from profreg.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def ok(*args: str) -> Result:
    """`profreg ARGS`, which must succeed."""
    result = profreg(*args)
    assert result.code == 0, result.err
    return result


def fails(code: int, *args: str) -> Result:
    """`profreg ARGS`, which must exit `code` with one line on stderr (never a traceback)."""
    result = profreg(*args)
    assert result.code == code, (result.out, result.err)
    assert len(result.err.splitlines()) == 1, result.err
    return result
