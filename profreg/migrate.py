"""`profreg migrate`: copy every registry from one store to another, metadata and all.

Sources and targets: a registry YAML file (bundle, single or legacy form as a source; bundle
form as a target), a SQLite store or a PostgreSQL store. Between SQLite and PostgreSQL (either
way, or within one kind) the history (`profile_registry_versions`) is copied along; from a
YAML file, each registry's history starts with the state copied.

- Registries are copied raw: versions, timestamps, authors and sources stay as they are
  (the versioning write path would bump them). Everything goes through the store contract:
  the source's `export()`, the target's `import_registries(replace=True)`, which writes them
  in one transaction (SQL) or the YAML file once, under the YAML store's lock.
- A legacy source converts with `profreg.legacy` to one registry, named by `--registry`
  (default `default`). For other sources `--registry R` copies only registry R.
- Every registry is validated before anything is written; a target that already holds
  data is refused (UsageError, exit 2) unless `force`, which replaces its content (corrupt
  SQLite rows included).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import NotFoundError, StoreError, UsageError, ValidationError
from .inputfiles import check_regular_file
from .legacy import DEFAULT_REGISTRY_SLUG
from .engine import validate_registry
from .engine import errors_only, first_error_line
from .secrets import mask_secrets
from .stores import open_store, store_kind
from .stores.contract import Export
from .stores.pgspec import redacted
from .yamldump import bundle_document, dump_yaml


@dataclass
class MigrationPlan:
    """What a migration reads and would write."""

    source: str
    dest: str
    dest_kind: str  # "yaml" | "sqlite" | "postgres"
    source_form: str  # "bundle" | "single" | "legacy" | "sqlite" | "postgres" | "empty"
    registries: list[dict[str, Any]]
    # The source's history rows (SQL stores), oldest first; None for a YAML source.
    history: list[dict[str, Any]] | None = None
    # YAML -> YAML in the same form: the text to write, the source's own (comments, layout
    # and key order kept); None: the registries are rendered anew.
    kept_text: bytes | None = None
    # The source had comments that the rendered file will not carry (form changed).
    drops_comments: bool = False

    @property
    def profile_count(self) -> int:
        return sum(len(r.get("profiles") or {}) for r in self.registries)

    def summary(self) -> str:
        n = len(self.registries)
        return (f"{n} registr{'y' if n == 1 else 'ies'} ({self.profile_count} profiles) "
                f"from {self.source} to {self.dest}")

    def rendered(self, *, masked: bool = False) -> str:
        """The YAML file that would be written, or for SQLite the registries as JSON;
        `masked`: secret-looking values shown as `***` (what `--dry-run` prints)."""
        document = bundle_document(mask_secrets(self.registries) if masked else self.registries)
        if self.dest_kind == "yaml":
            return dump_yaml(document)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _kind_and_path(spec: str, role: str) -> tuple[str, str]:
    """(kind, path); for PostgreSQL the "path" is the URL without its password (what
    messages show)."""
    kind, path = store_kind(spec)
    if kind == "memory":
        raise UsageError(f"{role} {spec!r}: migrate works on stores (YAML, SQLite, PostgreSQL), not memory:")
    return kind, redacted(path) if kind == "postgres" else path


def _read_source(source: str, registry: str | None) -> tuple[str, Export]:
    """(form, the source's export): `registry` only, or for a legacy file the slug it becomes."""
    kind, path = _kind_and_path(source, "source")
    if kind != "postgres":  # a file (a PostgreSQL store is a server)
        if not os.path.exists(path):
            raise UsageError(f"source {path} does not exist")
        if kind != "yaml" and not os.path.isfile(path):
            raise UsageError(f"source {path} is not a regular file")
        _check_readable(path, "source")
    with open_store(source, must_exist=kind != "postgres", legacy_registry=registry or DEFAULT_REGISTRY_SLUG) as store:
        corrupt = store.corrupt_registries()
        if corrupt:
            names = ", ".join(slug for slug, _reason in corrupt)
            raise StoreError(f"source {path} has corrupt registries ({names}); nothing migrated")
        try:
            exported = store.export(registry)
        except NotFoundError:
            names = ", ".join(store.registry_slugs())
            found = NotFoundError("registry", registry)
            raise found.explained_by(f"{source} holds {names}" if names else f"{source} holds no registries") from None
    return exported.form or kind, exported


def _check_readable(path: str, role: str) -> None:
    """A store file must be a regular file we may read: a usage error (exit 2) otherwise."""
    try:
        check_regular_file(path)
    except OSError as exc:
        raise UsageError(f"{role} {path}: {exc.strerror or exc}") from None


def _check_valid(registries: list[dict[str, Any]], source: str) -> None:
    for registry in registries:
        errors = errors_only(validate_registry(registry))
        if errors:
            raise ValidationError(
                first_error_line(errors, prefix=source, what=f"registry {registry['slug']!r}", more=""), errors
            )


def dest_holds_data(dest: str) -> bool:
    """Whether the target already holds something a migration would overwrite."""
    kind, path = _kind_and_path(dest, "destination")
    if kind != "postgres":
        target = Path(path)
        if not target.exists():
            return False
        if target.is_dir():
            raise UsageError(f"destination {path} is a directory")
        if kind == "yaml":
            _check_readable(path, "destination")  # never a device or FIFO
        elif target.stat().st_size == 0:
            return False
    try:
        with open_store(dest, must_exist=kind != "postgres", lazy=True) as store:
            return store.holds_data()
    except StoreError:
        if kind == "postgres":
            raise  # a server that cannot be reached: say why, whatever --force says
        return True  # not a store we can read: overwriting it needs --force all the same


def plan(source: str, dest: str, registry: str | None = None) -> MigrationPlan:
    src_kind, src_path = _kind_and_path(source, "source")
    dest_kind, dest_path = _kind_and_path(dest, "destination")
    if (src_path == dest_path if "postgres" in (src_kind, dest_kind)
            else os.path.realpath(src_path) == os.path.realpath(dest_path)):
        raise UsageError("source and destination are the same store")
    form, exported = _read_source(source, registry)
    if form == "legacy":
        # The other forms were validated as they were read (the YAML document by the engine,
        # SQL rows by the store's decoding); a legacy file's conversion was not.
        _check_valid(exported.registries, src_path)
    migration = MigrationPlan(source=src_path, dest=dest_path, dest_kind=dest_kind, source_form=form,
                              registries=exported.registries, history=exported.history)
    if dest_kind == "yaml" and exported.form is not None:
        # YAML -> YAML: the source's own text (comments, layout) where its form stays; a
        # legacy file is converted (new form): its comments are dropped, and the plan says so.
        migration.kept_text = exported.document
        migration.drops_comments = exported.document is None and exported.has_comments
    return migration


def check_dest(migration: MigrationPlan, dest: str, force: bool) -> None:
    if not force and dest_holds_data(dest):
        raise _not_empty(migration)


def _not_empty(migration: MigrationPlan) -> UsageError:
    return UsageError(f"destination {migration.dest} is not empty; use --force to replace its content")


@dataclass(frozen=True)
class LockWait:
    """How a write waits for another writer's lock: up to `timeout` seconds (None: the
    store's default), calling `on_wait` once after about a second."""

    timeout: float | None = None
    on_wait: Callable[[], None] | None = None


def write(migration: MigrationPlan, dest: str, *, force: bool = False, lock: LockWait = LockWait()) -> None:
    """Write the plan's registries to the target, replacing what it held; unless `force`,
    a target that holds data is refused (checked first, and again under the target's write
    lock, so the check cannot go stale)."""
    check_dest(migration, dest, force)
    with open_store(dest, lazy=True) as store:  # the first write creates it (and its folders)
        store.lock_timeout, store.on_lock_wait = lock.timeout, lock.on_wait

        def still_empty() -> None:
            if not force and store.holds_data():
                raise _not_empty(migration)

        # What the target held before, corrupt rows included, is gone; the source's history
        # comes along (a target's own history rows are never removed).
        store.import_registries(migration.registries, replace=True, history=migration.history,
                                document=migration.kept_text, check=still_empty)


def migrate(source: str, dest: str, *, registry: str | None = None, dry_run: bool = False,
            force: bool = False, lock: LockWait = LockWait()) -> MigrationPlan:
    """Plan, check the target, and (unless `dry_run`) write. Returns the plan."""
    migration = plan(source, dest, registry)
    if dry_run:
        check_dest(migration, dest, force)
    else:
        write(migration, dest, force=force, lock=lock)
    return migration
