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
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFORMANCE, ROOT
from tests.editors.codeserver import kill_group
from tests.editors.conftest import NEOVIM_PLUGIN, expected_errors, expected_positions, venv_executable, SIDE_BY_SIDE_TEXT

pytestmark = pytest.mark.editor_e2e

CASE = "several-problems"
HARNESS = ROOT / "tests" / "editors" / "nvim_harness.lua"
COMPOSE = "services:\n  web:\n    image: nginx\n    profiles: [debug]\n"
YAML_LS = ROOT / "tests" / "node" / "node_modules" / ".bin" / "yaml-language-server"
SCHEMA = ROOT / "schema" / "profile-registry.schema.json"


def run_neovim(tmp_path, job: dict) -> dict:
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    job = {**job, "output": str(tmp_path / "observed.json")}
    env["PROFREG_NVIM_JOB"] = json.dumps(job)
    proc = subprocess.Popen(
        [venv_executable("nvim"), "--headless", "--clean", "-c", f"luafile {HARNESS}"],
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

    side = tmp_path / "side-profiles.yaml"
    side.write_text(SIDE_BY_SIDE_TEXT)
    # Named so that no yaml.schemas glob matches: only its modeline gives yamlls the schema.
    marked = tmp_path / "modeline-registry.yaml"
    marked.write_text(f"# yaml-language-server: $schema={SCHEMA.as_uri()}\n{SIDE_BY_SIDE_TEXT}")
    notes = tmp_path / "notes.yaml"  # not a registry: yamlls alone reports its syntax error
    notes.write_text("items: [one, two\n")
    side_by_side = {}
    if registration == "config":
        assert YAML_LS.exists(), "yaml-language-server missing: run scripts/setup.d/10-node-test-tools.sh"
        side_by_side = {
            "side_file": str(side),
            "yamlls_cmd": [str(YAML_LS), "--stdio"],
            "schema": str(SCHEMA),
            "side_complete": {"line": 5, "indent": "    "},
            "side_hover": {"line": 4, "character": 6},
            "side_other": str(notes),
            "side_fix": {"message": "did you mean 'system_prompt'", "title": "Rename 'sytem_prompt' to 'system_prompt'"},
            "side_modeline": {"file": str(marked), "complete": {"line": 6, "indent": "    "},
                              "hover": {"line": 5, "character": 6}},
        }
    # The new-profile snippet, typed for: one registry file per way of completing.
    snippets = []
    for way, keys in (("omnifunc", "<C-x><C-o>"), ("get", "<Cmd>lua vim.lsp.completion.get()<CR>")):
        target = tmp_path / f"snippet-{way}-profiles.yaml"
        target.write_text((CONFORMANCE / "validate" / "valid-single.yaml").read_text())
        # Neovim's YAML indent script puts the new line at the profile keys' indentation.
        snippets.append({"file": str(target), "indent": "", "keys": keys, "label": "new profile"})

    observed = run_neovim(tmp_path, {
        **side_by_side,
        "snippets": snippets,
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
    assert observed["lsp_completion_enabled"] is True and "noinsert" in observed["completeopt"], context
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
    # It reports the buffer :checkhealth was called from, not its own health:// buffer.
    assert f"({document.name}): attached (client id" in health, health

    for way, typed in zip(snippets, observed["snippets"]):
        _assert_snippet_typed(way, typed, profreg_command, context)

    assert [n for n in observed["notifications"] if n["level"] and n["level"] >= 3] == [], context

    if registration == "config":
        _assert_side_by_side(observed, context)


def _assert_snippet_typed(way: dict, typed: dict, profreg_command: str, context: str) -> None:
    """The snippet accepted from the menu (vim.lsp.completion, which the plugin turned on)
    left valid YAML with the document's indentation, and `profreg validate` agrees."""
    assert typed["attached"] and typed["lsp_completion_enabled"] is True, context
    assert typed["omnifunc"] == "v:lua.vim.lsp.omnifunc", context
    assert way["label"] in typed["menu_items"] and typed["expanded"], context
    assert typed["mode"] == "n", context
    expanded = typed["lines"]
    assert expanded[0] == "  new-profile:", context
    indents = {line.strip().split(":")[0]: len(line) - len(line.lstrip()) for line in expanded[1:7]}
    assert indents["display_name"] == 4 and indents["runtime"] == 4 and indents["system_prompt"] == 6, context
    written = Path(way["file"]).read_text()
    data = yaml.safe_load(written)
    assert data["profiles"]["new-profile"]["display_name"] == "New profile", written
    assert set(data["profiles"]) == {"new-profile", "agent", "reviewer"}, written
    checked = subprocess.run([profreg_command, "validate", way["file"]], capture_output=True, text=True)
    assert checked.returncode == 0, f"{checked.stdout}{checked.stderr}\n{written}"
    # The server judges the edited buffer the same way: nothing to report.
    assert typed["diagnostics"] == [], context


def _assert_side_by_side(observed: dict, context: str) -> None:
    """yamlls and profreg on one buffer: each problem, completion item and hover once."""
    # yamlls ran and found the typo itself (stored, not shown on the registry buffer); the
    # user sees each problem, completion item and hover once, in profreg's words. The same
    # with a `$schema=` modeline, by which yamlls validates the second file.
    for seen, typo_line in ((observed["side"], 6), (observed["side_modeline"], 7)):
        assert seen["yamlls_reported"], context
        assert any("sytem_prompt" in m and "not allowed" in m for m in seen["yamlls_stored"]), context
        on_typo = [d for d in seen["shown"] if d["line"] == typo_line]
        assert len(on_typo) == 1 and "did you mean 'system_prompt'" in on_typo[0]["message"], context
        labels = [label for items in seen["completions"].values() for label in items]
        assert "description" in labels and len(labels) == len(set(labels)), context
        assert seen["hovers"] == ["profreg"], context
    # A quick fix applied as Neovim applies workspace edits: the problem is gone.
    assert observed["side_fix_applied"] and observed["side_fix_gone"], context
    assert "      system_prompt: You help." in observed["side_fixed_lines"], context
    # yamlls still reports on YAML that profreg does not serve.
    assert observed["side_other_shown"] != [], context


def test_neovim_warns_once_when_the_server_cannot_start(tmp_path):
    """No `profreg` program: one warning naming the cause and the option; :checkhealth says why."""
    document = tmp_path / "team-profiles.yaml"
    shutil.copy(CONFORMANCE / "validate" / "valid-single.yaml", document)
    second = tmp_path / "more-profiles.yaml"
    shutil.copy(CONFORMANCE / "validate" / "valid-single.yaml", second)
    observed = run_neovim(tmp_path, {
        "plugin": str(NEOVIM_PLUGIN),
        "setup": {"cmd": ["profreg-not-installed-here", "lsp"]},
        "registration": "config",
        "file": str(document),
        "second_file": str(second),
        "min_diagnostics": 0,
        "restart": False,
        "timeout_ms": 3000,
    })
    context = json.dumps(observed, indent=1)
    assert "error" not in observed, context
    warnings = [n["message"] for n in observed["notifications"] if n["level"] == 3]
    assert len(warnings) == 1, context
    assert "cannot find `profreg-not-installed-here`" in warnings[0] and "`cmd`" in warnings[0], context
    assert observed["clients"] == 0, context
    health = "\n".join(observed["health"])
    assert f"({document.name}): not attached: profreg: the language server cannot start" in health, health


def test_neovim_leaves_completion_to_a_plugin_when_told(tmp_path, profreg_command):
    """`completion = { enable = false }`: the server attaches, vim.lsp.completion stays off
    and 'completeopt' stays the user's (a completion plugin handles both)."""
    document = tmp_path / "team-profiles.yaml"
    document.write_text((CONFORMANCE / "validate" / "valid-single.yaml").read_text())
    observed = run_neovim(tmp_path, {
        "plugin": str(NEOVIM_PLUGIN),
        "setup": {"cmd": [profreg_command, "lsp"], "completion": {"enable": False}},
        "registration": "config",
        "file": str(document),
        "min_diagnostics": 0,
        "expect_client": True,
        "restart": False,
        "timeout_ms": 30000,
    })
    context = json.dumps(observed, indent=1)
    assert "error" not in observed, context
    assert observed["clients"] == 1, context
    assert observed["lsp_completion_enabled"] is False and observed["completeopt"] == "", context
