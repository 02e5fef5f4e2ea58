"""Cached and correct: an unchanged store is not read, parsed or validated again between
calls, and a change committed by another process (a CLI write, a person saving the YAML
file, another SQLite writer) is seen by the next call. A YAML file caught half-saved or
invalid keeps the last good registry being served, reported once."""
from __future__ import annotations

import json
import logging
import os
import sqlite3
from unittest import mock

import pytest

import profreg
from profreg.stores import sqlrows
from profreg.stores.yamlfile import store as yamlstore

from tests.api.conftest import cli, other_process


def one_profile_store(path) -> str:
    """A store (made by the CLI) whose registry `default` holds `agent`, prompt "one"."""
    spec = str(path)
    cli("registry", "create", "default", "--store", spec)
    cli("profile", "create", "default/agent", "--system-prompt", "one", "--store", spec)
    return spec


class Reads:
    """Counts the real reads of a store: YAML parses and the engine's readings of the file, SQLite
    statements and registry validations (the real functions run, wrapped)."""

    def __init__(self, client: profreg.Client) -> None:
        self.statements: list[str] = []
        store = client._store
        if hasattr(store, "conn"):
            store.conn.set_trace_callback(self.statements.append)
        self.parse = mock.patch.object(yamlstore, "parse_store_text", wraps=yamlstore.parse_store_text)
        self.validate = mock.patch.object(yamlstore.engine, "read_for_store", wraps=yamlstore.engine.read_for_store)
        self.check = mock.patch.object(sqlrows, "check_valid", wraps=sqlrows.check_valid)

    def __enter__(self) -> "Reads":
        self.parsed, self.validated, self.checked = self.parse.start(), self.validate.start(), self.check.start()
        return self

    def __exit__(self, *exc: object) -> None:
        mock.patch.stopall()

    def counts(self) -> tuple[int, int, int, int]:
        payload_reads = sum("payload_json" in s and s.lstrip().upper().startswith("SELECT") for s in self.statements)
        return self.parsed.call_count, self.validated.call_count, self.checked.call_count, payload_reads


def test_an_unchanged_store_is_not_read_again(made_store):
    with profreg.connect(made_store) as client, Reads(client) as reads:
        first = client.resolve("agent")
        client.get_profile("helper")
        loaded = reads.counts()
        for _ in range(50):
            assert client.resolve("agent") is first
            client.resolve(overrides=None)
            client.resolve("helper", base_settings={"ai": {"x": 1}})
            client.get_profile("agent")
            client.list_profiles()
        assert reads.counts() == loaded
        assert loaded[0] + loaded[3] <= 1  # opened once: at most one read of the file / row


def test_a_cli_write_in_another_process_is_seen_by_the_next_call(made_store):
    with profreg.connect(made_store) as client, Reads(client) as reads:
        assert client.resolve("agent").effective_runtime["system_prompt"] == "one"
        before = reads.counts()
        cli("profile", "update", "default/agent", "--system-prompt", "two", "--store", made_store)
        changed = client.resolve("agent")
        assert changed.effective_runtime["system_prompt"] == "two"
        assert changed.metadata["profile.version"] == 2
        after = reads.counts()
        assert after != before  # read again, once
        for _ in range(20):
            assert client.resolve("agent") is changed
        assert reads.counts() == after
        cli("profile", "create", "default/third", "--system-prompt", "3", "--store", made_store)
        assert client.get_profile("third")["runtime"]["system_prompt"] == "3"
        cli("profile", "delete", "default/third", "--store", made_store)
        with pytest.raises(profreg.NotFoundError):
            client.resolve("third")


def test_another_sqlite_writer_is_seen(tmp_path):
    """A writer that is not profreg (the Go implementation's shape: an UPDATE of the row)."""
    spec = one_profile_store(tmp_path / "store.db")
    with profreg.connect(spec) as client:
        assert client.resolve().effective_runtime["system_prompt"] == "one"
        other_process("""
            import json, sqlite3, sys
            conn = sqlite3.connect(sys.argv[1])
            payload = json.loads(conn.execute("SELECT payload_json FROM profile_registries").fetchone()[0])
            payload["profiles"]["agent"]["runtime"]["system_prompt"] = "from go"
            with conn:
                conn.execute("UPDATE profile_registries SET payload_json = ?", [json.dumps(payload)])
        """, spec)
        assert client.resolve().effective_runtime["system_prompt"] == "from go"


PERSON_SAVES = """
    import sys
    path, old, new = sys.argv[1:]
    text = open(path, encoding="utf-8").read()
    assert old in text
    with open(path, "w", encoding="utf-8") as handle:  # in place, as many editors save
        handle.write(text.replace(old, new))
"""


def test_a_person_saving_the_yaml_file_is_seen(tmp_path):
    spec = one_profile_store(tmp_path / "store.yaml")
    with profreg.connect(spec) as client:
        assert client.resolve().effective_runtime["system_prompt"] == "one"
        other_process(PERSON_SAVES, spec, "system_prompt: one", "system_prompt: edited by hand")
        assert client.resolve().effective_runtime["system_prompt"] == "edited by hand"
        # same size, same second: the file's identity, size and mtime_ns still tell
        other_process(PERSON_SAVES, spec, "edited by hand", "edited by HAND")
        assert client.resolve().effective_runtime["system_prompt"] == "edited by HAND"


def test_a_half_saved_or_invalid_file_keeps_the_last_good_registry(tmp_path, caplog):
    spec = one_profile_store(tmp_path / "store.yaml")
    good = open(spec, encoding="utf-8").read()
    with profreg.connect(spec) as client, Reads(client) as reads:
        served = client.resolve()
        assert client.last_error is None
        with open(spec, "w", encoding="utf-8") as handle:  # caught half-saved
            handle.write(good[: len(good) // 2] + "\n  - [unclosed\n")
        with caplog.at_level(logging.WARNING, logger="profreg"):
            for _ in range(30):
                assert client.resolve() is served  # never raised into the hot path
                assert client.get_profile("agent")["runtime"]["system_prompt"] == "one"
        assert isinstance(client.last_error, profreg.StoreError)
        assert "store.yaml:" in str(client.last_error)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert reads.counts()[0] == 1  # the broken file was read once, not on every call

        other_process(PERSON_SAVES.replace('text = open(path, encoding="utf-8").read()', f"text = {good!r}"),
                      spec, "system_prompt: one", "system_prompt: fixed")
        assert client.resolve().effective_runtime["system_prompt"] == "fixed"
        assert client.last_error is None

        with open(spec, "w", encoding="utf-8") as handle:  # valid YAML, invalid registry
            handle.write(good.replace("default_profile_slug: agent", "default_profile_slug: nobody"))
        assert client.resolve().effective_runtime["system_prompt"] == "fixed"
        assert "default-profile-unknown" in str(client.last_error)


def test_a_missing_file_is_an_empty_store(tmp_path):
    with profreg.connect(str(tmp_path / "none.yaml")) as client:
        assert client.list_registries() == []
        with pytest.raises(profreg.NotFoundError):
            client.resolve()
        cli("registry", "create", "default", "--store", str(tmp_path / "none.yaml"))
        cli("profile", "create", "default/agent", "--system-prompt", "late", "--store", str(tmp_path / "none.yaml"))
        assert client.resolve().effective_runtime["system_prompt"] == "late"
