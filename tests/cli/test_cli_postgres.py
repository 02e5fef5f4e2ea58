"""The CLI on a PostgreSQL store: specs from PROFREG_STORE, and racing writers."""
from __future__ import annotations

import json
import subprocess

from profreg.stores import open_store
from tests.conftest import profreg_executable, run_cli


def test_profreg_store_names_a_postgres_store(pg_spec):
    made = run_cli("registry", "create", "team", env={"PROFREG_STORE": pg_spec})
    assert made.returncode == 0, made.stderr
    listed = run_cli("list", "--format", "json", env={"PROFREG_STORE": pg_spec.replace("postgresql://", "postgres://")})
    assert [r["slug"] for r in json.loads(listed.stdout)] == ["team"]


def test_of_two_racing_writers_with_expected_version_exactly_one_wins(pg_spec):
    with open_store(pg_spec) as store:
        store.upsert_registry({"slug": "default"})
        store.upsert_profile("default", {"slug": "agent"})
    argv = [*profreg_executable(), "profile", "update", "default/agent", "--expected-version", "1", "--store", pg_spec]
    racers = [subprocess.Popen([*argv, "--system-prompt", f"writer {i}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for i in range(2)]
    results = [(racer.wait(timeout=120), *racer.communicate()) for racer in racers]
    assert sorted(code for code, _out, _err in results) == [0, 5], results
    winner = next(i for i, (code, _out, _err) in enumerate(results) if code == 0)
    loser_err = next(err for code, _out, err in results if code == 5)
    assert len(loser_err.splitlines()) == 1 and "version" in loser_err
    with open_store(pg_spec) as store:
        profile = store.get_profile("default", "agent")
    assert profile["metadata"]["version"] == 2 and profile["runtime"]["system_prompt"] == f"writer {winner}"
