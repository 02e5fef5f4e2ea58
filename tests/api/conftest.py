"""Fixtures for the API tests: a store made by the real CLI, and helpers run in other processes."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import run_cli


def cli(*args: str) -> subprocess.CompletedProcess:
    """`profreg ARGS` in another process; must succeed."""
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return done


def other_process(code: str, *args: str) -> None:
    """Run Python `code` in another process (argv[1:] = args); must succeed."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(params=("yaml", "sqlite"))
def made_store(request, tmp_path) -> str:
    """A store spec holding registry `default` with profiles `agent` (the default) and `helper`."""
    spec = str(tmp_path / ("store.yaml" if request.param == "yaml" else "store.db"))
    cli("registry", "create", "default", "--store", spec)
    cli("profile", "create", "default/agent", "--system-prompt", "one", "--tool", "search", "--store", spec)
    cli("profile", "create", "default/helper", "--system-prompt", "help", "--store", spec)
    return spec
