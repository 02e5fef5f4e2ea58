"""`profreg migrate`: copy every registry from one store to another, metadata and all.

Sources and targets: a registry YAML file (bundle, single or legacy form as a source; bundle
form as a target), a SQLite store or a PostgreSQL store. Between SQLite and PostgreSQL (either
way, or within one kind) the history (`profile_registry_versions`) is copied along; from a
YAML file, each registry's history starts with the state copied.

- Registries are copied raw: versions, timestamps, authors and sources stay as they are
  (the versioning write path would bump them). The SQLite target is written through the
  store's `import_registries`, in one transaction (one fsync, not one per registry); the
  YAML target is rendered in one go and replaced atomically under the YAML store's lock
  (importing registry by registry would rewrite the file once per registry).
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
from .inputfiles import read_input
from .limits import current_limits
from .legacy import DEFAULT_REGISTRY_SLUG
from .engine import validate_registry
from .engine.report import errors_only
from .secrets import mask_secrets
from .stores import open_store, store_kind
from .stores.paths import create_parent_folders
from .stores.pgspec import redacted
from .stores.yamlfile.files import file_lock, write_atomic
from .stores.yamlfile.store import parse_store_text
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

    def output(self) -> bytes:
        """The bytes a YAML destination gets."""
        return self.kept_text if self.kept_text is not None else self.rendered().encode("utf-8")


def _kind_and_path(spec: str, role: str) -> tuple[str, str]:
    """(kind, path); for PostgreSQL the "path" is the URL without its password (what
    messages show)."""
    kind, path = store_kind(spec)
    if kind == "memory":
        raise UsageError(f"{role} {spec!r}: migrate works on stores (YAML, SQLite, PostgreSQL), not memory:")
    return kind, redacted(path) if kind == "postgres" else path


def read_source(source: str, registry: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(form, registries) of the source store, each registry complete with metadata."""
    form, registries, _raw, _history = _read_source(source, registry)
    return form, registries


def _read_source(source: str, registry: str | None) -> tuple[str, list[dict[str, Any]], bytes | None, Any]:
    """(form, registries, the file's bytes for a YAML source, history rows for a SQL one)."""
    raw: bytes | None = None
    history = None
    kind, path = _kind_and_path(source, "source")
    if kind != "postgres":  # a file (a PostgreSQL store is a server)
        if not os.path.exists(path):
            raise UsageError(f"source {path} does not exist")
        if kind != "yaml" and not os.path.isfile(path):
            raise UsageError(f"source {path} is not a regular file")
    if kind == "yaml":
        try:
            raw = read_input(path, current_limits().max_bytes, regular_only=True)
        except OSError as exc:
            raise UsageError(f"source {path}: {exc.strerror or exc}") from None
        snapshot = parse_store_text(raw, path, registry or DEFAULT_REGISTRY_SLUG)
        form = snapshot.form or "empty"
        registries = list(snapshot.registries.values())
    else:
        form = kind
        with open_store(source, must_exist=kind != "postgres") as store:
            corrupt = store.corrupt_registries()
            if corrupt:
                names = ", ".join(slug for slug, _reason in corrupt)
                raise StoreError(f"source {path} has corrupt registries ({names}); nothing migrated")
            registries = store.list_registries()
            history = store.all_history()
    if registry and form != "legacy":
        kept = [r for r in registries if r["slug"] == registry]
        if not kept:
            found = NotFoundError("registry", registry)
            names = ", ".join(sorted(r["slug"] for r in registries))
            raise found.explained_by(f"{source} holds {names}" if names else f"{source} holds no registries")
        registries = kept
        history = None if history is None else [row for row in history if row["slug"] == registry]
    return form, sorted(registries, key=lambda r: r["slug"]), raw, history


def _check_valid(registries: list[dict[str, Any]], source: str) -> None:
    for registry in registries:
        errors = errors_only(validate_registry(registry))
        if errors:
            first = errors[0]
            raise ValidationError(
                f"{source}: registry {registry['slug']!r}: {first.field}: {first.message}", errors
            )


def dest_holds_data(dest: str) -> bool:
    """Whether the target already holds something a migration would overwrite."""
    kind, path = _kind_and_path(dest, "destination")
    if kind == "postgres":
        return _store_holds_data(dest)
    target = Path(path)
    if not target.exists():
        return False
    if target.is_dir():
        raise UsageError(f"destination {path} is a directory")
    if kind == "yaml":
        try:  # never a device or FIFO
            return read_input(path, current_limits().max_bytes, regular_only=True).strip() != b""
        except OSError as exc:
            raise UsageError(f"destination {path}: {exc.strerror or exc}") from None
    if target.stat().st_size == 0:
        return False
    return _store_holds_data(dest)


def _store_holds_data(dest: str) -> bool:
    try:
        with open_store(dest, must_exist=True) as store:
            return bool(store.registry_slugs())  # corrupt registries count too
    except StoreError:
        if store_kind(dest)[0] == "postgres":
            raise  # a server that cannot be reached: say why, whatever --force says
        return True  # not a store we can read: overwriting it needs --force all the same


def plan(source: str, dest: str, registry: str | None = None) -> MigrationPlan:
    src_kind, src_path = _kind_and_path(source, "source")
    dest_kind, dest_path = _kind_and_path(dest, "destination")
    if (src_path == dest_path if "postgres" in (src_kind, dest_kind)
            else os.path.realpath(src_path) == os.path.realpath(dest_path)):
        raise UsageError("source and destination are the same store")
    form, registries, raw, history = _read_source(source, registry)
    if form == "legacy":
        # The other forms were validated as they were read (the YAML document by the engine,
        # SQLite rows by the store's decoding); a legacy file's conversion was not.
        _check_valid(registries, src_path)
    migration = MigrationPlan(source=src_path, dest=dest_path, dest_kind=dest_kind, source_form=form,
                              registries=registries, history=history)
    if dest_kind == "yaml" and raw is not None:
        _keep_source_text(migration, raw, registry)
    return migration


def _keep_source_text(migration: MigrationPlan, raw: bytes, registry: str | None) -> None:
    """YAML -> YAML: keep the source's text (comments, layout) where its form stays.

    A bundle or single file copied whole is written byte for byte; one registry of a bundle
    (`--registry R`) is the bundle with the others removed by the comment-keeping editor.
    A legacy file is converted (new form): its comments are dropped, and the plan says so."""
    if migration.source_form in ("bundle", "single") and (
            registry is None or migration.source_form == "single"):
        migration.kept_text = raw
        return
    if migration.source_form == "bundle":
        from .stores.yamlfile.roundtrip import RoundTripDocument
        snapshot = parse_store_text(raw, migration.source, DEFAULT_REGISTRY_SLUG, validate=False)
        document = RoundTripDocument(snapshot.text, "bundle")
        text = snapshot.text
        for slug in snapshot.registries:
            if slug != registry:
                text = document.replace_registry(slug, None)
        migration.kept_text = ("\ufeff" if snapshot.bom else "").encode() + \
            text.replace("\n", snapshot.newline).encode("utf-8")
        return
    migration.drops_comments = _has_comments(raw)


def _has_comments(raw: bytes) -> bool:
    """Whether the YAML text has a comment (a `#` at a line start or after a space: what the
    tokenizer would call one, strings with ` #` in them aside)."""
    text = raw.decode("utf-8", "replace")
    return any(line.lstrip().startswith("#") or " #" in line for line in text.splitlines())


def check_dest(migration: MigrationPlan, dest: str, force: bool) -> None:
    if not force and dest_holds_data(dest):
        raise UsageError(f"destination {migration.dest} is not empty; use --force to replace its content")


@dataclass(frozen=True)
class LockWait:
    """How a write waits for another writer's lock: up to `timeout` seconds (None: the
    store's default), calling `on_wait` once after about a second."""

    timeout: float | None = None
    on_wait: Callable[[], None] | None = None


def write(migration: MigrationPlan, dest: str, *, force: bool = False, lock: LockWait = LockWait()) -> None:
    """Write the plan's registries to the target, replacing what it held; unless `force`,
    a target that holds data is refused (checked again here, under the target's lock for YAML)."""
    if migration.dest_kind == "yaml":
        _write_yaml(migration, dest, force, lock)
    else:
        _write_database(migration, dest, force, lock)


def _write_yaml(migration: MigrationPlan, dest: str, force: bool, lock: LockWait) -> None:
    data = migration.output()
    # The engine must read back exactly the registries being copied before the file is replaced.
    written = parse_store_text(data, migration.dest, DEFAULT_REGISTRY_SLUG)
    if sorted(written.registries.values(), key=lambda r: r["slug"]) != migration.registries:
        if migration.kept_text is None:
            raise StoreError(f"refusing to write {migration.dest}: the rendered YAML does not read back the same")
        # the kept text did not reduce to the registries asked for: render them anew instead
        migration.kept_text, migration.drops_comments = None, _has_comments(data)
        _write_yaml(migration, dest, force, lock)
        return
    # The YAML store's own lock (on the real path, as the store takes it): a store writer in
    # another process is never overwritten half-way, and the emptiness check cannot go stale.
    target = os.path.realpath(migration.dest)
    create_parent_folders(target, f"YAML store {migration.dest}")
    with file_lock(target, migration.dest, timeout=lock.timeout, on_wait=lock.on_wait):
        check_dest(migration, dest, force)
        try:
            write_atomic(target, data)
        except OSError as exc:
            raise StoreError(f"cannot write {migration.dest}: {exc.strerror or exc}") from None


def _write_database(migration: MigrationPlan, dest: str, force: bool, lock: LockWait) -> None:
    check_dest(migration, dest, force)
    with open_store(dest) as store:  # the first write creates it (and its folders)
        store.lock_timeout, store.on_lock_wait = lock.timeout, lock.on_wait
        # One transaction: every registry (or none) lands, and what the target held before,
        # corrupt rows included, is gone; the source's history comes along (a target's own
        # history rows are never removed).
        store.import_registries(migration.registries, replace=True, history=migration.history)


def migrate(source: str, dest: str, *, registry: str | None = None, dry_run: bool = False,
            force: bool = False, lock: LockWait = LockWait()) -> MigrationPlan:
    """Plan, check the target, and (unless `dry_run`) write. Returns the plan."""
    migration = plan(source, dest, registry)
    if dry_run:
        check_dest(migration, dest, force)
    else:
        write(migration, dest, force=force, lock=lock)
    return migration
