"""`profreg lsp` options: the same parser as `profreg-lsp`, one-line usage errors, Click help."""
from __future__ import annotations

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tcp", "nowhere"], "profreg lsp: argument --tcp: expected HOST:PORT, got 'nowhere'"),
        (["--tcp", "127.0.0.1:99999"], "profreg lsp: argument --tcp: expected HOST:PORT, got '127.0.0.1:99999'"),
        (["--stdio", "--tcp", "127.0.0.1:2087"], "profreg lsp: --stdio and --tcp exclude each other"),
        (["--log-level", "LOUD"], "profreg lsp: argument --log-level: invalid choice: 'LOUD'"),
        (["--bogus"], "profreg lsp: unrecognized arguments: --bogus"),
    ],
)
def test_bad_server_options_are_one_line_and_exit_2(args, message):
    proc = run_cli("lsp", *args, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr


def test_help_is_clicks_and_starts_no_server():
    proc = run_cli("lsp", "--help", timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith("Usage: profreg lsp [OPTIONS]")
    for option in ("--stdio", "--tcp HOST:PORT", "--log-level"):
        assert option in proc.stdout


def test_the_command_list_still_names_lsp():
    proc = run_cli("--help", timeout=60)
    assert proc.returncode == 0 and "  lsp " in proc.stdout
