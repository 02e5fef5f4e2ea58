"""The README's store walkthrough works line by line in an empty folder, as a new user runs it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, profreg_executable

MARKER = "<!-- walkthrough:"


def walkthrough_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index(MARKER):]
    block = re.search(r"```sh\n(.*?)```", after, re.S)
    assert block, "no ```sh block after the walkthrough marker"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_walkthrough_starts_from_nothing_and_covers_the_new_options():
    lines = walkthrough_lines()
    assert lines[0].startswith("profreg init ")
    text = "\n".join(lines)
    for option in ("--set-string", "step_settings_patch.", "profreg --store", "PROFREG_STORE", "--base"):
        assert option in text


def test_the_readme_walkthrough_runs_line_by_line_in_an_empty_folder(tmp_path):
    env = dict(os.environ)
    env.pop("PROFREG_STORE", None)
    # `profreg` as the user's shell finds it: the console script installed with this interpreter
    env["PATH"] = os.pathsep.join([str(Path(profreg_executable()[0]).parent), str(Path(sys.executable).parent),
                                   env.get("PATH", "")])
    script = "set -e\n"
    for i, line in enumerate(walkthrough_lines()):
        # each line's output is kept apart, so a failure names its line
        script += f"echo '>>> {i}' ; {line}\n"
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    lines = walkthrough_lines()
    done = re.findall(r"^>>> (\d+)$", result.stdout, re.M)
    failed = lines[int(done[-1])] if done else "(none ran)"
    assert result.returncode == 0, f"failed at: {failed}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    outputs = re.split(r"^>>> \d+\n", result.stdout, flags=re.M)[1:]
    assert len(outputs) == len(lines)
    by_line = dict(zip(lines, outputs))
    dotted = next(out for line, out in by_line.items() if "step_settings_patch.ai-chat.ai-engine=o3" in line)
    assert json.loads(dotted)["effective_runtime"]["step_settings_patch"]["ai-chat"]["ai-engine"] == "o3"
    as_typed = next(out for line, out in by_line.items() if "--set-string" in line)
    assert json.loads(as_typed)["effective_runtime"]["system_prompt"] == "Note: be terse."
    listed = json.loads(outputs[-1])  # `profreg list default` from PROFREG_STORE (the migrated SQLite)
    assert [p["slug"] for p in listed] == ["assistant"]
    left = set(os.listdir(tmp_path))
    assert {"base.yaml", "profiles.db", "profiles.yaml"} <= left
    assert not [name for name in left if name.endswith((".lock", ".tmp"))]  # no lock or temporary file
