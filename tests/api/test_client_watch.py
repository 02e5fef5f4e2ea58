"""Change events: `Client.on_change`, `Client.watch()` and `profreg watch [R]` report what other
processes commit; threads share one client safely."""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time

import profreg

from tests.api.conftest import cli
from tests.conftest import profreg_executable


def _next(events: "queue.Queue", timeout: float = 30.0):
    return events.get(timeout=timeout)


def test_on_change_reports_writes_of_other_processes(made_store):
    with profreg.connect(made_store) as client:
        version = client.get_registry()["metadata"]["version"]
        events: queue.Queue = queue.Queue()
        unsubscribe = client.on_change(events.put)
        cli("profile", "update", "default/agent", "--system-prompt", "two", "--store", made_store)
        assert _next(events) == {"registry": "default", "version": version + 1}
        cli("registry", "create", "other", "--store", made_store)
        assert _next(events) == {"registry": "other", "version": 1}
        cli("registry", "delete", "other", "--store", made_store)
        assert _next(events) == {"registry": "other", "version": None}
        unsubscribe()
        cli("profile", "update", "default/agent", "--system-prompt", "three", "--store", made_store)
        time.sleep(1.0)
        assert events.empty()


def test_watch_iterates_events_for_one_registry_and_ends_on_close(made_store):
    client = profreg.connect(made_store)
    seen: list = []
    iterator = client.watch("default")

    def consume() -> None:
        seen.extend(iterator)

    reader = threading.Thread(target=consume)
    reader.start()
    cli("registry", "create", "other", "--store", made_store)  # not watched
    cli("set-default", "default/helper", "--store", made_store)
    deadline = time.monotonic() + 30
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    client.close()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert [event["registry"] for event in seen] == ["default"]


def test_profreg_watch_prints_json_lines_until_interrupted(made_store):
    watcher = subprocess.Popen([*profreg_executable(), "watch", "--store", made_store],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items() if k != "PROFREG_STORE"})
    try:
        assert "watching" in watcher.stderr.readline()  # subscribed: changes from now on are seen
        cli("profile", "update", "default/helper", "--system-prompt", "new", "--store", made_store)
        event = json.loads(watcher.stdout.readline())
        assert event["registry"] == "default" and isinstance(event["version"], int)
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=30) == 130
        assert "Traceback" not in watcher.stderr.read()
    finally:
        if watcher.poll() is None:
            watcher.kill()


def test_one_client_shared_by_threads_while_another_process_writes(made_store):
    """Eight threads resolve and read while another process writes: every answer is a
    committed state (prompt and version agree), none fails, and the last write is seen."""
    with profreg.connect(made_store) as client:
        failures: list[BaseException] = []
        stop = threading.Event()
        answers: list[tuple[str, int]] = []

        def reader() -> None:
            try:
                while not stop.is_set():
                    resolved = client.resolve("agent")
                    answers.append((resolved.effective_runtime["system_prompt"], resolved.metadata["profile.version"]))
                    with_base = client.resolve("agent", base_settings={"s": {"k": 1}})
                    assert with_base.effective_settings["s"] == {"k": 1}
                    client.get_profile("helper")
                    client.list_profiles()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for thread in threads:
            thread.start()
        for round_ in range(3):  # agent's version goes 1 -> 4, its prompt says which write it was
            cli("profile", "update", "default/agent", "--system-prompt", f"v{round_ + 2}", "--store", made_store)
        client.update_profile("agent", {"runtime": {"system_prompt": "v5"}}, actor="test", source="api")
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join()
        assert not failures, failures
        assert answers
        for prompt, version in answers:
            assert prompt == ("one" if version == 1 else f"v{version}")
        final = client.resolve("agent")
        assert (final.effective_runtime["system_prompt"], final.metadata["profile.version"]) == ("v5", 5)
