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

import pytest

from tests.conftest import CONFORMANCE
from tests.editors.codeserver import chromium, code_server, drive, extension_logs
from tests.editors.conftest import CODE_SERVER, DRIVER_DIR, VSIX, expected_errors, expected_positions

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
                "outputCount": 2,
                # Completing the slug by hand fixes the one problem on that line.
                "afterRestart": {"file": document, "line": slug_line + 1, "column": len(prefix) + 1,
                                 "text": profile_slugs[0], "problems": expected_errors(CASE) - 1},
                "screenshot": str(screenshot),
                "timeoutMs": 90_000,
            },
            timeout=300,
        )
        logs = extension_logs(tmp_path / "user-data")

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
    assert observed["outputText"].count("Starting the language server") >= 2, context
    assert profreg_command in observed["outputText"], context
    after = [_problem_position(row) for row in observed["problemsAfterRestart"]]
    after = [p for p in after if p]
    assert len(after) == expected_errors(CASE) - 1 and all(line != slug_line + 1 for line, _ in after), context

    # The other YAML file got nothing from profreg.
    other_rows = [r for r in observed["problemsAfterOther"] if OTHER_FILE in r["aria"] + r["text"] or "legacy-format" in r["text"]]
    assert other_rows == [], context
