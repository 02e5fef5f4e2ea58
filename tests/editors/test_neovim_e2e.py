"""The Neovim plugin in a real headless Neovim 0.11, in both registration modes.

`config` registers the server with vim.lsp.config/vim.lsp.enable (0.11+); `start` is
the vim.lsp.start path that Neovim 0.8-0.10 use. Each run opens a broken corpus
document and a compose file, and checks the corpus diagnostics, a completion of the
profile slugs, that the compose file is left alone, and :checkhealth profreg.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import CONFORMANCE, ROOT
from tests.editors.codeserver import kill_group
from tests.editors.conftest import NEOVIM_PLUGIN, expected_errors, expected_positions, venv_executable

pytestmark = pytest.mark.editor_e2e

CASE = "several-problems"
HARNESS = ROOT / "tests" / "editors" / "nvim_harness.lua"
COMPOSE = "services:\n  web:\n    image: nginx\n    profiles: [debug]\n"


def run_neovim(tmp_path, job: dict) -> dict:
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    job = {**job, "output": str(tmp_path / "observed.json")}
    proc = subprocess.Popen(
        [venv_executable("nvim"), "--clean", "-l", str(HARNESS), json.dumps(job)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        env=env, cwd=tmp_path, start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    assert proc.returncode == 0, f"nvim failed ({proc.returncode}):\n{output}"
    return json.loads((tmp_path / "observed.json").read_text())


@pytest.mark.parametrize("registration, launch", [("config", "cmd"), ("start", "python")])
def test_neovim_plugin_diagnostics_completion_and_health(tmp_path, registration, launch, profreg_command):
    """`cmd` names the venv's profreg script; `python` makes the plugin run `PYTHON -m profreg lsp`."""
    document = tmp_path / f"{CASE}.yaml"
    shutil.copy(CONFORMANCE / "validate" / document.name, document)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    # A legacy flat file is recognised by its name (default pattern *profiles*.yaml).
    legacy = tmp_path / "team-profiles.yaml"
    shutil.copy(CONFORMANCE / "validate" / "legacy-format.yaml", legacy)
    lines = document.read_text().splitlines()
    slug_line = next(i for i, line in enumerate(lines) if line.startswith("default_profile_slug:"))

    observed = run_neovim(tmp_path, {
        "plugin": str(NEOVIM_PLUGIN),
        "setup": {"cmd": [profreg_command, "lsp"]} if launch == "cmd" else {"python": sys.executable},
        "registration": registration,
        "file": str(document),
        "other_file": str(compose),
        "glob_file": str(legacy),
        "min_diagnostics": expected_errors(CASE),
        "complete": {"line": slug_line, "prefix": "default_profile_slug: "},
        "timeout_ms": 30000,
    })
    context = json.dumps(observed, indent=1)
    assert "error" not in observed, context
    assert observed["mode"] == registration
    assert observed["filetype"] == "yaml" and observed["clients"] == 1, context

    errors = [d for d in observed["diagnostics"] if d["severity"] == 1]
    assert len(errors) == expected_errors(CASE), context
    for diag in expected_positions(CASE):
        # Corpus columns are code points; this document is ASCII, so they are bytes too.
        assert any(
            d["line"] == diag["line0"] and d["col"] == diag["character0"] and d["code"] == diag["code"]
            for d in errors
        ), f"{diag} not reported\n{context}"

    assert {"agent", "helper"} <= set(observed["completions"]), context

    # A compose file (it even has a nested `profiles:` key) gets no server and no diagnostics.
    assert observed["other_filetype"] == "yaml"
    assert observed["other_clients"] == 0 and observed["other_diagnostics"] == 0, context

    assert observed["glob_clients"] == 1 and "legacy-format" in observed["glob_codes"], context

    assert observed["restarted"], context

    health = "\n".join(observed["health"])
    assert "setup() called" in health and "server command:" in health, health
    assert "server version: profreg" in health, health
    assert (sys.executable if launch == "python" else profreg_command) in health, health
    assert "attached to the current buffer" in health, health
