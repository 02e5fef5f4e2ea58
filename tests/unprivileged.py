"""Run the CLI the way an ordinary user is, so file permissions really apply.

The suite runs as root in CI, and root reads and writes any file. Under root the command is
run with the capabilities that bypass file permissions dropped (`setpriv`), still as uid 0:
the files the test made are then judged by their mode bits and owner like anyone's. Under
an ordinary user the command runs as it is.
"""
from __future__ import annotations

import os
import subprocess

from tests.conftest import profreg_executable

# CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH bypass read, write and search permission checks;
# CAP_FOWNER bypasses "must own the file" checks (chmod, utime).
_FILE_CAPS = "-dac_override,-dac_read_search,-fowner"


def file_privileged() -> bool:
    return os.geteuid() == 0


def run_as_user(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    """`profreg ARGS` in a process that file permissions apply to."""
    prefix = ["setpriv", f"--bounding-set={_FILE_CAPS}", f"--inh-caps={_FILE_CAPS}"] if file_privileged() else []
    full_env = {k: v for k, v in os.environ.items() if k != "PROFREG_STORE"}
    full_env["PROFREG_CACHE_DIR"] = ""  # the validation cache is not what is tested
    full_env.update(env or {})
    return subprocess.run([*prefix, *profreg_executable(), *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=120)


def give_away(path) -> None:
    """Make `path` belong to someone else (nobody) when the test can; else it stays the user's."""
    if file_privileged():
        os.chown(path, 65534, 65534)
