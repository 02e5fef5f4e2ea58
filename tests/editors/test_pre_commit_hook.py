"""The `profreg-validate` pre-commit hook, run the way a user first tries it:
`pre-commit try-repo` against a git repository holding a broken registry. It must
fail and name the problem, leave other YAML alone, and pass once the file is fixed.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import CONFORMANCE, ROOT
from tests.editors.conftest import venv_executable

pytestmark = pytest.mark.editor_e2e

HOOK = "profreg-validate"
COMPOSE = "services:\n  web:\n    image: nginx\n"  # not a registry: the hook must not look at it


def _git(repo, *args, env):
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60)


def _try_repo(repo, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv_executable("pre-commit"), "try-repo", str(ROOT), HOOK, "--all-files"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )


def test_pre_commit_hook_fails_on_a_broken_registry_and_passes_when_fixed(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "profreg tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "profreg tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    }
    env.pop("PROFREG_STORE", None)
    _git(repo, "init", "-q", env=env)
    registry = repo / "config" / "profiles.yaml"
    registry.parent.mkdir()
    shutil.copy(CONFORMANCE / "validate" / "default-profile-unknown.yaml", registry)
    (repo / "compose.yaml").write_text(COMPOSE)
    _git(repo, "add", ".", env=env)

    broken = _try_repo(repo, env)
    output = broken.stdout + broken.stderr
    assert broken.returncode == 1, output
    assert "profreg validate" in output and "Failed" in output, output
    assert "config/profiles.yaml" in output and "default-profile-unknown" in output, output
    assert "compose.yaml" not in output, output

    shutil.copy(CONFORMANCE / "validate" / "valid-single.yaml", registry)
    _git(repo, "add", ".", env=env)
    fixed = _try_repo(repo, env)
    output = fixed.stdout + fixed.stderr
    assert fixed.returncode == 0, output
    assert "Passed" in output, output
