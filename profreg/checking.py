"""What `profreg validate` checks: files, the registry files found in folders, stores.

A file named on the command line is always validated; in a folder, the YAML files named
like registries or that look like them (`profreg.engine.detection`, the language server's
test) are. `profreg.commands.validate` has the rules as a user reads them.
"""
from __future__ import annotations

import os
import sys
from typing import Iterator

from .engine import ParsedYaml, parse, validate_parsed, validate_text
from .engine.detection import looks_like_registry, named_like_registry
from .errors import UsageError
from .inputfiles import check_regular_file, read_input, read_stream
from .limits import current_limits
from .reporters import CheckedFile
from .stores import YAML_SUFFIXES, open_store, store_kind

SKIPPED_DIRS = frozenset(("node_modules",))
STDIN_PATH = "-"


def check(paths: tuple[str, ...], store_spec: str | None) -> tuple[list[CheckedFile], list[str]]:
    """(checked documents in order, `path (reason)` of each input that could not be read)."""
    checked: list[CheckedFile] = []
    unreadable: list[str] = []
    for path in paths:
        if path == STDIN_PATH:
            raw = read_stream(sys.stdin.buffer, _max_bytes())
            checked.append(CheckedFile("<stdin>", validate_text(raw).diagnostics))
        elif os.path.isdir(path):
            for file_path in walk_yaml_files(path, unreadable):
                result = _check_found_file(file_path, unreadable)
                if result is not None:
                    checked.append(result)
        else:
            raw = _read(path, unreadable)
            if raw is not None:
                checked.append(CheckedFile(path, validate_text(raw).diagnostics))
    if store_spec:
        checked.extend(_check_store(store_spec))
    return checked, unreadable


def walk_yaml_files(directory: str, unreadable: list[str]) -> Iterator[str]:
    """YAML files below `directory`, sorted, skipping hidden dirs and node_modules; folders
    that cannot be listed go to `unreadable`."""

    def note(exc: OSError) -> None:
        unreadable.append(f"{exc.filename} ({exc.strerror or exc})")

    for root, dirs, files in os.walk(directory, onerror=note):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                yield os.path.join(root, name)


def _max_bytes() -> int:
    return current_limits().max_bytes


def _read(path: str, unreadable: list[str], *, regular_only: bool = False) -> bytes | None:
    try:
        return read_input(path, _max_bytes(), regular_only=regular_only)
    except OSError as exc:
        unreadable.append(f"{path} ({exc.strerror or exc})")
        return None


def _check_found_file(path: str, unreadable: list[str]) -> CheckedFile | None:
    """Validate a file found in a directory, or None when it is not a registry file."""
    raw = _read(path, unreadable, regular_only=True)
    if raw is None:
        return None
    parsed = parse(raw)
    if named_like_registry(path):
        pass  # checked whatever it holds, like the editors and the pre-commit hook do
    elif not parsed.text and parsed.fatal:
        # not UTF-8 or over the size limit: judge by a lenient decode of its start
        probe = ParsedYaml(text=raw[: 1 << 20].decode("utf-8", errors="replace"), fatal=True)
        if not looks_like_registry(probe):
            return None
    elif not looks_like_registry(parsed):
        return None
    return CheckedFile(path, validate_parsed(parsed).diagnostics)


def _check_store(spec: str) -> list[CheckedFile]:
    """Every registry in a store, each validated as the stores do (`Store.check`).

    A YAML store *is* its file, so it is validated as a document (with exact ranges) and
    reported under its path, even when it does not read (the store is opened lazily); a
    missing file is a usage error. Other stores report each registry as `SPEC[slug]`; a
    registry the store cannot read (bad JSON, slug mismatch, invalid payload) is one
    `store-corrupt` error naming why.
    """
    kind, path = store_kind(spec)
    if kind != "postgres":
        if not os.path.exists(path):
            raise UsageError(f"validate: no such store file: {path}")
        try:
            check_regular_file(path)
        except OSError as exc:
            raise UsageError(f"validate: cannot read store file {path}: {exc.strerror or exc}") from None
    with open_store(spec, must_exist=True, lazy=True) as store:
        label = store.name if kind == "postgres" else spec  # a URL is shown without its password
        return [CheckedFile(path if entry.slug is None else f"{label}[{entry.slug}]", entry.diagnostics,
                            registries=entry.registries) for entry in store.check()]
