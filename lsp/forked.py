"""Work shared with a forked child process, whose results arrive while the parent works on.

Opening a large document is the one moment the server parses thousands of blocks at once,
and the machine may have a core to spare. A forked child starts with the parent's memory
(the document's text and its split) at no copying cost and sends back plain data
(`marshal`), a message at a time; the parent takes what has arrived whenever it asks
(`Forked.poll`) and never waits for it. Anything that goes wrong in the child (an error,
a crash, a message that does not decode) ends its messages; what it did not send, the
parent does itself, so a result is never lost, only not sped up. Only where `os.fork` is
safe to use here (Linux) and another core looks idle (`spare_core`); `PROFREG_LSP_FORK`
set to `never` or `always` overrides that judgement.
"""
from __future__ import annotations

import fcntl
import marshal
import os
import select
import signal
import struct
import sys
import warnings
from typing import Any, Callable

AVAILABLE = sys.platform.startswith("linux") and hasattr(os, "fork")
MODE_ENV = "PROFREG_LSP_FORK"  # auto (the default): where a core looks idle; never; always


def wanted() -> bool:
    """Whether to share work with a child now (`PROFREG_LSP_FORK`, else `auto`)."""
    mode = os.environ.get(MODE_ENV, "auto").strip().lower()
    if not AVAILABLE or mode == "never":
        return False
    return mode == "always" or spare_core()
_LENGTH = struct.Struct("<Q")  # each message: its length, then its marshal bytes


def spare_core() -> bool:
    """Whether another core is likely idle: this process may use at least two CPUs (its
    affinity and its cgroup's CPU quota) and the 1-minute load average leaves one free."""
    try:
        cpus = len(os.sched_getaffinity(0))
        quota = _cgroup_cpus()
        if quota is not None:
            cpus = min(cpus, quota)
        return cpus >= 2 and os.getloadavg()[0] < cpus - 0.5
    except (AttributeError, OSError):
        return False


def _cgroup_cpus() -> int | None:
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) // max(1, int(period))


class Forked:
    """A running child; `poll()` gives the messages it has sent so far."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.ended = False  # no more messages will come
        self.peak_kb = 0  # the child's peak resident memory, once it is reaped
        self._buffer = bytearray()

    def poll(self) -> list[Any]:
        """The messages that arrived since the last call, without waiting."""
        if self.ended:
            return []
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                self.close()
                break
            self._buffer += chunk
        out, buffer, at = [], self._buffer, 0
        while len(buffer) - at >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer, at)
            if len(buffer) - at - _LENGTH.size < length:
                break
            start = at + _LENGTH.size
            try:
                out.append(marshal.loads(bytes(buffer[start:start + length])))
            except (EOFError, ValueError, TypeError):
                self.close()
                return out
            at = start + length
        del buffer[:at]
        return out

    def close(self) -> None:
        """Stop the child (if it still runs) and reap it; later polls give nothing."""
        if self.fd < 0:
            return
        self.ended = True
        os.close(self.fd)
        self.fd = -1
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            _pid, _status, usage = os.wait4(self.pid, 0)
            self.peak_kb = usage.ru_maxrss
        except ChildProcessError:
            pass


def start(work: Callable[[Callable[[Any], None]], None]) -> Forked | None:
    """Fork a child that runs `work(send)`, each `send(value)` a message (marshal-able) to
    the parent; None if no child could be started."""
    if not AVAILABLE:
        return None
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        fcntl.fcntl(read_fd, fcntl.F_SETFL, fcntl.fcntl(read_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        try:
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # room for messages while the parent works
        except OSError:
            pass
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process with threads: the child here only
            # computes and writes to its pipe, taking no lock another thread may hold.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_fd)

            def send(value: Any) -> None:
                body = marshal.dumps(value)
                payload = memoryview(_LENGTH.pack(len(body)) + body)
                while payload:
                    payload = payload[os.write(write_fd, payload):]

            work(send)
            code = 0
        except BaseException:  # noqa: BLE001 - whatever happened, the parent does the rest itself
            pass
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_fd)
    return Forked(pid, read_fd)
