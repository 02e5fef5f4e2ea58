"""Remembers store files that already validated, byte for byte, so re-opening skips the validator.

An application that resolves profiles at run time opens the same unchanged YAML file again
and again; validating it each time costs more than everything else a `profreg resolve`
does (mostly importing the schema validator). A file whose exact bytes validated before,
under the same profreg version, schema and engine code, validates again: the key is a
SHA-256 over all of them, so any change to the file or to profreg misses the cache.

The cache is a folder of empty-looking marker files (the content is the document form),
under `$PROFREG_CACHE_DIR`, else `$XDG_CACHE_HOME/profreg`, else `~/.cache/profreg`;
`PROFREG_CACHE_DIR=` (empty) turns it off. It is best effort: any OS error means "not
cached". Only successful validations are recorded; writes always validate in full.
"""
from __future__ import annotations

import hashlib
import os

from . import __version__

_FORMS = frozenset(("bundle", "single", "legacy"))


def _cache_dir() -> str | None:
    configured = os.environ.get("PROFREG_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "profreg")


def _engine_fingerprint() -> bytes:
    """profreg's version, the schema's bytes and the engine modules' identity."""
    from . import schemafile, validation, yamlsource

    digest = hashlib.sha256(__version__.encode())
    with open(schemafile.schema_path(), "rb") as handle:
        digest.update(handle.read())
    for module in (validation, yamlsource):
        stat = os.stat(module.__file__)
        digest.update(f"{module.__name__}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.digest()


def _marker(raw: bytes) -> str | None:
    directory = _cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256(_engine_fingerprint() + hashlib.sha256(raw).digest()).hexdigest()
    return os.path.join(directory, "validated", key[:2], key)


def lookup(raw: bytes) -> str | None:
    """The document form recorded for these bytes, or None if they were not seen valid."""
    try:
        marker = _marker(raw)
        if marker is None:
            return None
        with open(marker, encoding="ascii") as handle:
            form = handle.read().strip()
    except (OSError, ValueError):
        return None
    return form if form in _FORMS else None


def remember(raw: bytes, form: str) -> None:
    """Record that these bytes validated (as `form`); silently does nothing on any OS error."""
    try:
        marker = _marker(raw)
        if marker is None or form not in _FORMS:
            return
        os.makedirs(os.path.dirname(marker), mode=0o700, exist_ok=True)
        temporary = f"{marker}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(form)
        os.replace(temporary, marker)
    except OSError:
        pass
