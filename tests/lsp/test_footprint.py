"""What the server process leaves out of memory, and that it works the same without it.

`profreg_lsp.launch` keeps OpenSSL out, gives attrs' generated methods globals of their own
size and drops their sources, `profreg lsp` starts it without Click (`profreg.cli`), and
schema errors are explained from jsonschema-rs's own, without loading `jsonschema`. Each run
below reports the server's own module table when it exits, and its diagnostics must equal
the engine's.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lsp_helpers import expected_for, published_as_dicts
from tests.conftest import CONFORMANCE

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_lsp import StdioLspClient  # noqa: E402
from generate import document  # noqa: E402

REPORTING_SERVER = """
import atexit, gc, json, linecache, sys, types

REPORT = sys.argv[1]

def names_used(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= names_used(const)
    return names

def methods_with_module_copies():  # lsprotocol's generated methods holding names none of their class's use
    lsp_types = sys.modules["lsprotocol.types"]
    count = 0
    for cls in vars(lsp_types).values():
        if not isinstance(cls, type) or "__attrs_attrs__" not in vars(cls):
            continue
        methods = [m for m in vars(cls).values()
                   if isinstance(m, types.FunctionType) and m.__code__.co_filename.startswith("<attrs")]
        used = set().union(*(names_used(m.__code__) for m in methods)) | {"__builtins__"}
        count += sum(1 for m in methods if set(m.__globals__) - used)
    return count

def report():
    with open(REPORT, "w") as out:
        json.dump({
            "ssl_blocked": "ssl" in sys.modules and sys.modules["ssl"] is None,
            "jsonschema_rs": "jsonschema_rs" in sys.modules,
            "jsonschema": "jsonschema" in sys.modules,
            "click": "click" in sys.modules,
            "lsprotocol_sources": sum(1 for name in linecache.cache
                                      if name.startswith("<attrs generated") and " lsprotocol." in name),
            "lsprotocol_module_copies": methods_with_module_copies(),
            "opened_document_out_of_scans": gc.get_freeze_count() > 0,
        }, out)

atexit.register(report)
if sys.argv[2] == "profreg":  # `profreg lsp`, as the editors start it (the console script's code)
    from profreg.cli import main
    sys.argv = ["profreg", "lsp", *sys.argv[3:]]
    main()
else:  # `profreg-lsp`
    from profreg_lsp.launch import main
    main(sys.argv[3:])
"""


def _run_server_on(tmp_path: Path, text: str, entry: str = "profreg-lsp") -> tuple[list[dict], dict]:
    script = tmp_path / "reporting_server.py"
    script.write_text(REPORTING_SERVER)
    report = tmp_path / "modules.json"
    client = StdioLspClient([sys.executable, str(script), str(report), entry, "--stdio"])
    try:
        client.initialize(tmp_path.as_uri(), {"debounce_ms": 0})
        uri = (tmp_path / "registry.yaml").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": text}})
        _, diagnostics = client.wait_diagnostics(uri, 0, version=1)
    finally:
        client.close()
    assert client.proc.returncode == 0
    return diagnostics, json.loads(report.read_text())


@pytest.mark.parametrize("entry", ["profreg", "profreg-lsp"])
def test_the_server_runs_without_openssl_lsprotocol_sources_or_click(tmp_path, entry):
    text = (CONFORMANCE / "validate" / "several-problems.yaml").read_text(encoding="utf-8")
    diagnostics, modules = _run_server_on(tmp_path, text, entry)
    assert diagnostics and published_as_dicts(diagnostics) == expected_for(text)
    assert modules == {"ssl_blocked": True, "jsonschema_rs": True, "jsonschema": False, "click": False,
                       "lsprotocol_sources": 0,
                       "lsprotocol_module_copies": 0, "opened_document_out_of_scans": True}


def test_a_large_document_gets_the_same_diagnostics(tmp_path):
    text = document(400).replace("tools: [calculator, search, shell]", "tools: [calculator, '  ']", 1)
    text = text.replace("allow_overrides: true", "allow_overrides: yes-please", 1)
    diagnostics, modules = _run_server_on(tmp_path, text)
    assert diagnostics and published_as_dicts(diagnostics) == expected_for(text)
    assert modules["jsonschema"] is False  # jsonschema-rs explains the schema errors itself


def _lsp_message(body: dict) -> bytes:
    data = json.dumps(body).encode()
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


def test_tcp_mode_serves_without_openssl(tmp_path):
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "profreg_lsp", "--tcp", f"127.0.0.1:{port}"],
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "the TCP server did not start listening"
                time.sleep(0.1)
        with conn:
            conn.sendall(_lsp_message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                       "params": {"processId": None, "rootUri": tmp_path.as_uri(),
                                                  "capabilities": {}}}))
            received = b""
            while b'"id": 1' not in received and b'"id":1' not in received:
                chunk = conn.recv(65536)
                assert chunk, "the server closed the connection"
                received += chunk
        assert b'"hoverProvider"' in received
    finally:
        proc.kill()
        proc.wait()


HOST_PROCESS = """
import sys
from profreg_lsp import launch
entry = launch.main if sys.argv[1] == "main" else launch.run
try:
    entry(["--no-such-option"])
except SystemExit:
    pass
try:
    import ssl
    print("ssl importable", ssl.OPENSSL_VERSION_INFO is not None)
except ImportError:
    print("ssl blocked")
"""


@pytest.mark.parametrize("entry,expected", [("main", "ssl blocked"), ("run", "ssl importable True")])
def test_process_wide_trims_happen_only_in_the_process_entry_point(entry, expected):
    """`launch.main` is a process's own entry; `launch.run` (the Click group's `lsp`, a host
    program) must leave the process as it found it."""
    out = subprocess.run([sys.executable, "-c", HOST_PROCESS, entry], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_a_server_inside_another_program_leaves_its_collector_alone():
    """Only the server's own process moves an opened document out of the collector's scans
    (`gc.freeze` acts on every object of the process): a server made by `create_server`
    for a host, and the documents it keeps, do not."""
    import gc

    from profreg_lsp.diagnostics import analyse
    from profreg_lsp.documents import Document
    from profreg_lsp.server import create_server

    assert create_server().owns_process is False
    before = gc.get_freeze_count()
    analyse(Document("file:///x.yaml", document(20)))
    assert gc.get_freeze_count() == before
