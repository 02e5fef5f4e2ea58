"""The language server in a subprocess, spoken to over stdio by bench/bench_lsp.py's client.

For tests that send what pytest-lsp would not (raw frames, garbage, random edit sequences).
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_lsp import StdioLspClient  # noqa: E402

SERVER = [sys.executable, "-m", "profreg_lsp"]


@contextlib.contextmanager
def initialized_server(root: Path) -> Iterator[StdioLspClient]:
    """A server initialised on the workspace `root` (no typing debounce), `client.root` set;
    on leaving, it is shut down and must have exited cleanly."""
    client = StdioLspClient(SERVER)
    client.initialize(root.as_uri(), {"debounce_ms": 0})
    client.root = root
    yield client
    client.close()
    assert client.proc.returncode == 0
