"""The server's end of a parse worker: a second process that parses a large document's
profile blocks from the end of a `profiles:` mapping backwards while the server parses
them from the start, until they meet (`lsp/parseworker.py` is the other end;
`IncrementalValidator` decides what to hand over).

Messages both ways are pickles, each after its length (8 bytes, big-endian), over
unbuffered pipes (so a message waiting is one `select` sees). The worker answers a job a
chunk of blocks at a time; the server takes the chunks that have arrived when it reaches
them and parses the others itself, so it never waits for the worker, and a worker that is
slow, busy or gone only saves less. Any failure (no process, a broken pipe, an answer that
does not read) ends the worker, and the server parses the blocks itself.
"""
from __future__ import annotations

import os
import pickle
import queue
import select
import subprocess
import sys
import threading
from typing import IO, Any

WORKER_MODULE = "profreg_lsp.parseworker"
_READ_ERRORS = (OSError, EOFError, ValueError, pickle.UnpicklingError, AttributeError, ImportError, TypeError)


def write_message(stream: IO[bytes], payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:  # an unbuffered pipe may take part of it
        written = stream.write(view)
        view = view[written or 0:]
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    parts, left = [], size
    while left:
        part = stream.read(left)
        if not part:
            raise EOFError
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_message(stream: IO[bytes]) -> Any:
    """The next message; EOFError at the end of the stream."""
    return pickle.loads(_read_exactly(stream, int.from_bytes(_read_exactly(stream, 8), "big")))


def waiting(stream: IO[bytes]) -> bool:
    """Whether a read of the stream would not block (a message, or its end)."""
    return bool(select.select([stream], [], [], 0)[0])


class ParseWorker:
    """One worker process; jobs are numbered, and a chunk answers one job."""

    def __init__(self) -> None:
        # the worker imports what this process imported, from where it did
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc: subprocess.Popen | None = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, bufsize=0)
        # one thread writes the messages, in order: the server never waits on the pipe
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._write, args=(self.proc.stdin, self._outbox), daemon=True).start()
        self.job = 0

    @staticmethod
    def _write(stream: IO[bytes], outbox: queue.SimpleQueue) -> None:
        while (message := outbox.get()) is not None:
            try:
                write_message(stream, message)
            except (OSError, ValueError, pickle.PicklingError):
                return  # its answers never come: the server parses those blocks itself

    @property
    def alive(self) -> bool:
        return self.proc is not None

    def send(self, job: Any) -> int | None:
        """Hand a job over (the server goes on meanwhile); its number, or None if the worker is gone."""
        if self.proc is None:
            return None
        self.job += 1
        self._outbox.put((self.job, job))
        return self.job

    def stop(self, job: int) -> None:
        """The server needs no more of a job's chunks: the worker goes on to the next job."""
        if self.proc is not None:
            self._outbox.put(("stop", job))

    def chunks(self, job: int, wait: bool = False) -> list[tuple[int, int, Any]]:
        """The chunks of a job that have arrived (`wait`: at least one message read):
        (first index, count, answer); a count of -1 says the job's last chunk is out."""
        proc = self.proc
        out: list[tuple[int, int, Any]] = []
        if proc is None or proc.stdout is None:
            return out
        try:
            while wait or waiting(proc.stdout):
                wait = False
                number, first, count, answer = read_message(proc.stdout)
                if number == job:
                    out.append((first, count, answer))
        except _READ_ERRORS:
            self.close()
        return out

    def close(self) -> None:
        """End the worker, in the middle of a chunk nobody will read if need be."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        self._outbox.put(None)
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
