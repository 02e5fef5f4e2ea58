"""Remembers stored content that already validated, byte for byte, so re-reading skips the validator.

An application that resolves profiles at run time opens the same unchanged store again and
again; validating it each time costs more than everything else a `profreg resolve` does
(mostly importing the schema validator). A YAML file whose exact bytes validated before,
or a SQL store's registry row whose exact payload did (`row_validated`), under the same
profreg version, schema and engine code, is not validated again: the key is a SHA-256 over
all of them, so any change to the content or to profreg misses the cache.

The cache is a folder of small marker files (each names its own key and the document
form), under `$PROFREG_CACHE_DIR`, else `$XDG_CACHE_HOME/profreg`, else `~/.cache/profreg`;
`PROFREG_CACHE_DIR=` (empty) turns it off. It is best effort: any OS error means "not
cached". Only successful validations are recorded; writes always validate in full.
Shared by the YAML store (files) and the SQL stores (rows).
A reading store also notes, per file path, whether the file was valid when last read
(`last_read_valid`): a hint that picks the faster reading of a file expected valid, never
a verdict. Folders and markers are private whatever the umask, never reached through a symlink
(`profreg.privatefiles`), and a marker that does not read back exactly as written is a miss.

Beside each marker of a bundle- or single-form file, the *compiled* form of what was
validated is kept: the store's registries in `marshal`'s format, under the same key, with
a SHA-256 of its own body (`lookup_compiled`). A store whose exact bytes were seen before
then opens without parsing the YAML at all; an entry that does not check out is a miss.
The body is an index (each registry's own fields, its profile slugs and where each
profile's bytes lie) followed by each profile on its own, so a reader that wants one
profile decodes that profile only (`CompiledStore`). `marshal` rather than JSON: writing
the compiled form is part of the first reading of a file, and marshal writes and reads
plain data several times faster; its format belongs to one Python version, which the
header names (another version's entry is a miss). Only data profreg itself wrote into the
private cache folder, digest checked, is ever decoded. The folder is bounded: past
`MAX_CACHE_BYTES` (or `MAX_ENTRIES` files) the least recently used entries are removed
when a new one is written.
"""
from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
from typing import Any

from .. import __version__, schemafile
from ..privatefiles import ensure_private_dir, read_private_file, write_private_file

_FORMS = frozenset(("bundle", "single", "legacy"))
ROW_FORM = "registry-row"  # a SQL store's payload row (its key also covers the row's slug)
_MARKER_FORMAT = "profreg-validated 1 {key} {form}\n"
_MARKER_MAX_BYTES = 256
# the body: the index (its length in the header), then the profiles' bytes
_COMPILED_HEADER = "profreg-compiled 3 {python} {key} {digest} {index}\n"
_PYTHON = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}-marshal{marshal.version}"
_COMPILED_FORMS = frozenset(("bundle", "single"))  # a legacy file's registry depends on the slug asked
MAX_CACHE_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000


def _cache_dir() -> str | None:
    configured = os.environ.get("PROFREG_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "profreg")


# The profreg modules outside the engine package that the engine imports; a test holds
# this list to the engine's imports.
ENGINE_DEPENDENCIES = ("lazynames", "limits", "model", "pointer", "schemafile", "secrets")


# profreg/, found without importing the engine (a cache hit must not load it)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _engine_files() -> list[str]:
    """Every file whose change could change a verdict: the engine package and the modules
    it imports (the schema's own bytes are hashed as well)."""
    directory = os.path.join(_PACKAGE, "engine")
    names = sorted(name for name in os.listdir(directory) if name.endswith(".py"))
    return ([os.path.join(directory, name) for name in names]
            + [os.path.join(_PACKAGE, f"{name}.py") for name in ENGINE_DEPENDENCIES])


@functools.lru_cache(maxsize=1)
def _engine_fingerprint() -> bytes:
    """profreg's version, the schema's bytes and the engine modules' identity; taken once
    per process (a SQL store asks once per row it reads, and the process runs the code it
    loaded whatever is installed later)."""
    digest = hashlib.sha256(__version__.encode())
    with open(schemafile.schema_path(), "rb") as handle:
        digest.update(handle.read())
    for path in _engine_files():
        stat = os.stat(path)
        digest.update(f"{os.path.basename(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.digest()


def _marker(raw: bytes, kind: str = "validated", domain: bytes = b"") -> tuple[str, str, str] | None:
    """(cache root, entry path, key) for these bytes, or None when the cache is off.
    `domain` separates keys of content that is not a file's bytes (a row and its slug)."""
    directory = _cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256(_engine_fingerprint() + domain + content_digest(raw)).hexdigest()
    return directory, os.path.join(directory, kind, key[:2], key), key


_last_digest: tuple[bytes, bytes] | None = None  # (content, its SHA-256): one reading asks several times


def content_digest(raw: bytes) -> bytes:
    """SHA-256 of `raw`; the last one is remembered (a reading of a large file asks for it
    for each entry it looks up or writes, and once for the store)."""
    global _last_digest
    last = _last_digest
    if last is not None and last[0] is raw:
        return last[1]
    digest = hashlib.sha256(raw).digest()
    if type(raw) is bytes:  # immutable: the same object has the same digest
        _last_digest = (raw, digest)
    return digest


def _entry(raw: bytes, kind: str, max_bytes: int, domain: bytes = b"") -> tuple[str, str, bytes] | None:
    """(key, path, content) of the cache entry of these bytes, or None (off, absent, unreadable)."""
    try:
        found = _marker(raw, kind, domain)
    except OSError:
        return None
    if found is None:
        return None
    _root, path, key = found
    content = read_private_file(path, max_bytes)
    return None if content is None else (key, path, content)


def lookup(raw: bytes) -> str | None:
    """The document form recorded for these bytes, or None if they were not seen valid."""
    found = _entry(raw, "validated", _MARKER_MAX_BYTES)
    if found is None:
        return None
    key, _path, content = found
    for form in _FORMS:
        if content == _MARKER_FORMAT.format(key=key, form=form).encode("ascii"):
            return form
    return None


def remember(raw: bytes, form: str) -> None:
    """Record that these bytes validated (as `form`); silently does nothing on any OS error."""
    _write_marker(raw, form, b"")


def _write_marker(raw: bytes, form: str, domain: bytes) -> None:
    try:
        found = _marker(raw, domain=domain)
    except OSError:
        return
    if found is None or form not in _FORMS and form != ROW_FORM:
        return
    root, marker, key = found
    if ensure_private_dir(os.path.dirname(marker), root):
        write_private_file(marker, _MARKER_FORMAT.format(key=key, form=form).encode("ascii"))


def _row_domain(slug: str) -> bytes:
    return b"%s\0%s\0" % (ROW_FORM.encode("ascii"), hashlib.sha256(slug.encode("utf-8", "surrogatepass")).digest())


def row_validated(slug: str, payload: str) -> bool:
    """Whether registry `slug`'s row with exactly this payload text validated before."""
    raw = payload.encode("utf-8", "surrogatepass")
    found = _entry(raw, "validated", _MARKER_MAX_BYTES, _row_domain(slug))
    return found is not None and found[2] == _MARKER_FORMAT.format(key=found[0], form=ROW_FORM).encode("ascii")


def remember_row(slug: str, payload: str) -> None:
    """Record that registry `slug`'s row with this payload text validated (best effort)."""
    _write_marker(payload.encode("utf-8", "surrogatepass"), ROW_FORM, _row_domain(slug))


_LAST_VALID_FORMAT = "profreg-last-read-valid 1 {key}\n"


def _last_valid_marker(path: str) -> tuple[str, str, str] | None:
    """(cache root, marker path, key) of a store file's "last read valid" note; None: off."""
    directory = _cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256(b"store-path\0" + os.fsencode(path)).hexdigest()
    return directory, os.path.join(directory, "last-valid", key[:2], key), key


def last_read_valid(path: str) -> bool:
    """Whether the store file at `path` (a real path) was valid when a store last read it:
    a hint for how to read it next (`note_read`), never a verdict on its content."""
    try:
        found = _last_valid_marker(path)
    except OSError:
        return False
    if found is None:
        return False
    _root, marker, key = found
    return read_private_file(marker, _MARKER_MAX_BYTES) == _LAST_VALID_FORMAT.format(key=key).encode("ascii")


def note_read(path: str, valid: bool, noted: bool) -> None:
    """Record how the store file at `path` last read (`noted`: what `last_read_valid` said
    before; nothing is written when that stays true). Best effort, like every entry here."""
    if valid == noted:
        return
    try:
        found = _last_valid_marker(path)
        if found is None:
            return
        root, marker, key = found
        if not valid:
            os.unlink(marker)
        elif ensure_private_dir(os.path.dirname(marker), root):
            write_private_file(marker, _LAST_VALID_FORMAT.format(key=key).encode("ascii"))
    except OSError:
        pass


class CompiledStore:
    """A store file's validated registries as cached: a profile is decoded when asked.

    Built only from an entry whose digest and index checked out; a part that then fails to
    decode raises ValueError (the caller reads the file itself instead). The profiles are
    as recorded (`remember_compiled`): the store normalises what it takes."""

    def __init__(self, form: str, entries: list[dict[str, Any]], sections: memoryview) -> None:
        self.form = form
        self._entries = {entry["shell"]["slug"]: entry for entry in entries}
        self._sections = sections
        self._positions: dict[str, dict[str, int]] = {}

    def slugs(self) -> list[str]:
        return list(self._entries)

    def profile_slugs(self, slug: str) -> dict[str, int]:
        """The registry's profile slugs (in the file's order), each with its position."""
        positions = self._positions.get(slug)
        if positions is None:
            positions = self._positions[slug] = {name: i for i, name in enumerate(self._entries[slug]["profiles"])}
        return positions

    def shell(self, slug: str) -> dict | None:
        """The registry's own fields (`profiles` None), or None: no such registry."""
        entry = self._entries.get(slug)
        return None if entry is None else entry["shell"]

    def _decoded(self, entry: dict[str, Any], index: int) -> dict:
        try:
            value = marshal.loads(self._sections[entry["starts"][index]:entry["ends"][index]])
        except (EOFError, TypeError, ValueError) as exc:
            raise ValueError("a compiled profile does not decode") from exc
        if type(value) is not dict:
            raise ValueError("a compiled profile is not an object")
        return value

    def profile(self, slug: str, profile: str) -> dict | None:
        """One profile, decoded now (an independent copy); None: no such profile."""
        entry = self._entries[slug]
        index = self.profile_slugs(slug).get(profile)
        return None if index is None else self._decoded(entry, index)

    def registries(self) -> dict[str, dict]:
        """Every registry, whole (decoded now)."""
        out = {}
        for slug, entry in self._entries.items():
            registry = dict(entry["shell"])
            registry["profiles"] = {name: self._decoded(entry, i) for i, name in enumerate(entry["profiles"])}
            out[slug] = registry
        return out


def _index_checks_out(entries: Any, size: int) -> bool:
    """Whether an index has the shape `remember_compiled` writes, every offset in bounds and
    in order (so no profile's bytes overlap another's)."""
    if type(entries) is not list:
        return False
    slugs = set()
    previous = 0
    for entry in entries:
        if type(entry) is not dict:
            return False
        shell, names, starts, ends = (entry.get(k) for k in ("shell", "profiles", "starts", "ends"))
        if not (type(shell) is dict and type(shell.get("slug")) is str and shell.get("profiles", 0) is None
                and shell["slug"] not in slugs and type(names) is list and type(starts) is list
                and type(ends) is list and len(names) == len(starts) == len(ends)):
            return False
        slugs.add(shell["slug"])
        for name, start, end in zip(names, starts, ends):
            if type(name) is not str or type(start) is not int or type(end) is not int or not previous <= start < end:
                return False
            previous = end
    return previous <= size


def lookup_compiled(raw: bytes) -> CompiledStore | None:
    """The registries recorded for these exact bytes, or None (not seen, or an entry that
    does not check out: wrong key, Python, body digest or shape)."""
    found = _entry(raw, "compiled", MAX_CACHE_BYTES)
    if found is None:
        return None
    key, path, content = found
    body_start = content.find(b"\n") + 1
    head = content[:body_start].split(b" ")
    if not body_start or len(head) != 6 or not head[5][:-1].isdigit():
        return None
    index_end = body_start + int(head[5])
    view = memoryview(content)  # the entry is large: its parts are sliced without copies
    if content[:body_start] != _COMPILED_HEADER.format(
            python=_PYTHON, key=key, digest=hashlib.sha256(view[body_start:]).hexdigest(),
            index=index_end - body_start).encode("ascii"):
        return None
    try:
        entry = marshal.loads(view[body_start:index_end])
    except (EOFError, TypeError, ValueError):
        return None
    sections = view[index_end:]
    form = entry.get("form") if type(entry) is dict else None
    if form not in _COMPILED_FORMS or not _index_checks_out(entry.get("registries"), len(sections)):
        return None
    _touch(path)
    return CompiledStore(form, entry["registries"], sections)


def _compiled_body(form: str, registries: dict) -> tuple[bytes, int]:
    """(the body, its index's length): the index, then each profile's own bytes (offsets
    from the end of the index)."""
    entries, parts, offset = [], [], 0
    for slug, registry in registries.items():
        shell = dict(registry)
        shell["profiles"] = None
        if shell.get("slug") != slug:
            raise ValueError("a registry under another slug")
        names, starts, ends = [], [], []
        for name, profile in (registry.get("profiles") or {}).items():
            blob = marshal.dumps(profile, marshal.version)
            names.append(name)
            starts.append(offset)
            offset += len(blob)
            ends.append(offset)
            parts.append(blob)
        entries.append({"shell": shell, "profiles": names, "starts": starts, "ends": ends})
    index = marshal.dumps({"form": form, "registries": entries}, marshal.version)
    parts.insert(0, index)
    return b"".join(parts), len(index)


def remember_compiled(raw: bytes, form: str, registries: dict) -> None:
    """Record the validated registries of these bytes (slug -> registry: its own fields as a
    store returns them, its profiles as read); silently does nothing on any error."""
    if form not in _COMPILED_FORMS:
        return
    try:
        found = _marker(raw, "compiled")
        if found is None:
            return
        body, index_length = _compiled_body(form, registries)
    except (OSError, TypeError, ValueError):
        return
    root, path, key = found
    header = _COMPILED_HEADER.format(python=_PYTHON, key=key, digest=hashlib.sha256(body).hexdigest(),
                                     index=index_length).encode("ascii")
    if ensure_private_dir(os.path.dirname(path), root) and write_private_file(path, header + body):
        prune(root)  # with each compiled form, markers included: they come in pairs


def _touch(path: str) -> None:
    try:
        os.utime(path)  # the mtime orders entries for eviction: least recently used first
    except OSError:
        pass


def prune(root: str, max_bytes: int = MAX_CACHE_BYTES, max_entries: int = MAX_ENTRIES) -> None:
    """Remove the least recently used entries (markers and compiled forms) until the cache
    folder holds at most `max_bytes` in at most `max_entries` files."""
    entries = []
    for kind in ("validated", "compiled", "last-valid"):
        for folder, _subfolders, names in os.walk(os.path.join(root, kind)):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                entries.append((st.st_mtime_ns, st.st_size, path))
    total = sum(size for _mtime, size, _path in entries)
    if total <= max_bytes and len(entries) <= max_entries:
        return
    entries.sort()
    count = len(entries)
    for _mtime, size, path in entries:
        if total <= max_bytes and count <= max_entries:
            break
        try:
            os.unlink(path)
        except OSError:
            continue
        total -= size
        count -= 1


def form_matches(data: object, form: str) -> bool:
    """Whether document data has the shape of the form a marker names (cheap: no schema);
    a marker naming another form is not trusted."""
    if not isinstance(data, dict):
        return False
    if form == "bundle":
        return isinstance(data.get("registries"), dict)
    if "registries" in data:
        return False
    if form == "single":
        return isinstance(data.get("slug"), str)
    return bool(data) and all(isinstance(value, dict) for value in data.values())
