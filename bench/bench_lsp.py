"""Language-server latency and memory: profreg-lsp against yaml-language-server.

Both servers get the same generated document (bench/generate.py) of 100, 1,000 and 10,000
profiles over stdio; yaml-language-server is given the registry JSON Schema through its
`yaml.schemas` setting. Measured per server and size:

- edit -> diagnostics: a value in the middle profile is changed (incremental didChange)
  and the time until the next publishDiagnostics for the document is taken;
- completion at a blank line inside the middle profile's `policy:` (keys fit there) and
  hover on its `system_prompt` key;
- peak resident memory (VmHWM of the server process and its children).

Usage: python bench/bench_lsp.py [--sizes 100,1000,10000] [--samples 20] [--yls-max-samples ...]
Prints a table with p50/p95 and the ratios profreg / yaml-language-server.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import document  # noqa: E402

SCHEMA = ROOT / "schema" / "profile-registry.schema.json"
YLS = ROOT / "tests" / "node" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"


class StdioLspClient:
    """A small blocking LSP client: requests, notifications, and publishDiagnostics waits."""

    def __init__(self, command: list[str], settings: dict | None = None, cwd: str | None = None,
                 stderr: Any = subprocess.DEVNULL):
        self.settings = settings or {}
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=stderr, cwd=cwd)
        self._next_id = 0
        self._pending: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.diagnostics: dict[str, list[tuple[float, Any, list]]] = {}
        self._diag_cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # -- wire ---------------------------------------------------------------------------
    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode("utf-8")
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read_loop(self) -> None:
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length is None:
                continue
            message = json.loads(stream.read(length))
            self._dispatch(message, time.perf_counter())

    def _dispatch(self, message: dict, at: float) -> None:
        if "id" in message and "method" not in message:
            q = self._pending.pop(message["id"], None)
            if q is not None:
                q.put(message)
        elif "id" in message:  # a request from the server
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message)})
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            with self._diag_cond:
                self.diagnostics.setdefault(params["uri"], []).append(
                    (at, params.get("version"), params["diagnostics"]))
                self._diag_cond.notify_all()

    def _answer(self, message: dict) -> Any:
        if message["method"] == "workspace/configuration":
            return [self.settings.get(item.get("section", ""), None) for item in message["params"]["items"]]
        return None

    # -- API ----------------------------------------------------------------------------
    def request(self, method: str, params: Any, timeout: float = 300) -> Any:
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        q: queue.Queue = queue.Queue()
        self._pending[msg_id] = q
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        reply = q.get(timeout=timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics_count(self, uri: str) -> int:
        with self._diag_cond:
            return len(self.diagnostics.get(uri, []))

    def wait_diagnostics(self, uri: str, after_count: int, timeout: float = 300, version: int | None = None):
        """The first diagnostics for `uri` published after `after_count` earlier ones."""
        deadline = time.monotonic() + timeout
        with self._diag_cond:
            while True:
                got = self.diagnostics.get(uri, [])[after_count:]
                for at, v, diags in got:
                    if version is None or v is None or v == version:
                        return at, diags
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no diagnostics for {uri}")
                self._diag_cond.wait(left)

    def initialize(self, root: str, options: dict | None = None) -> dict:
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root, "workspaceFolders": [{"uri": root, "name": "bench"}],
            "capabilities": {
                "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": True}},
                "textDocument": {
                    "synchronization": {"didSave": False},
                    "completion": {"completionItem": {"snippetSupport": True, "documentationFormat": ["markdown"]}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "publishDiagnostics": {"versionSupport": True},
                },
                "general": {"positionEncodings": ["utf-16"]},
            },
            "initializationOptions": options or {},
        })
        self.notify("initialized", {})
        return result

    def peak_memory_kb(self) -> int:
        """VmHWM of the server and of every process below it."""
        total = 0
        for pid in [self.proc.pid] + _descendants(self.proc.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=30)
            self.notify("exit", None)
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _middle_profile_lines(text: str, n: int) -> dict[str, int]:
    lines = text.split("\n")
    key = f"  agent-{n // 2:06d}:"
    start = lines.index(key)
    found = {}
    for i in range(start, start + 20):
        stripped = lines[i].strip()
        for name in ("display_name", "system_prompt", "allow_overrides"):
            if stripped.startswith(name + ":") and name not in found:
                found[name] = i
    return found


def run_server(name: str, command: list[str], n: int, samples: int, workdir: Path, settings: dict,
               options: dict | None = None, pause: float = 0.15) -> dict:
    text = document(n)
    path = workdir / f"registry-{n}.yaml"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    where = _middle_profile_lines(text, n)
    client = StdioLspClient(command, settings=settings, cwd=str(ROOT))
    out: dict[str, Any] = {"server": name, "profiles": n}
    try:
        client.initialize(workdir.as_uri(), options)
        client.notify("workspace/didChangeConfiguration", {"settings": settings})
        before = client.diagnostics_count(uri)
        t0 = time.perf_counter()
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        at, _ = client.wait_diagnostics(uri, before, version=1)
        out["open_s"] = at - t0
        version = 1
        # edit -> diagnostics: change the middle profile's display name back and forth
        line = where["display_name"]
        old = f"Agent {n // 2}"
        edits = []
        for i in range(samples):
            new = f"Agent {n // 2}{'x' if i % 2 == 0 else ''}"
            cur = old if i % 2 == 0 else f"Agent {n // 2}x"
            version += 1
            time.sleep(pause)
            before = client.diagnostics_count(uri)
            start_col = len("    display_name: ")
            t0 = time.perf_counter()
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": line, "character": start_col},
                                              "end": {"line": line, "character": start_col + len(cur)}},
                                    "text": new}]})
            at, _ = client.wait_diagnostics(uri, before, version=version)
            edits.append(at - t0)
        out["edit_s"] = edits
        # a blank line inside `policy:` where completion must offer the missing keys
        policy_line = where["allow_overrides"]
        version += 1
        before = client.diagnostics_count(uri)
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": policy_line + 1, "character": 0},
                                          "end": {"line": policy_line + 1, "character": 0}},
                                "text": "      \n"}]})
        client.wait_diagnostics(uri, before, version=version)
        completions, counts = [], []
        for _ in range(samples):
            time.sleep(pause / 3)
            t0 = time.perf_counter()
            try:
                result = client.request("textDocument/completion", {
                    "textDocument": {"uri": uri}, "position": {"line": policy_line + 1, "character": 6}})
            except RuntimeError as exc:  # a server's failure is a result too
                out.setdefault("errors", []).append(str(exc)[:200])
                result = None
            completions.append(time.perf_counter() - t0)
            items = result.get("items", []) if isinstance(result, dict) else (result or [])
            counts.append(len(items))
        out["completion_s"] = completions
        out["completion_items"] = counts
        hovers, hover_hits = [], 0
        for _ in range(samples):
            time.sleep(pause / 3)
            t0 = time.perf_counter()
            try:
                result = client.request("textDocument/hover", {
                    "textDocument": {"uri": uri}, "position": {"line": where["system_prompt"], "character": 9}})
            except RuntimeError as exc:
                out.setdefault("errors", []).append(str(exc)[:200])
                result = None
            hovers.append(time.perf_counter() - t0)
            hover_hits += bool(result)
        out["hover_s"] = hovers
        out["hover_answered"] = hover_hits
        out["peak_kb"] = client.peak_memory_kb()
    finally:
        client.close()
    return out


def ms(result: dict, key: str, q: float) -> float:
    """The q-quantile of a list of seconds in `result`, in milliseconds."""
    return percentile(result[key], q) * 1000


def summarize(result: dict) -> dict:
    def p(key: str, q: float) -> float:
        return ms(result, key, q)

    return {
        "server": result["server"], "profiles": result["profiles"], "open_ms": result["open_s"] * 1000,
        "edit_p50": p("edit_s", 0.5), "edit_p95": p("edit_s", 0.95),
        "completion_p50": p("completion_s", 0.5), "completion_p95": p("completion_s", 0.95),
        "completion_items": min(result["completion_items"]),
        "hover_p50": p("hover_s", 0.5), "hover_p95": p("hover_s", 0.95),
        "peak_mb": result["peak_kb"] / 1024, "samples": len(result["edit_s"]),
        "hover_answered": f"{result['hover_answered']}/{len(result['hover_s'])}",
        "errors": sorted(set(result.get("errors", []))),
    }


HEADER = ("server", "profiles", "samples", "open ms", "edit->diag p50", "p95", "completion p50", "p95", "items",
          "hover p50", "p95", "hovers answered", "peak MB")


def row(r: dict) -> str:
    return (f"| {r['server']} | {r['profiles']} | {r['samples']} | {r['open_ms']:.0f} | {r['edit_p50']:.1f} | "
            f"{r['edit_p95']:.1f} | {r['completion_p50']:.1f} | {r['completion_p95']:.1f} | {r['completion_items']} | "
            f"{r['hover_p50']:.1f} | {r['hover_p95']:.1f} | {r['hover_answered']} | {r['peak_mb']:.0f} |")


def print_table(header: tuple[str, ...], lines: list[str]) -> None:
    """A Markdown table: the header, then the rows already formatted, then a blank line."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in lines:
        print(line)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--yls-samples", default="20,10,3", help="samples for yaml-language-server per size")
    parser.add_argument("--no-yls", action="store_true", help="measure profreg-lsp only")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--server", default=f"{sys.executable} -m profreg_lsp",
                        help="the profreg server command line (default: this Python's `-m profreg_lsp`, "
                             "the same as the `profreg-lsp` script; editors run `profreg lsp`)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    yls_samples = [int(s) for s in args.yls_samples.split(",")]
    ours = shlex.split(args.server)
    yls = ["node", str(YLS), "--stdio"]
    yls_settings = {"yaml": {"schemas": {SCHEMA.as_uri(): ["*.yaml"]}, "validate": True, "completion": True,
                             "hover": True, "format": {"enable": False}, "maxItemsComputed": 100000}}
    rows, raw = [], []
    with tempfile.TemporaryDirectory(prefix="bench-lsp-") as tmp:
        workdir = Path(tmp)
        for i, n in enumerate(sizes):
            for name, command, settings, samples in (
                ("profreg-lsp", ours, {}, args.samples),
                ("yaml-language-server", yls, yls_settings, yls_samples[min(i, len(yls_samples) - 1)]),
            ):
                if args.no_yls and name != "profreg-lsp":
                    continue
                print(f"... {name} at {n} profiles ({samples} samples)", file=sys.stderr, flush=True)
                result = run_server(name, command, n, samples, workdir, settings)
                raw.append(result)
                rows.append(summarize(result))
                print(row(rows[-1]), file=sys.stderr, flush=True)  # progress, in case a later run fails
                if args.json:
                    args.json.write_text(json.dumps(raw, indent=2))
    print_table(HEADER, [row(r) for r in rows])
    for r in rows:
        for error in r["errors"]:
            print(f"{r['server']} at {r['profiles']} profiles answered with an error: {error}")
    for n in sizes:
        ours_row = next((r for r in rows if r["server"] == "profreg-lsp" and r["profiles"] == n), None)
        theirs = next((r for r in rows if r["server"] == "yaml-language-server" and r["profiles"] == n), None)
        if ours_row and theirs:
            print(f"{n} profiles: edit->diagnostics p50 ratio {ours_row['edit_p50'] / theirs['edit_p50']:.3f} "
                  f"(target <= 0.1), completion p50 ratio {ours_row['completion_p50'] / theirs['completion_p50']:.3f}, "
                  f"peak memory ratio {ours_row['peak_mb'] / theirs['peak_mb']:.3f} (target <= 0.25)")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
