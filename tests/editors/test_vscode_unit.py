"""The VS Code extension's own unit tests (node's test runner over the compiled out/test):
registry detection, server command resolution, schema-error ownership."""
from __future__ import annotations

import shutil
import subprocess

from tests.conftest import ROOT

EXTENSION = ROOT / "editors" / "vscode"


def test_extension_unit_tests_pass():
    assert (EXTENSION / "out" / "test").is_dir(), "extension not compiled: run scripts/setup.d/20-vscode-extension.sh"
    result = subprocess.run([shutil.which("node") or "node", "--test", "out/test/"], cwd=EXTENSION,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass " in result.stdout, result.stdout
