"""Shared test fixtures: where the conformance corpus is, and running the real CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PROFREG_SHARED", ROOT.parent / "shared"))
CONFORMANCE = SHARED / "conformance"
VALIDATE_CASES = sorted(p.stem for p in (CONFORMANCE / "validate").glob("*.yaml"))


def profreg_executable() -> list[str]:
    """The installed console script next to this interpreter, else `python -m profreg`."""
    script = Path(sys.executable).with_name("profreg")
    if script.exists():
        return [str(script)]
    found = shutil.which("profreg")
    return [found] if found else [sys.executable, "-m", "profreg"]


def run_cli(*args: str, input: str | None = None, env: dict | None = None, cwd: str | Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `profreg ARGS` as a user would, in a separate process."""
    full_env = dict(os.environ)
    full_env.pop("PROFREG_STORE", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [*profreg_executable(), *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="session", autouse=True)
def _private_validation_cache(tmp_path_factory):
    """Keep the YAML store's validation cache (profreg/validcache.py) out of the user's home."""
    os.environ["PROFREG_CACHE_DIR"] = str(tmp_path_factory.mktemp("profreg-cache"))
    yield


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    assert CONFORMANCE.is_dir(), f"conformance corpus not found at {CONFORMANCE}"
    return CONFORMANCE
