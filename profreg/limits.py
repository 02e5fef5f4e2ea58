"""Resource bounds for hostile input (SPEC sections 2 and 10), one place for all of them.

Every input path — `validate` files, folders and stdin, store files, SQLite payloads,
`--from-file`/`--overrides`/`--base`, `--set` values, the language server's documents — is
held to these before it is read or built. The defaults take documents of 100,000 profiles
nesting a hundred levels deep; each bound is configurable by an environment variable
(`ENV_VARS`, listed in the README). A value that is not a positive integer is ignored.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """Bounds on one document (or one stored payload)."""

    max_bytes: int = 256 * 1024 * 1024  # size of the input, read in chunks against it
    max_depth: int = 256  # nesting of mappings and lists
    max_alias_expansion: int = 1_000_000  # nodes aliases may add on top of the document's own
    # Nodes (scalars, mappings, lists, keys included) a document may hold: room for a
    # generated 100,000-profile registry (bench/generate.py), with each node's memory
    # while a document is read bounding the whole.
    max_nodes: int = 8_000_000
    max_diagnostics: int = 1_000  # per document; the rest are summarised in one more
    max_message_chars: int = 500  # one diagnostic or error message


ENV_VARS = {
    "max_bytes": "PROFREG_MAX_BYTES",
    "max_depth": "PROFREG_MAX_DEPTH",
    "max_nodes": "PROFREG_MAX_NODES",
    "max_alias_expansion": "PROFREG_MAX_ALIAS_EXPANSION",
    "max_diagnostics": "PROFREG_MAX_DIAGNOSTICS",
    "max_message_chars": "PROFREG_MAX_MESSAGE_CHARS",
}

_MAX_SETTING_DIGITS = 18


def _setting(name: str, default: int) -> int:
    text = os.environ.get(ENV_VARS[name], "").strip()
    if text.isdigit() and len(text) <= _MAX_SETTING_DIGITS and int(text) > 0:
        return int(text)
    return default


_cache: tuple[tuple[str, ...], Limits] | None = None


def current_limits() -> Limits:
    """The limits in force: the defaults, each overridden by its environment variable."""
    global _cache
    key = tuple(os.environ.get(var, "") for var in ENV_VARS.values())
    if _cache is None or _cache[0] != key:
        defaults = Limits()
        _cache = key, Limits(**{f.name: _setting(f.name, getattr(defaults, f.name)) for f in fields(Limits)})
    return _cache[1]


def nesting_exceeds(value: object, max_depth: int, max_nodes: int) -> str | None:
    """Why decoded JSON data is over the nesting or node bounds, or None (iterative: any depth)."""
    stack = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return f"it holds more than {max_nodes} values (the node limit)"
        if isinstance(item, dict):
            if depth > max_depth:
                return f"it nests deeper than the limit of {max_depth} levels"
            stack.extend((child, depth + 1) for child in item.values())
            nodes += len(item)  # the keys
        elif isinstance(item, list):
            if depth > max_depth:
                return f"it nests deeper than the limit of {max_depth} levels"
            stack.extend((child, depth + 1) for child in item)
    return None
