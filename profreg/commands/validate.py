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

import click

from . import root_store_spec
from ..errors import UsageError
from ..reporters import FORMATS, render


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
    # The engine and the stores load when the command runs, not when `--help` lists the
    # commands (a test holds the command module to that).
    from ..checking import STDIN_PATH, check

    store_spec = store_spec or root_store_spec()
    if not paths and not store_spec:
        store_spec = os.environ.get("PROFREG_STORE") or None
        if not store_spec:
            raise UsageError("validate: give one or more files or directories, or --store SPEC")
    for path in paths:
        if path != STDIN_PATH and not os.path.exists(path):
            raise UsageError(f"validate: no such file or directory: {path}")

    checked, unreadable = check(paths, store_spec)
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
