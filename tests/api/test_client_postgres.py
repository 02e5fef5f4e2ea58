"""`profreg.connect` on a PostgreSQL store: another host's commit is seen within a second
(NOTIFY heard by the store's listener; the newest history row as the fallback), and change
events come from the same mechanism."""
from __future__ import annotations

import queue
import time

import profreg
from profreg.stores import WriteOptions, open_store
from tests.conftest import run_cli


def test_a_commit_elsewhere_is_seen_within_a_second(pg_database_spec):
    with open_store(pg_database_spec) as writer:
        writer.upsert_registry({"slug": "default"})
        writer.upsert_profile("default", {"slug": "agent", "runtime": {"system_prompt": "one"}})
    with profreg.connect(pg_database_spec) as client:
        assert client.resolve("agent").effective_runtime["system_prompt"] == "one"
        made = run_cli("profile", "update", "default/agent", "--system-prompt", "two", "--store", pg_database_spec)
        assert made.returncode == 0, made.stderr
        written = time.monotonic()
        while client.resolve("agent").effective_runtime["system_prompt"] != "two":
            assert time.monotonic() - written < 1.0, "not seen within a second"
            time.sleep(0.01)


def test_change_events_from_postgres(pg_database_spec):
    with open_store(pg_database_spec) as writer:
        writer.upsert_registry({"slug": "default"})
        with profreg.connect(pg_database_spec) as client:
            events: queue.Queue = queue.Queue()
            unsubscribe = client.on_change(events.put)
            time.sleep(0.5)  # the watcher has taken its first look
            writer.upsert_profile("default", {"slug": "agent"}, WriteOptions(actor="t"))
            assert events.get(timeout=10) == {"registry": "default", "version": 2}
            unsubscribe()
