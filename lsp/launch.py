"""The language server's entry and its one option parser: `profreg-lsp`,
`python -m profreg_lsp` and `profreg lsp` (which `profreg.cli` hands here) all parse here.

This module imports nothing heavy itself. `main`, the process entry point, trims what the
server process loads before pygls is imported (see `_keep_tls_out`) and after (see
`_shrink_generated_globals` and `_drop_generated_sources`): a language server lives as long
as the editor, so its resident size matters more than a CLI's. Those trims change the whole
process, so only `main` makes them; `serve` and `run` (what a host process or the Click group calls) leave it as it is.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import linecache
import sys
import types


def _keep_tls_out() -> None:
    """Keep asyncio from loading OpenSSL in a process that never uses TLS.

    The server talks over stdio or a plain TCP socket. asyncio imports `ssl` only if it
    can and works without it; a `None` entry in `sys.modules` makes that import fail
    cleanly. Nothing is changed if `ssl` is already loaded (a host process that needs it).
    """
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]


def _drop_generated_sources() -> None:
    """Forget the source text attrs keeps for every method it generates.

    lsprotocol defines some 550 attrs classes; attrs stores each generated
    `__init__`/`__eq__`/... source in `linecache` so a debugger can show it (cattrs does the
    same for the few converters made at import). The server never reads it, and a
    traceback through such a method only loses its source line.
    """
    for name in [name for name in linecache.cache if name.startswith(("<attrs generated", "<cattrs generated"))]:
        del linecache.cache[name]
    gc.collect()


def _names_used(code: types.CodeType) -> set[str]:
    """The names a code object (and the code nested in it) may look up as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def _shrink_generated_globals() -> None:
    """Give the methods attrs generates for lsprotocol's classes globals of their own size.

    attrs evaluates each class's generated `__init__` (and the rest) in a copy of the whole
    defining module's namespace, so each of lsprotocol's some 550 classes keeps a dict of
    every name lsprotocol.types had defined by then. Each method is made again over a dict
    of only the names its code looks up (same code, defaults, closure and attributes), and
    the copies go with the old methods.
    """
    lsp_types = sys.modules.get("lsprotocol.types")
    if lsp_types is None:
        return
    module_names = vars(lsp_types)
    for cls in list(module_names.values()):
        if not isinstance(cls, type) or cls.__module__ != lsp_types.__name__ or "__attrs_attrs__" not in vars(cls):
            continue
        shrunk: dict[int, dict] = {}  # the copy -> its small replacement (methods of a class share one)
        for name, method in list(vars(cls).items()):
            if not isinstance(method, types.FunctionType) or not method.__code__.co_filename.startswith("<attrs"):
                continue
            copied = method.__globals__
            if copied is module_names:
                continue
            small = shrunk.setdefault(id(copied), {"__builtins__": copied.get("__builtins__", __builtins__)})
            small.update((n, copied[n]) for n in _names_used(method.__code__) if n in copied)
            remade = types.FunctionType(method.__code__, small, method.__name__, method.__defaults__,
                                        method.__closure__)
            remade.__kwdefaults__ = method.__kwdefaults__
            remade.__dict__.update(method.__dict__)
            for attribute in ("__qualname__", "__module__", "__doc__", "__annotations__"):
                setattr(remade, attribute, getattr(method, attribute))
            setattr(cls, name, remade)


def _return_freed_heap() -> None:
    """Hand the heap pages freed by the trims above back to the system (glibc's `malloc_trim`).

    They lie between objects that stay, so the allocator cannot shrink the heap by itself,
    and resident size counts them until something reuses them. Nothing happens where the C
    library has no such call (musl, macOS, Windows).
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)


def serve(tcp: tuple[str, int] | None = None, log_level: str = "WARNING", owns_process: bool = False) -> None:
    """Run the server on stdio (default) or TCP until the client disconnects.

    `owns_process`: the process is the server's own (`main`), so the server may change
    process-wide state too (see `create_server`)."""
    from .server import create_server

    logging.basicConfig(stream=sys.stderr, level=log_level, format="profreg-lsp %(levelname)s %(name)s: %(message)s")
    server = create_server(owns_process=owns_process)
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        server.start_io()


def host_port(value: str) -> tuple[str, int]:
    """`HOST:PORT` (HOST defaults to 127.0.0.1) for `--tcp`."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


class _OneLineErrors(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit 2, and help laid out like the other
    profreg commands' (Click's)."""

    def format_help(self) -> str:
        rows = []
        for action in self._actions:
            names = ", ".join(action.option_strings)
            if action.metavar:
                names += f" {action.metavar}"
            elif action.choices:
                names += f" [{'|'.join(action.choices)}]"
            rows.append((names, action.help or ""))
        width = max(len(names) for names, _help in rows)
        options = [f"  {names.ljust(width)}  {text}".rstrip() for names, text in rows]
        return "\n".join([f"Usage: {self.prog} [OPTIONS]", "", f"  {self.description}", "", "Options:", *options]) + "\n"

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\n")
        sys.exit(2)


def main(argv: list[str] | None = None, prog: str = "profreg-lsp") -> None:
    """The server process: `profreg-lsp`, `python -m profreg_lsp` and `profreg lsp` start here.

    The process-wide trims happen here and nowhere else: this is only ever the process's
    own entry point (console scripts and `-m`), never a call inside another program.
    """
    _keep_tls_out()
    from . import server  # noqa: F401 - loaded now, so the sources it generates can go

    _shrink_generated_globals()
    _drop_generated_sources()
    _return_freed_heap()
    run(argv, prog, owns_process=True)


def run(argv: list[str] | None = None, prog: str = "profreg-lsp", owns_process: bool = False) -> None:
    """`profreg-lsp [--stdio] [--tcp HOST:PORT] [--log-level LEVEL]` (also `profreg lsp ...`)."""
    parser = _OneLineErrors(prog=prog, description="The profreg language server.")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("--tcp", type=host_port, metavar="HOST:PORT", help="listen on a TCP address instead")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="what the server logs to stderr (default: WARNING)")
    args = parser.parse_args(argv)
    if args.stdio and args.tcp:
        parser.error("--stdio and --tcp exclude each other")
    serve(args.tcp, args.log_level, owns_process)
