"""The YAML file store: registries in a hand-editable YAML file (bundle or single form).

- A missing file is an empty store; it is created (0o600) on the first write.
- A file that does not parse or validate makes opening fail with `file:line:col`; it is
  never overwritten. A legacy-form file is read (converted by `profreg.legacy`) but not
  written: the error points to `profreg migrate`.
- Writers in different processes serialise on `flock` of the file's folder (no lock file is
  left beside the store; `PATH.lock` only where a folder cannot be locked, e.g. NFS) and
  re-read the file when it changed since it was loaded (device, inode, size, mtime_ns), so
  neither another process's write nor a person's edit is lost. Reads re-read it too.
- Writes are durable and atomic: a temporary file in the same directory, flushed and
  fsynced, renamed over the target, then the directory fsynced. An existing file's mode is
  kept. The text is produced by `roundtrip` and `splice` (ruamel round trip, minimal diff) and checked
  with the validation engine before it replaces the file.
"""
from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ... import engine
from ...engine import first_error_line
from ...errors import NotFoundError, StoreError, UsageError
from ...inputfiles import read_input
from ...legacy import legacy_to_registry
from ...limits import current_limits
from ...yamldump import bundle_document, dump_yaml
from ..base import BaseStore
from ..contract import Change, Export, HistoryRow, Registry, StoreCheck
from .. import validcache
from ..paths import create_parent_folders
from ..writes import normalise_profile, normalise_registry
from .files import FileChanged, Signature, file_lock, signature, write_atomic

WRITE_ATTEMPTS = 5  # a file saved by someone else during each of this many writes: refused
# A lazily opened store's snapshot before its first read: no file has this signature.
UNREAD: Signature = (-1, -1, -1, -1)

if TYPE_CHECKING:
    from types import ModuleType

    from ...engine import Report
    from .roundtrip import RoundTripDocument
    from .splice import Record


def _edit_modules() -> tuple["ModuleType", "ModuleType"]:
    """(roundtrip, splice): ruamel and the node-tree splicer, loaded by processes that write only."""
    from . import roundtrip, splice

    return roundtrip, splice



class _Snapshot:
    """The file as last read: its identity, text and registries (normalised).

    Read from the compiled cache (`compiled`), the registries are decoded when first asked
    for (one profile alone through `profile()`), and the text when a write needs it."""

    def __init__(self, signature: Signature | None, *, text: str | None = "", form: str | None = None,
                 registries: dict[str, Registry] | None = None, newline: str = "\n", bom: bool = False,
                 unparsed: bytes | None = None, compiled: validcache.CompiledStore | None = None,
                 reread: Callable[[], "_Snapshot"] | None = None) -> None:
        self.signature = signature  # None: no file
        self._text = text  # None: not decoded yet (from `unparsed`)
        self.form = form  # bundle | single | legacy | None (no registry yet)
        self._registries = {} if registries is None and compiled is None else registries
        self.newline = newline
        self.bom = bom
        self.digest = b""  # SHA-256 of the file's bytes (to notice a save that keeps size and mtime)
        self.root: Any = None  # the engine's node tree (source map) of `text`
        self.data: Any = None  # the document data as the engine read it
        self.nodes: int | None = None  # the reader's node count of `text` (with `root`)
        self.limits = current_limits()  # those it was read under
        # The file's bytes when they were not parsed (their compiled form was cached): parsed
        # only if a write needs the source map.
        self.unparsed = unparsed
        self.compiled = compiled
        self._reread = reread  # the file's own reading, should the compiled form not decode
        self._views: dict[str, Registry] = {}  # registry_view of a compiled snapshot, by slug

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _line_ends(self.unparsed.decode("utf-8").removeprefix("\ufeff"))[0]
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value

    @property
    def registries(self) -> dict[str, Registry]:
        if self._registries is None:
            try:
                self._registries = {slug: normalise_registry(registry, slug)
                                    for slug, registry in self.compiled.registries().items()}
            except ValueError:
                self._registries = self._reread().registries
            self.compiled = None
        return self._registries

    @registries.setter
    def registries(self, value: dict[str, Registry]) -> None:
        self._registries, self.compiled = value, None

    def read_lazily(self, compiled: "validcache.CompiledStore | _ReadRegistries") -> None:
        """Take the registries from `compiled`, each profile when first asked for."""
        self._registries, self.compiled = None, compiled

    def registry_view(self, slug: str) -> Registry | None:
        """The registry, read-only; from the compiled form, its `profiles` a mapping that
        decodes each profile when first asked for (the same object while unchanged)."""
        if self.compiled is None:
            return self.registries.get(slug)
        view = self._views.get(slug)
        if view is None:
            shell = self.compiled.shell(slug)
            if shell is None:
                return None
            view = self._views[slug] = {**shell, "profiles": _ProfilesView(self, slug)}
        return view

    def registry_fields(self, slug: str) -> Registry | None:
        """The registry without decoding its profiles where that can be avoided."""
        if self.compiled is not None:
            return self.compiled.shell(slug)
        return self.registries.get(slug)

    def profile(self, slug: str, profile: str) -> tuple[bool, dict | None]:
        """(whether the registry exists, the profile or None), decoding that profile alone."""
        compiled = self.compiled
        if compiled is not None:
            if compiled.shell(slug) is None:
                return False, None
            if not isinstance(profile, str):
                return True, None
            try:
                found = compiled.profile(slug, profile)
            except ValueError:
                pass
            else:
                return True, None if found is None else normalise_profile(found, profile)
        registry = self.registries.get(slug)
        if registry is None:
            return False, None
        found = registry["profiles"].get(profile) if isinstance(profile, str) else None
        return True, None if found is None else copy.deepcopy(found)


class _ReadRegistries:
    """A reading's registries as the engine read them, taken the way a compiled form is
    (`validcache.CompiledStore`'s methods): a store that mostly reads (`source_map=False`)
    then normalises and copies the profiles it is asked for, not all of them when it reads."""

    def __init__(self, form: str, registries: dict[str, dict]) -> None:
        self.form = form
        self._read = registries  # slug -> the registry as read
        self._shells: dict[str, dict] = {}

    def slugs(self) -> list[str]:
        return list(self._read)

    def profile_slugs(self, slug: str) -> dict[str, Any]:
        profiles = self._read[slug].get("profiles")
        return profiles if isinstance(profiles, dict) else {}

    def shell(self, slug: str) -> dict | None:
        shell = self._shells.get(slug)
        if shell is None:
            registry = self._read.get(slug)
            if registry is None:
                return None
            shell = self._shells[slug] = {**normalise_registry({**registry, "profiles": None}, slug), "profiles": None}
        return shell

    def profile(self, slug: str, profile: str) -> dict | None:
        found = self.profile_slugs(slug).get(profile)
        return None if found is None else copy.deepcopy(found)

    def registries(self) -> dict[str, dict]:
        return {slug: {**self.shell(slug), "profiles": self.profile_slugs(slug)} for slug in self._read}


class _ProfilesView(Mapping):
    """A registry's profiles in a compiled snapshot, each decoded when first read (and kept);
    read-only, for `registry_view` callers. A profile that does not decode is taken from the
    file's own reading."""

    def __init__(self, snapshot: _Snapshot, slug: str) -> None:
        self._snapshot = snapshot
        self._slug = slug
        self._names = snapshot.compiled.profile_slugs(slug)
        self._decoded: dict[str, dict] = {}

    def __getitem__(self, name: str) -> dict:
        found = self._decoded.get(name)
        if found is None:
            exists, found = self._snapshot.profile(self._slug, name)
            if found is None:
                raise KeyError(name)
            self._decoded[name] = found
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _registries_as_read(data: dict, form: str) -> dict[str, dict]:
    """A bundle- or single-form document's registries by slug, as read (not normalised)."""
    return (data["registries"] or {}) if form == "bundle" else {data["slug"]: data}


def _registries_of(data: dict, form: str, legacy_slug: str) -> dict[str, Registry]:
    if form == "legacy":
        return {legacy_slug: normalise_registry(legacy_to_registry(data, legacy_slug), legacy_slug)}
    return {slug: normalise_registry(reg, slug) for slug, reg in _registries_as_read(data, form).items()}


def _normalised_again(registry: Any, old: Any, old_normalised: Registry | None, slug: str) -> Any:
    """`normalise_registry(registry, slug)`, reusing what `old_normalised` (the normalised
    `old`) holds for each profile object the two readings share."""
    if registry is old and old_normalised is not None:
        return old_normalised
    profiles = registry.get("profiles") if isinstance(registry, dict) else None
    old_profiles = old.get("profiles") if isinstance(old, dict) else None
    if old_normalised is None or not isinstance(profiles, dict) or not isinstance(old_profiles, dict):
        return normalise_registry(registry, slug)
    out = normalise_registry({**registry, "profiles": {}}, slug)
    kept = old_normalised["profiles"]
    out["profiles"] = {key: kept[key] if old_profiles.get(key) is value and key in kept
                       else normalise_profile(value, key) for key, value in profiles.items()}
    return out


def _line_ends(text: str) -> tuple[str, str]:
    """(the text with "\\n" line ends, the file's own line end)."""
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or None] else "\n"
    if newline != "\n":
        text = text.replace(newline, "\n")  # ruamel edits "\n" text; written back with the file's endings
    return text, newline


def parse_store_text(raw: bytes, path: str, legacy_slug: str, *, validate: bool = True,
                     use_compiled: bool = True, source_map: bool = True, expect_valid: bool = False) -> _Snapshot:
    """Read a store file's bytes with the engine; StoreError `file:line:col` if invalid.

    validate=False: YAML-level problems only (syntax, duplicate keys, limits); for text whose
    registries the caller compares with ones already validated. With validation, bytes seen
    valid before are not parsed at all: their registries come from the compiled cache
    (unless `use_compiled` is False). source_map=False: the node tree and document data are
    not kept (the bytes are, for a write to parse again). `expect_valid`: the file's last
    reading was valid (`engine.read_for_store`)."""
    if validate and use_compiled:
        compiled = validcache.lookup_compiled(raw)
        if compiled is not None:
            first_line = raw[: raw.find(b"\n") + 1 or None]
            return _Snapshot(None, text=None, newline="\r\n" if b"\r\n" in first_line else "\n",
                             bom=raw.startswith(b"\xef\xbb\xbf"), form=compiled.form, unparsed=raw,
                             compiled=compiled,
                             reread=lambda: parse_store_text(raw, path, legacy_slug, use_compiled=False))
    seen_form = validcache.lookup(raw) if validate else None

    def known_form(data: Any) -> str | None:  # bytes that validated before: read, not judged
        return seen_form if validcache.form_matches(data, seen_form) else None

    def snapshot_of(report: Report) -> _Snapshot:
        if validate and report.valid and report.form is not None and report.form != seen_form:
            validcache.remember(raw, report.form)
        text, newline = _line_ends(report.parsed.text if report.parsed is not None else "")
        snapshot = _Snapshot(None, text=text, newline=newline, bom=raw.startswith(b"\xef\xbb\xbf"))
        if report.parsed is not None and report.parsed.empty and not report.parsed.fatal:
            return snapshot  # empty or comments only: an empty store
        errors = report.errors
        if errors:
            raise StoreError(first_error_line(errors, prefix=path, position=True, what="invalid registry file",
                                              code=True, more="more problems"))
        snapshot.form = report.form
        if source_map or report.form == "legacy":
            snapshot.registries = _registries_of(report.data, report.form, legacy_slug)
            recorded = snapshot.registries
        else:
            read = _ReadRegistries(report.form, _registries_as_read(report.data, report.form))
            snapshot.read_lazily(read)
            recorded = read.registries()
        if source_map:
            snapshot.root, snapshot.data, snapshot.nodes = report.parsed.root, report.data, report.parsed.nodes
        else:
            snapshot.unparsed = raw
        if validate:
            validcache.remember_compiled(raw, snapshot.form, recorded)
        return snapshot

    return engine.read_for_store(raw, snapshot_of, validate=validate,
                                 known_form=None if seen_form is None else known_form, source_map=source_map,
                                 expect_valid=expect_valid)


NO_HISTORY = ("YAML store {name} keeps no history of its own: its history is the file's version control "
              "(e.g. git log -p)")


class YamlFileStore(BaseStore):
    kind = "YAML"

    def __init__(self, path: str | os.PathLike[str], *, legacy_registry: str = "default", lazy: bool = False,
                 source_map: bool = True) -> None:
        """`lazy`: read the file when first asked, not now (a file that does not read can
        then still be checked or replaced). `source_map=False`, for a process that mostly
        reads (an application's client): a read keeps the registries, not the engine's node
        tree of the file (the largest part of a reading, and what the cyclic collector would
        rescan for the process's life); a write parses the file again for it."""
        super().__init__(str(path))
        self.source_map = source_map
        # Write through symlinks to the real file (a rename would replace the link).
        self.path = os.path.realpath(path)
        self.legacy_registry = legacy_registry
        if os.path.isdir(self.path):
            raise StoreError(f"YAML store {path} is a directory")
        # The ruamel document of the last write, reused while the file is unchanged.
        self._document: tuple[Signature | None, RoundTripDocument] | None = None
        self._last_read_valid = False  # the file's last reading gave registries (no error)
        if lazy:
            self._snapshot = _Snapshot(UNREAD)
        else:
            self._snapshot = self._read()

    def history(self, slug: str) -> list[dict]:
        self._check_open()
        raise UsageError(NO_HISTORY.format(name=self.name))

    # ---- reading ------------------------------------------------------------------------
    def _read(self) -> _Snapshot:
        """The file read now; an invalid file raises StoreError (the last snapshot is kept)."""
        before, raw = self._read_bytes()
        if before is None:
            self._last_read_valid = False
            return _Snapshot(None)
        # How a file reads fastest depends on whether it is valid (`engine.read_for_store`):
        # a reading store guesses it from how the file last read, in this process or another.
        noted = not self.source_map and validcache.last_read_valid(self.path)
        expect_valid, valid = self._last_read_valid or noted, False
        try:
            snapshot = parse_store_text(raw, self.name, self.legacy_registry, source_map=self.source_map,
                                        expect_valid=expect_valid)
            valid = snapshot.form is not None
        finally:
            self._last_read_valid = valid
            if not self.source_map:
                validcache.note_read(self.path, valid, noted)
        snapshot.signature = before
        snapshot.digest = validcache.content_digest(raw)
        return snapshot

    def _read_bytes(self) -> tuple[Signature | None, bytes]:
        """(the file's signature, its bytes) read while it was not replaced; (None, b""): no file."""
        for _attempt in range(5):
            before = signature(self.path)
            if before is None:
                return None, b""
            try:
                raw = read_input(self.path, current_limits().max_bytes, regular_only=True)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(f"cannot read YAML store {self.name}: {exc.strerror}") from None
            if signature(self.path) == before:  # not replaced while we read it
                return before, raw
        raise StoreError(f"YAML store {self.name} keeps changing while being read")

    def _current(self) -> _Snapshot:
        """The loaded snapshot, re-read first if the file changed since."""
        if signature(self.path) != self._snapshot.signature:
            self._snapshot = self._read()
        return self._snapshot

    def change_token(self) -> Signature | None:
        """The file's identity, size and modification time (None: no file)."""
        self._check_open()
        return signature(self.path)

    # ---- primitives ---------------------------------------------------------------------
    def exists(self) -> bool:
        self._check_open()
        return self._current().signature is not None

    def _registry_slugs(self) -> list[str]:
        return list(self._current().registries)

    def _load_registry(self, slug: str) -> Registry | None:
        return self._current().registries.get(slug)

    def _load_all(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        return list(self._current().registries.values()), []

    def get_profile(self, registry: str, profile: str) -> dict:
        self._check_open()
        exists, found = self._current().profile(registry, profile) if isinstance(registry, str) else (False, None)
        if not exists:
            raise self.registry_not_found(registry)
        if found is None:
            raise NotFoundError("profile", profile, registry=registry)
        return found

    def registry_view(self, slug: str) -> Registry:
        """The registry without a copy; read from the compiled cache, its `profiles` is a
        read-only mapping that decodes a profile when it is first read."""
        self._check_open()
        found = self._current().registry_view(slug) if isinstance(slug, str) else None
        if found is None:
            raise self.registry_not_found(slug)
        return found

    def registry_views(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        """Every registry as `registry_view` gives it (from the compiled cache, no profile
        decoded until read); a YAML file has no corrupt registries (it reads whole or not)."""
        self._check_open()
        snapshot = self._current()
        slugs = snapshot.compiled.slugs() if snapshot.compiled is not None else list(snapshot.registries)
        return [snapshot.registry_view(slug) for slug in sorted(slugs)], []

    def registry_fields(self, slug: str) -> Registry:
        self._check_open()
        found = self._current().registry_fields(slug) if isinstance(slug, str) else None
        if found is None:
            raise self.registry_not_found(slug)
        return found

    def _commit(self, slug: str, change: Change, *, read_current: bool = True) -> Registry | None:
        # A YAML file is valid as a whole or not opened at all: no registry in it is corrupt.
        create_parent_folders(self.path, f"YAML store {self.name}")  # the first write makes them
        with file_lock(self.path, self.name, timeout=self.lock_timeout, on_wait=self.on_lock_wait):
            snapshot = self._current()
            if snapshot.form == "legacy":
                raise StoreError(
                    f"{self.name} is in the legacy form, which is read but not written; "
                    f"convert it first: profreg migrate {self.name} NEW.yaml"
                )
            for _attempt in range(WRITE_ATTEMPTS):
                try:
                    return self._write_once(slug, change, snapshot)
                except FileChanged:
                    # Saved by someone who takes no lock (an editor) while this write ran:
                    # start over on their content, so their save is kept.
                    self._snapshot = snapshot = self._read()
                    self._document = None
                    if snapshot.form == "legacy":
                        raise StoreError(f"{self.name} was changed to the legacy form while being written") from None
            raise StoreError(
                f"YAML store {self.name} changed while being written, {WRITE_ATTEMPTS} times in a row; "
                "nothing written (try again)"
            )

    def _write_once(self, slug: str, change: Change, snapshot: _Snapshot) -> Registry | None:
        if snapshot.unparsed is not None:  # read from the compiled cache: the edit needs the source map
            parsed = parse_store_text(snapshot.unparsed, self.name, self.legacy_registry, validate=False)
            snapshot.text = parsed.text
            snapshot.root, snapshot.data, snapshot.nodes = parsed.root, parsed.data, parsed.nodes
            snapshot.unparsed, snapshot.limits = None, parsed.limits
            if snapshot.compiled is not None:
                # Not decoded yet: the reading just made holds the same registries (these
                # bytes are the ones their compiled form was recorded for).
                snapshot.registries = parsed.registries

        def edit() -> tuple[Registry | None, str, _Snapshot, RoundTripDocument | None]:
            result = change(snapshot.registries.get(slug))
            expected = dict(snapshot.registries)
            if result is None:
                expected.pop(slug, None)
            else:
                expected[slug] = result
            return result, *self._edited(snapshot, slug, result, expected)

        result, text, written, document = engine.edit_for_store(edit)
        data = text.replace("\n", snapshot.newline) if snapshot.newline != "\n" else text
        raw = ("\ufeff" if snapshot.bom else "").encode() + data.encode("utf-8")
        try:
            write_atomic(self.path, raw, unchanged=lambda: self._unchanged_since(snapshot))
        except OSError as exc:
            raise StoreError(f"cannot write YAML store {self.name}: {exc.strerror or exc}") from None
        written.signature = signature(self.path)
        written.digest = validcache.content_digest(raw)
        if written.root is None:
            written.unparsed = raw  # read back entry by entry: a next write parses the file for its source map
        # What was just written is valid (the edit was checked against validated registries):
        # the next reader of these bytes need not parse or validate them.
        validcache.remember(raw, written.form)
        validcache.remember_compiled(raw, written.form, written.registries)
        self._snapshot = written
        if document is not None:  # reusable for the next write while the file is unchanged
            self._document = (written.signature, document)
        return result

    def _unchanged_since(self, snapshot: _Snapshot) -> bool:
        """Whether the file is still the one `snapshot` read: identity, size, mtime and bytes
        (an in-place save within the same mtime tick keeps all but the bytes)."""
        now = signature(self.path)
        if now != snapshot.signature:
            return False
        if now is None:
            return True
        try:
            raw = read_input(self.path, current_limits().max_bytes, regular_only=True)
        except OSError:
            return False
        return hashlib.sha256(raw).digest() == snapshot.digest

    def _edited(
        self, snapshot: _Snapshot, slug: str, result: Registry | None, expected: dict[str, Registry]
    ) -> tuple[str, _Snapshot, RoundTripDocument | None]:
        """The file's new text, its reading, and the ruamel document edited (for reuse).

        Entries are spliced when possible (fast, exact); otherwise, or if the spliced text
        does not read back as `expected`, the whole document goes through ruamel."""
        roundtrip, splice = _edit_modules()

        cached, self._document = self._document, None  # edited in place: re-cached on success only
        try:
            record = splice.Record()
            text = splice.splice_registry(snapshot.text, snapshot.root, snapshot.data, snapshot.form, slug, result,
                                          record=record)
            written = self._read_back(text, record, expected, snapshot)
            return text, written if written is not None else self._checked(text, expected, snapshot), None
        except (splice.NotSpliceable, StoreError):
            pass
        if cached is not None and cached[0] == snapshot.signature:
            document = cached[1]
        else:
            document = roundtrip.RoundTripDocument(snapshot.text, snapshot.form)
        text = document.replace_registry(slug, result)
        return text, self._checked(text, expected, snapshot), document

    def _read_back(self, text: str, record: Record, expected: dict[str, Registry],
                   before: _Snapshot) -> _Snapshot | None:
        """The reading of the spliced text from its written entries alone, when it holds
        `expected` (what `_checked` proves by reading all of it); None: not shown so."""
        limits = current_limits()
        if limits != before.limits:
            return None  # what was read under other limits is not known to hold under these
        data = record.read_back(limits, before.nodes)
        if data is None or not validcache.form_matches(data, before.form):
            return None  # (a bundle keeps `registries`, a single file its `slug`: the form as detected)
        if before.form == "bundle":
            found = data["registries"]
            old = before.data["registries"]
        else:
            found = {data["slug"]: data}
            old = {before.data["slug"]: before.data}
        registries = {}
        for slug, registry in found.items():
            registries[slug] = _normalised_again(registry, old.get(slug), before.registries.get(slug), slug)
        if registries != expected:
            return None
        return _Snapshot(None, text=text, form=before.form, registries=registries, newline=before.newline,
                         bom=before.bom)

    def _checked(self, text: str, expected: dict[str, Registry], before: _Snapshot) -> _Snapshot:
        """The engine's reading of the text about to be written; it must hold `expected`.

        `expected` holds validated registries only (the changed one was validated by the
        write, the others when the file was read), so equal data is a valid file."""
        try:
            written = parse_store_text(text.encode("utf-8"), self.name, self.legacy_registry, validate=False)
        except StoreError as exc:
            raise StoreError(f"refusing to write {self.name}: the edited text would not validate ({exc})") from None
        if written.registries != expected:
            raise StoreError(
                f"refusing to write {self.name}: the round-trip edit did not reproduce the intended "
                "content (file left unchanged)"
            )
        written.newline, written.bom = before.newline, before.bom
        return written

    # ---- bulk copy and checks (migrate, validate --store) --------------------------------
    def export(self, only: str | None = None) -> Export:
        """The registries of the file's current bytes, and those bytes where a copy can keep
        them: a bundle or single file whole, one registry of a bundle (`only`) as the bundle
        with the others removed by the comment-keeping editor; never a legacy file's."""
        self._check_open()
        found, raw = self._read_bytes()
        snapshot = parse_store_text(raw, self.name, self.legacy_registry) if found else _Snapshot(None)
        registries = snapshot.registries
        if only is not None:
            if only not in registries:
                raise self.registry_not_found(only)
            registries = {only: registries[only]}
        exported = Export(sorted(registries.values(), key=lambda registry: registry["slug"]),
                          form=snapshot.form or "empty", has_comments=_has_comments(raw))
        if snapshot.form == "bundle" and only is not None:
            document = _edit_modules()[0].RoundTripDocument(snapshot.text, "bundle")
            text = snapshot.text
            for slug in snapshot.registries:
                if slug != only:
                    text = document.replace_registry(slug, None)
            kept = ("\ufeff" if snapshot.bom else "").encode() + text.replace("\n", snapshot.newline).encode("utf-8")
        elif snapshot.form in ("bundle", "single"):
            kept = raw
        else:
            return exported  # a legacy file is converted: its text is not kept
        if self._reads_as(kept, registries) is not None:
            exported.document = kept
        return exported

    def _reads_as(self, raw: bytes, registries: dict[str, Registry]) -> _Snapshot | None:
        """The engine's reading of `raw` if it holds exactly `registries`, else None."""
        try:
            written = parse_store_text(raw, self.name, self.legacy_registry)
        except StoreError:
            return None
        return written if written.registries == registries else None

    def holds_data(self) -> bool:
        """Whether the file has any text at all (comments too), valid or not."""
        self._check_open()
        return self._read_bytes()[1].strip() != b""

    def check(self) -> list[StoreCheck]:
        """The file validated as a document (exact ranges), whether or not it reads."""
        self._check_open()
        found, raw = self._read_bytes()
        if found is None:
            return []  # an empty store: nothing to check
        report = engine.validate_text(raw)
        return [StoreCheck(None, report.diagnostics, report.registry_slugs)]

    def _commit_all(self, registries: dict[str, Registry], replace: bool, *,
                    history: Sequence[HistoryRow] | None = None, document: bytes | None = None,
                    check: Callable[[], None] | None = None) -> None:
        """A replacing import writes the file once, as a whole: `document` where it reads back
        as exactly `registries`, else the registries rendered as a bundle. What the file held
        is not read (it may not even parse: that is what a forced migration replaces)."""
        if not replace:
            super()._commit_all(registries, replace, check=check)
            return
        create_parent_folders(self.path, f"YAML store {self.name}")  # the first write makes them
        with file_lock(self.path, self.name, timeout=self.lock_timeout, on_wait=self.on_lock_wait):
            if check is not None:
                check()
            written = None if document is None else self._reads_as(document, registries)
            if written is not None:
                raw = document
            else:
                raw = dump_yaml(bundle_document(sorted(registries.values(), key=lambda r: r["slug"]))).encode("utf-8")
                written = self._reads_as(raw, registries)
                if written is None:
                    raise StoreError(f"refusing to write {self.name}: the rendered YAML does not read back the same")
            try:
                write_atomic(self.path, raw)
            except OSError as exc:
                raise StoreError(f"cannot write {self.name}: {exc.strerror or exc}") from None
            written.signature = signature(self.path)
            written.digest = validcache.content_digest(raw)
            self._snapshot, self._document = written, None

    def _close(self) -> None:
        self._snapshot = _Snapshot(None)
        self._document = None


def _has_comments(raw: bytes) -> bool:
    """Whether the YAML text has a comment (a `#` at a line start or after a space: what the
    tokenizer would call one, strings with ` #` in them aside)."""
    text = raw.decode("utf-8", "replace")
    return any(line.lstrip().startswith("#") or " #" in line for line in text.splitlines())
