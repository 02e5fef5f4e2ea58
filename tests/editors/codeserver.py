"""A throw-away code-server and headless Chromium for the VS Code end-to-end test.

Each process is started in its own session (its own process group) and the whole
group is killed at the end, so no editor, extension host, language server or
browser helper outlives the test.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
    "--remote-debugging-port=0",
]

USER_SETTINGS = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    # Nothing the test does not need: no AI chat, no git scanning.
    "chat.disableAIFeatures": True,
    "git.enabled": False,
    # Typing in the test must not be turned into accepted suggestions.
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.acceptSuggestionOnEnter": "off",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kill_group(proc: subprocess.Popen) -> None:
    """Kills the process group the process leads (it was started with start_new_session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def install_extension(code_server: Path, vsix: Path, user_data: Path, extensions: Path) -> None:
    result = subprocess.run(
        [str(code_server), "--user-data-dir", str(user_data), "--extensions-dir", str(extensions),
         "--install-extension", str(vsix)],
        capture_output=True, text=True, timeout=180, start_new_session=True,
    )
    assert result.returncode == 0, f"installing {vsix.name} failed:\n{result.stdout}\n{result.stderr}"


@contextmanager
def code_server(code_server: Path, workdir: Path, folder: Path, vsix: Path | list[Path], env: dict,
                settings: dict | None = None):
    """Runs code-server on 127.0.0.1 (auth: none) with the extensions installed; yields the folder's URL.

    `settings`: user settings added to the test's defaults.
    """
    user_data, extensions = workdir / "user-data", workdir / "extensions"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps({**USER_SETTINGS, **(settings or {})}, indent=2))
    for package in vsix if isinstance(vsix, list) else [vsix]:
        install_extension(code_server, package, user_data, extensions)
    port = free_port()
    config = workdir / "code-server.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")
    log = (workdir / "code-server.log").open("wb")
    proc = subprocess.Popen(
        [str(code_server), "--config", str(config), "--user-data-dir", str(user_data),
         "--extensions-dir", str(extensions), "--disable-telemetry", "--disable-update-check",
         "--disable-workspace-trust", "--disable-getting-started-override", str(folder)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "code-server exited:\n" + (workdir / "code-server.log").read_text()
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "code-server did not come up:\n" + (workdir / "code-server.log").read_text()
            time.sleep(0.3)
        yield f"{base}/?folder={folder}"
    finally:
        kill_group(proc)
        log.close()


@contextmanager
def chromium(workdir: Path):
    """Headless Chromium with a fresh profile; yields its DevTools websocket endpoint."""
    profile = workdir / "chromium-profile"
    profile.mkdir()
    stderr_path = workdir / "chromium.log"
    stderr = stderr_path.open("wb")
    proc = subprocess.Popen(
        ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            match = re.search(r"DevTools listening on (ws://\S+)", stderr_path.read_text(errors="replace"))
            if match:
                break
            assert proc.poll() is None, "chromium exited:\n" + stderr_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "chromium did not start:\n" + stderr_path.read_text(errors="replace")
            time.sleep(0.1)
        yield match.group(1)
    finally:
        kill_group(proc)
        stderr.close()


def drive(driver_dir: Path, job: dict, timeout: float) -> dict:
    """Runs the puppeteer-core driver on one job; returns what it observed."""
    proc = subprocess.Popen(
        ["node", str(driver_dir / "vscode_workbench.mjs"), json.dumps(job)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    assert proc.returncode == 0, f"driver failed ({proc.returncode}):\n{out}\n{err}"
    return json.loads(out.strip().splitlines()[-1])


def extension_logs(user_data: Path) -> str:
    """The profreg output channel and extension-host logs, for failure messages."""
    parts = []
    for path in sorted((user_data / "logs").rglob("*.log")):
        if "profreg" in path.name or "exthost" in path.name or "remoteagent" in path.name:
            parts.append(f"--- {path.relative_to(user_data)}\n{path.read_text(errors='replace')[-4000:]}")
    return "\n".join(parts)


def output_channel_text(user_data: Path, name: str = "profreg") -> str:
    """Everything an extension's output channel received (VS Code keeps it in a log file)."""
    return "\n".join(path.read_text(errors="replace") for path in sorted((user_data / "logs").rglob(f"*-{name}.log")))
