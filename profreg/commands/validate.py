"""`profreg validate`: both validation layers on files, directories or a store.

What a directory argument checks
--------------------------------
Every `*.yaml` / `*.yml` file below it, recursively, that *looks like a registry*
(`profreg.engine.detection.looks_like_registry`, the same test the language server uses):
its root mapping has a `registries`, `slug`, `profiles` or `default_profile_slug` key,
or it has the legacy shape (not a Compose or workflow file), or its first line is a `# profreg` / `$schema=...profile-registry`
modeline; a file that does not parse is judged by the top-level keys a line scan finds.
A file whose name marks it as a registry (`*profiles*`, `*registry*`, `*registries*`, the
editors' and the pre-commit hook's patterns) is checked whatever it holds: a file that does
not parse, is empty or binary is reported, not skipped. Other YAML (CI workflows, compose
files, empty files) is skipped silently. Hidden
directories (`.git`, `.github`, ...) and `node_modules` are not entered; symlinked
directories are not followed (no cycles). Files are visited in sorted order and reported
with their path joined to the directory as given.

A file named on the command line is always validated, whatever its name or content.
`-` reads one document from standard input (reported as `<stdin>`). Only regular files are
read from a folder walk (a FIFO, device or socket named `*.yaml`, or a symlink to one, is
reported as unreadable); a path named on the command line may also be a pipe. Every input
is read in chunks against the size limit (`profreg.inputfiles`).

Exit codes: 0 every document valid (warnings allowed), 1 one is invalid, 2 usage error
or a path that is missing (before anything runs) or unreadable (named on stderr; the other
paths are still checked and reported first). Nothing checked at all is a warning on stderr.

`--store` counts registries: each SQLite registry is one entry; a YAML store is its file,
validated as a document, and counted by the registries it holds.
"""
from __future__ import annotations

import os
import sys
from typing import Iterator

import click

from ..inputfiles import read_input, read_stream
from ..limits import current_limits
from ..reporters import FORMATS

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset(("node_modules",))
STDIN_PATH = "-"


def _walk_yaml_files(directory: str, unreadable: list[str]) -> Iterator[str]:
    """YAML files below `directory`, sorted, skipping hidden dirs and node_modules; folders
    that cannot be listed go to `unreadable`."""

    def note(exc: OSError) -> None:
        unreadable.append(f"{exc.filename} ({exc.strerror or exc})")

    for root, dirs, files in os.walk(directory, onerror=note):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                yield os.path.join(root, name)


@click.command("validate")
# readable=False: an unreadable file is reported after the others, not refused up front
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True, readable=False))
@click.option("--store", "store_spec", metavar="SPEC", help="Validate every registry in a store (else PROFREG_STORE when no PATH is given).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
def validate_command(paths: tuple[str, ...], store_spec: str | None, fmt: str) -> None:
    """Check registry YAML files, directories of them, or a store: schema and invariants.

    Prints `path:line:col: severity[code] field: message` per problem and a summary line
    (text), one JSON object (json), or GitHub Actions annotations (github).
    """
    # Acyclic data, freed by reference counting as each document is done: the cyclic
    # collector would only rescan every fresh object (a third of the run time on a
    # 10,000-profile file). Restored afterwards for in-process callers (tests).
    from ..engine.gcpause import collector_paused
    from ._common import root_store_spec

    with collector_paused():
        _validate(paths, store_spec or root_store_spec(), fmt)


def _validate(paths: tuple[str, ...], store_spec: str | None, fmt: str) -> None:
    from ..errors import UsageError
    from ..reporters import CheckedFile, render

    if not paths and not store_spec:
        store_spec = os.environ.get("PROFREG_STORE") or None
        if not store_spec:
            raise UsageError("validate: give one or more files or directories, or --store SPEC")
    for path in paths:
        if path != STDIN_PATH and not os.path.exists(path):
            raise UsageError(f"validate: no such file or directory: {path}")

    checked: list[CheckedFile] = []
    unreadable: list[str] = []
    for path in paths:
        if path == STDIN_PATH:
            checked.append(CheckedFile("<stdin>", _validate_bytes(read_stream(sys.stdin.buffer, _max_bytes()))))
        elif os.path.isdir(path):
            for file_path in _walk_yaml_files(path, unreadable):
                result = _check_found_file(file_path, unreadable)
                if result is not None:
                    checked.append(result)
        else:
            raw = _read(path, unreadable)
            if raw is not None:
                checked.append(CheckedFile(path, _validate_bytes(raw)))
    if store_spec:
        checked.extend(_check_store(store_spec))

    out = render(checked, fmt)
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if not checked and not unreadable:
        where = f" in {', '.join(paths)}" if paths else ""
        click.echo(f"profreg: warning: 0 files checked: no registry files found{where}", err=True)
    if unreadable:
        raise UsageError(f"validate: cannot read {', '.join(unreadable)}")
    if any(not f.valid for f in checked):
        sys.exit(1)


def _max_bytes() -> int:
    return current_limits().max_bytes


def _read(path: str, unreadable: list[str], *, regular_only: bool = False) -> bytes | None:
    try:
        return read_input(path, _max_bytes(), regular_only=regular_only)
    except OSError as exc:
        unreadable.append(f"{path} ({exc.strerror or exc})")
        return None


def _validate_bytes(raw: bytes):
    from ..engine import validate_text

    return validate_text(raw).diagnostics


def _check_found_file(path: str, unreadable: list[str]):
    """Validate a file found in a directory, or None when it is not a registry file."""
    from ..reporters import CheckedFile
    from ..engine import parse, validate_parsed
    from ..engine.detection import looks_like_registry, named_like_registry

    raw = _read(path, unreadable, regular_only=True)
    if raw is None:
        return None
    parsed = parse(raw)
    if named_like_registry(path):
        pass  # checked whatever it holds, like the editors and the pre-commit hook do
    elif not parsed.text and parsed.fatal:
        # not UTF-8 or over the size limit: judge by a lenient decode of its start
        from ..engine import ParsedYaml

        probe = ParsedYaml(text=raw[: 1 << 20].decode("utf-8", errors="replace"), fatal=True)
        if not looks_like_registry(probe):
            return None
    elif not looks_like_registry(parsed):
        return None
    return CheckedFile(path, validate_parsed(parsed).diagnostics)


def _check_store(spec: str) -> list:
    """Every registry in a store, each validated as the stores do (`validate_registry`).

    A YAML store *is* its file, so it is validated as a document (with exact ranges);
    a missing file is a usage error. For SQLite each registry is reported as
    `SPEC[slug]`; a registry the store cannot read (bad JSON, slug mismatch, invalid
    payload) is one `store-corrupt` error naming why.
    """
    from ..engine import Diagnostic
    from ..errors import UsageError
    from ..reporters import CheckedFile, registries_in
    from ..stores import open_store, store_kind
    from ..engine import validate_registry, validate_text

    kind, path = store_kind(spec)
    if kind == "yaml":
        if not os.path.exists(path):
            raise UsageError(f"validate: no such store file: {path}")
        try:
            raw = read_input(path, _max_bytes(), regular_only=True)
        except OSError as exc:
            raise UsageError(f"validate: cannot read store file {path}: {exc.strerror or exc}") from None
        report = validate_text(raw)
        return [CheckedFile(path, report.diagnostics, registries=registries_in(report))]
    store = open_store(spec, must_exist=True)
    try:
        checked = {
            reg["slug"]: CheckedFile(f"{spec}[{reg['slug']}]", validate_registry(reg), registries=(reg["slug"],))
            for reg in store.list_registries()
        }
        for slug, reason in store.corrupt_registries():
            corrupt = Diagnostic("error", "store-corrupt", reason, field="registry")
            checked[slug] = CheckedFile(f"{spec}[{slug}]", [corrupt], registries=(slug,))
    finally:
        store.close()
    return [checked[slug] for slug in sorted(checked)]
