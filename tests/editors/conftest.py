"""Fixtures for the editor tests: where the editor tools are, and corpus expectations."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import CONFORMANCE, ROOT

# Where scripts/setup.d/30-code-server.sh caches node 24 and code-server.
CI_CACHE = Path(os.environ.get("PROFREG_CI_CACHE", Path.home() / ".cache" / "profreg-ci"))
CODE_SERVER = CI_CACHE / "bin" / "code-server"
VSIX = ROOT / "editors" / "vscode" / "profreg.vsix"
DRIVER_DIR = ROOT / "tests" / "editors" / "driver"
NEOVIM_PLUGIN = ROOT / "editors" / "neovim"
ARTIFACTS = ROOT / "build" / "editors"
# A registry with a typo both servers see (side-by-side tests): profreg says "did you mean
# 'system_prompt'?", yaml-language-server "Property sytem_prompt is not allowed".
SIDE_BY_SIDE_TEXT = (
    "slug: team\n"
    "default_profile_slug: agent\n"
    "profiles:\n"
    "  agent:\n"
    "    display_name: Agent\n"
    "    runtime:\n"
    "      sytem_prompt: You help.\n"
)


def pytest_configure(config):
    config.addinivalue_line("markers", "editor_e2e: drives a real editor (slow; runs in scripts/test)")


def venv_executable(name: str) -> str:
    """A console script of the test environment (next to this interpreter), else from PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"{name} is not installed in the test environment (pip install '.[test]')"
    return found


def expected_positions(case: str) -> list[dict]:
    """The corpus diagnostics of a validate case that name a position, 0-based like LSP."""
    expect = json.loads((CONFORMANCE / "validate" / f"{case}.expect.json").read_text())
    found = []
    for diag in expect["diagnostics"]:
        if "line" in diag:
            found.append({**diag, "line0": diag["line"] - 1, "character0": diag["column"] - 1})
    return found


def expected_errors(case: str) -> int:
    return json.loads((CONFORMANCE / "validate" / f"{case}.expect.json").read_text())["errors"]


@pytest.fixture(scope="session")
def profreg_command() -> str:
    return venv_executable("profreg")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
