"""The VS Code extension in a real VS Code workbench (code-server), driven headless.

Installs the packaged .vsix, opens a broken registry from the corpus, waits for the
Problems panel to list the corpus's diagnostics, asks for completion after
`default_profile_slug: ` and checks the registry's profile slugs are offered.
A screenshot is saved under build/editors/.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import CONFORMANCE, ROOT
from tests.editors.codeserver import chromium, code_server, drive, extension_logs, output_channel_text
from tests.editors.conftest import CODE_SERVER, DRIVER_DIR, VSIX, expected_errors, expected_positions, SIDE_BY_SIDE_TEXT

STANDIN_VSIX = ROOT / "tests" / "editors" / "yaml-extension" / "yaml-standin.vsix"
YAML_LS_MODULE = ROOT / "tests" / "node" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"

pytestmark = pytest.mark.editor_e2e

CASE = "several-problems"
# Legacy-shaped YAML (profile -> section -> settings) that is not named like a registry:
# the server would warn `legacy-format` if it were given the file; the extension must not.
OTHER_FILE = "app-settings.yaml"
NAMED_FILE = "team-profiles.yaml"
OTHER_TEXT = "web:\n  http:\n    port: 8080\nworker:\n  queue:\n    threads: 4\n"


def _problem_position(row: dict) -> tuple[int, int] | None:
    """(line, column), 1-based, of a Problems row for an error, from its accessible label or its text."""
    if not row["aria"].startswith("Error"):
        return None
    match = re.search(r"line (\d+)\D+?(?:character|column) (\d+)", row["aria"], re.IGNORECASE)
    if not match:
        match = re.search(r"\[Ln (\d+), Col (\d+)\]", row["text"])
    return (int(match.group(1)), int(match.group(2))) if match else None


def _rows_of_file(rows: list[dict], name: str) -> list[dict]:
    """The Problems rows under one file's header row."""
    found, inside = [], False
    for row in rows:
        if " problems in file " in row["aria"] or " problem in file " in row["aria"]:
            inside = f" file {name} " in row["aria"]
        elif inside:
            found.append(row)
    return found


def test_extension_reports_problems_and_completes_profile_slugs(tmp_path, profreg_command, artifacts_dir):
    assert CODE_SERVER.exists(), f"{CODE_SERVER} missing: run scripts/setup.d/30-code-server.sh"
    assert VSIX.exists(), f"{VSIX} missing: run scripts/setup.d/20-vscode-extension.sh"
    assert (DRIVER_DIR / "node_modules" / "puppeteer-core").is_dir(), "run scripts/setup.d/30-code-server.sh"

    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    document = f"{CASE}.yaml"
    shutil.copy(CONFORMANCE / "validate" / document, workspace / document)
    (workspace / OTHER_FILE).write_text(OTHER_TEXT)
    # The same shape in a file named like a registry is served (default glob **/*profiles*.yaml).
    shutil.copy(CONFORMANCE / "validate" / "legacy-format.yaml", workspace / NAMED_FILE)
    # The server is the profreg of the test environment, named through the extension's setting.
    (workspace / ".vscode" / "settings.json").write_text(json.dumps({"profreg.server.command": profreg_command}))

    text_lines = (workspace / document).read_text().splitlines()
    slug_line = next(i for i, line in enumerate(text_lines) if line.startswith("default_profile_slug:"))
    prefix = "default_profile_slug: "
    profile_slugs = ["agent", "helper"]  # the keys under `profiles:` in the corpus document
    for slug in profile_slugs:
        assert f"  {slug}:" in text_lines

    expected = expected_positions(CASE)
    screenshot = artifacts_dir / "vscode-e2e.png"
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(profreg_command), os.environ.get("PATH", "")])}
    with code_server(CODE_SERVER, tmp_path, workspace, VSIX, env) as url, chromium(tmp_path) as endpoint:
        observed = drive(
            DRIVER_DIR,
            {
                "browserWSEndpoint": endpoint,
                "url": url,
                "file": document,
                "minProblems": expected_errors(CASE),
                "complete": {"line": slug_line + 1, "column": len(prefix) + 1, "labels": profile_slugs},
                "otherFile": OTHER_FILE,
                "namedFile": {"file": NAMED_FILE, "code": "legacy-format"},
                "commands": ["profreg: Restart Language Server", "profreg: Show Language Server Output"],
                "outputLine": "Starting the language server",
                "outputCount": 2,  # the second start: the restart is done before the edit
                # Completing the slug by hand fixes the one problem on that line.
                "afterRestart": {"file": document, "line": slug_line + 1, "column": len(prefix) + 1,
                                 "text": profile_slugs[0], "problems": expected_errors(CASE) - 1},
                "screenshot": str(screenshot),
                "toastsSoFar": True,
                "timeoutMs": 90_000,
            },
            timeout=600,
        )
        logs = extension_logs(tmp_path / "user-data")
        channel = output_channel_text(tmp_path / "user-data")

    (artifacts_dir / "vscode-e2e.json").write_text(json.dumps(observed, indent=1))
    context = f"observed: {json.dumps(observed, indent=1)}\n{logs}"
    assert observed.get("ok"), context
    assert screenshot.stat().st_size > 0

    positions = [_problem_position(row) for row in observed["problems"]]
    positions = [p for p in positions if p]
    assert len(positions) == expected_errors(CASE), context
    for diag in expected:
        assert (diag["line"], diag["column"]) in positions, f"{diag} not in the Problems panel\n{context}"
        row = next(r for r, p in zip(observed["problems"], map(_problem_position, observed["problems"]))
                   if p == (diag["line"], diag["column"]))
        assert diag["code"] in row["aria"] + row["text"], f"{diag['code']} not shown\n{context}"

    for slug in profile_slugs:
        assert slug in observed["completions"], context

    assert any("legacy-format" in row["text"] for row in observed["problemsForNamed"]), context

    # Restart started the server a second time; Show Output showed the channel that says so.
    assert "Starting the language server" in observed["outputText"], context
    assert channel.count("Starting the language server") >= 2 and profreg_command in channel, context
    # A restart is not a crash: no notification, no "exited with ..." line.
    assert observed["toastsBeforeFailure"] == [], context
    assert "Server process exited" not in channel, channel
    after = [_problem_position(row) for row in observed["problemsAfterRestart"]]
    after = [p for p in after if p]
    assert len(after) == expected_errors(CASE) - 1 and all(line != slug_line + 1 for line, _ in after), context

    # The other YAML file got nothing from profreg.
    other_rows = [r for r in observed["problemsAfterOther"] if OTHER_FILE in r["aria"] + r["text"] or "legacy-format" in r["text"]]
    assert other_rows == [], context


SIDE_FILE = "team-profiles.yaml"
SYNTAX_FILE = "broken-profiles.yaml"
MODELINE_FILE = "modeline-registry.yaml"


def test_side_by_side_with_the_yaml_extension_and_a_failing_start(tmp_path, profreg_command, artifacts_dir):
    """profreg beside yaml-language-server run the way Red Hat's YAML extension runs it.

    The real redhat.vscode-yaml is published on the marketplaces only, which this
    environment cannot reach; tests/editors/yaml-extension is a stand-in that starts the
    same yaml-language-server for YAML with the same settings and schema contributor API.
    The user settings map the profreg schema onto registry files the way the YAML
    extension's own documentation says (`yaml.schemas`), so without coordination every key,
    hover and schema problem would show twice.
    """
    assert CODE_SERVER.exists() and VSIX.exists() and STANDIN_VSIX.exists(), "run scripts/setup.d/*.sh"
    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    (workspace / SIDE_FILE).write_text(SIDE_BY_SIDE_TEXT)
    shutil.copy(CONFORMANCE / "validate" / "yaml-syntax.yaml", workspace / SYNTAX_FILE)
    # No yaml.schemas glob matches this name: the YAML extension takes the schema from the
    # modeline, before any other extension's word.
    schema_uri = (ROOT / "schema" / "profile-registry.schema.json").as_uri()
    (workspace / MODELINE_FILE).write_text(f"# yaml-language-server: $schema={schema_uri}\n{SIDE_BY_SIDE_TEXT}")
    settings_path = workspace / ".vscode" / "settings.json"
    settings_path.write_text(json.dumps({"profreg.server.command": profreg_command}))
    # An interpreter without profreg, for the failing start at the end.
    no_profreg = tmp_path / "python-without-profreg"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(no_profreg)], check=True)
    user_settings = {
        "yamlStandIn.serverModule": str(YAML_LS_MODULE),
        "yaml.schemas": {str(ROOT / "schema" / "profile-registry.schema.json"): ["**/*profiles*.yaml"]},
        "yaml.schemaStore.enable": False,
        "editor.hover.delay": 100,
    }
    screenshot = artifacts_dir / "vscode-side-by-side.png"
    failed_shot = artifacts_dir / "vscode-start-failure.png"
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(profreg_command), os.environ.get("PATH", "")])}
    with code_server(CODE_SERVER, tmp_path, workspace, [VSIX, STANDIN_VSIX], env, user_settings) as url, \
            chromium(tmp_path) as endpoint:
        observed = drive(
            DRIVER_DIR,
            {
                "browserWSEndpoint": endpoint,
                "url": url,
                "file": SIDE_FILE,
                "minProblems": 0,
                "sideBySide": {
                    "file": SIDE_FILE,
                    "problemText": "did you mean",
                    "hover": {"line": 5, "column": 6},
                    "complete": {"line": 5, "label": "description"},
                    "syntaxFile": SYNTAX_FILE,
                    "screenshot": str(screenshot),
                    "highlight": {"line": 4, "column": 4, "lens": "reference",
                                  "screenshot": str(artifacts_dir / "vscode-highlights.png")},
                    "quickFix": {"line": 7, "column": 9, "title": "Rename 'sytem_prompt' to 'system_prompt'",
                                 "gone": "sytem_prompt"},
                    "snippet": {"line": 4, "indent": "  ", "label": "new profile"},
                    "modeline": {"file": MODELINE_FILE, "problemText": "not allowed",
                                 "hover": {"line": 6, "column": 6}, "complete": {"line": 6, "label": "description"},
                                 "screenshot": str(artifacts_dir / "vscode-side-by-side-modeline.png")},
                },
                "failStart": {
                    "settingsPath": str(settings_path),
                    "settingsText": json.dumps({"profreg.server.pythonPath": str(no_profreg / "bin" / "python")}),
                    "screenshot": str(failed_shot),
                },
                "screenshot": str(artifacts_dir / "vscode-side-by-side-end.png"),
                "timeoutMs": 90_000,
            },
            timeout=600,
        )
        logs = extension_logs(tmp_path / "user-data")
    (artifacts_dir / "vscode-side-by-side.json").write_text(json.dumps(observed, indent=1))
    print(f"side-by-side screenshot: {screenshot}")
    context = f"observed: {json.dumps(observed, indent=1)}\n{logs}"
    assert observed.get("ok"), context
    side = observed["side"]

    # The typo: one problem, profreg's "did you mean", not the YAML extension's "not allowed".
    on_typo = [r for r in side["problems"] if "sytem_prompt" in r["text"] + r["aria"]]
    assert len(on_typo) == 1, context
    assert "did you mean 'system_prompt'" in on_typo[0]["text"], context
    assert not any("not allowed" in r["text"] for r in side["problems"]), context

    # One hover block on a key, profreg's.
    assert len(side["hover"]) == 1, context
    assert "Display name" in side["hover"][0], context

    # Each completion item once.
    labels = side["completions"]
    assert "description" in labels and len(labels) == len(set(labels)), context

    # Highlights come from profreg (a write at the key, a read where it is named), not from
    # the word-based fallback; the profile's code lens says it is the default.
    assert "wordHighlightStrong" in " ".join(side["highlights"]), context
    assert not any("wordHighlightText" in c for c in side["highlights"]), context
    assert len(side["highlights"]) == 2, context
    assert any("default" in lens and "1 reference" in lens for lens in side["codeLenses"]), context

    # The quick fix, chosen from the lightbulb menu, removes its problem.
    assert not any("sytem_prompt" in r["text"] for r in side["problemsAfterFix"]), context
    assert any("system_prompt: You help." in line for line in side["fixedLine"]), context

    # The new-profile snippet expands with the document's indentation (2, then 4 and 6).
    lines = side["snippetLines"]
    at = lines.index("  new-profile:")
    assert lines[at + 1] == "    display_name: New profile", context
    assert "    runtime:" in lines[at:] and "      system_prompt: You are a helpful assistant." in lines[at:], context
    # The whole document is valid YAML, and valid for profreg (the typo was fixed above).
    expanded = tmp_path / "snippet-profiles.yaml"
    expanded.write_text("\n".join(lines).rstrip("\n") + "\n")
    assert set(yaml.safe_load(expanded.read_text())["profiles"]) == {"new-profile", "agent"}, context
    checked = subprocess.run([profreg_command, "validate", str(expanded)], capture_output=True, text=True)
    assert checked.returncode == 0, f"{checked.stdout}{checked.stderr}\n{expanded.read_text()}"

    # With a `$schema=` modeline the YAML extension validates, completes and hovers by it:
    # profreg leaves it the schema problem, the items it offers too and the hover, so each
    # is there once (the typo in the YAML extension's words).
    marked = side["modeline"]
    on_typo = [r for r in _rows_of_file(marked["problems"], MODELINE_FILE) if "sytem_prompt" in r["text"] + r["aria"]]
    assert len(on_typo) == 1 and "not allowed" in on_typo[0]["text"], context
    assert len(marked["hover"]) == 1 and "Display name" in marked["hover"][0], context
    assert "description" in marked["completions"], context
    assert len(marked["completions"]) == len(set(marked["completions"])), context

    # The syntax error once (the YAML extension's; profreg leaves YAML syntax to it).
    errors = [r for r in _rows_of_file(side["syntaxProblems"], SYNTAX_FILE) if r["aria"].startswith("Error")]
    assert len(errors) >= 1, context
    per_line = [_problem_position(r)[0] for r in errors if _problem_position(r)]
    assert len(per_line) == len(set(per_line)), f"a line has two syntax errors\n{context}"
    assert not any("yaml-syntax" in r["text"] for r in errors), context

    # The failing start: one notification naming the cause and the setting; the status bar says so.
    failures = [t for t in observed["failToasts"] if "profreg" in t]
    assert len(failures) == 1, context
    assert "No module named profreg" in failures[0] and "profreg.server.pythonPath" in failures[0], context
    assert any(item["aria"] == "profreg language server: failed" for item in observed["statusBar"]), context
    assert screenshot.stat().st_size > 0
