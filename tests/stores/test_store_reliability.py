"""Concurrent writers lose no update; a writer killed at any instant leaves a committed state."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # store_writer, shared with the subprocess writers

from profreg.stores import open_store  # noqa: E402
from profreg.engine import validate_registry, validate_text
from profreg.engine.report import errors_only
from store_writer import write_once  # noqa: E402 - found through the sys.path entry above

WRITER = str(Path(__file__).with_name("store_writer.py"))
KILL_TRIALS = 50
SPECS = {"yaml": "yaml:{dir}/store.yaml", "sqlite": "sqlite:{dir}/store.db", "postgres": ""}


def start_writer(spec: str, profile: str, count: int, mode: str = "same") -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, WRITER, spec, profile, str(count), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    return process


def prepared_spec(request, kind: str, directory: Path) -> str:
    """A store of `kind` holding an empty registry `default`."""
    made = request.getfixturevalue("pg_spec") if kind == "postgres" else SPECS[kind].format(dir=directory)
    with open_store(made) as store:
        store.upsert_registry({"slug": "default"})
    return made


@pytest.fixture(params=sorted(SPECS))
def spec(request, tmp_path) -> str:
    return prepared_spec(request, request.param, tmp_path)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_eight_processes_of_mixed_writes_lose_no_update(request, tmp_path, kind):
    spec = prepared_spec(request, kind, tmp_path)
    with open_store(spec) as store:
        store.upsert_profile("default", {"slug": "base"})
        before = store.get_registry("default")["metadata"]["version"]
    writers = [start_writer(spec, f"w{i}", 50, "mixed") for i in range(8)]
    for process in writers:
        _out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    with open_store(spec) as store:
        registry = store.get_registry("default")
        history = store.history("default")
    assert registry["metadata"]["version"] == before + 400
    # 50 writes = 12 full cycles (created and deleted) + create and update of a 13th profile
    assert sorted(registry["profiles"]) == ["base"] + sorted(f"w{i}-12" for i in range(8))
    assert [row["version"] for row in history[:401]] == list(range(before + 400, before - 1, -1))


def test_concurrent_writers_lose_no_update(spec):
    writers = [start_writer(spec, f"p{i}", 25) for i in range(4)]
    for process in writers:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    with open_store(spec) as store:
        registry = store.get_registry("default")
    assert registry["metadata"]["version"] == 1 + 100
    assert {slug: p["metadata"]["version"] for slug, p in registry["profiles"].items()} == {
        "p0": 25, "p1": 25, "p2": 25, "p3": 25,
    }
    assert all(p["runtime"]["system_prompt"] == "25" for p in registry["profiles"].values())


def assert_committed_state(spec: str) -> int:
    """The store opens, validates, and its content is one a writer committed."""
    if spec.startswith("yaml:"):
        path = Path(spec.split(":", 1)[1])
        assert validate_text(path.read_bytes()).valid
        # a killed writer may leave its temp file; the next write removes it
        assert len(list(path.parent.glob(".store.yaml.*.tmp"))) <= 1
    with open_store(spec) as store:
        registry = store.get_registry("default")
    assert errors_only(validate_registry(registry)) == []
    profile = registry["profiles"].get("p")
    written = profile["metadata"]["version"] if profile else 0
    if profile:
        assert profile["runtime"]["system_prompt"] == str(written)
    assert registry["metadata"]["version"] == 1 + written
    return written


def forked_writer(spec: str, warm: bool) -> int:
    """A writer in a forked child (no interpreter start-up, so trials are cheap); its pid.

    Returns once the child has opened the store (and, if `warm`, committed one write: a
    process's first write is the slowest, so cold trials are mostly killed inside it and
    warm ones inside later writes)."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write until killed, never return into pytest
        try:
            os.close(ready_r)
            store = open_store(spec)
            if warm:
                write_once(store, "p")
            os.write(ready_w, b"r")
            write_forever(store)
        finally:
            os._exit(1)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"r"
    os.close(ready_r)
    return pid


def write_forever(store) -> None:
    while True:
        write_once(store, "p")


def test_a_writer_killed_at_random_instants_leaves_a_committed_state(spec):
    rng = random.Random(20261127)
    committed = 0
    for trial in range(KILL_TRIALS):
        pid = forked_writer(spec, warm=trial % 2 == 1)
        time.sleep(rng.uniform(0, 0.050))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        now = assert_committed_state(spec)
        assert now >= committed, "a committed write was lost"
        committed = now
    assert committed > KILL_TRIALS // 2
