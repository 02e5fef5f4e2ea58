"""Which documents are registries: the form of loaded data (SPEC section 2) and the
editors' "looks like a registry" rule (SPEC section 7)."""
from __future__ import annotations

import os
import re
from typing import Any

from ..model import BUNDLE, LEGACY, REGISTRY_FIELDS, SINGLE
from .reader import iter_top_level_keys
from .schema import is_valid
from .sourcemap import SourceMap


def is_legacy(data: Any) -> bool:
    """True when loaded document data has the legacy shape."""
    return detect_form(data) == LEGACY


def detect_form(data: Any) -> str | None:
    """bundle, legacy or single (None for a non-mapping); see SPEC section 2."""
    if not isinstance(data, dict):
        return None
    if "registries" in data:
        return BUNDLE
    if data and not (REGISTRY_FIELDS & data.keys()) and is_valid("legacy", data):
        return LEGACY
    return SINGLE


# Root keys that only a registry document has at the top (SPEC section 7).
REGISTRY_MARKER_KEYS = frozenset(("registries", "slug", "profiles", "default_profile_slug"))
_MODELINE_RE = re.compile(r"#\s*profreg\b|#.*\$schema=\S*profile-registry")


# Other tools' files that have the legacy shape (name -> name -> mapping) by accident. SPEC
# section 7 names compose and workflow files as YAML that gets no diagnostics, so the shape
# alone does not make them registries when their entries carry the other tool's own keys.
_OTHER_TOOLS_ENTRY_KEYS = {
    "services": frozenset(("image", "build")),  # Compose: services -> name -> {image|build}
    "jobs": frozenset(("runs-on", "uses", "steps")),  # GitHub Actions: jobs -> id -> {runs-on}
}


def _another_tools_document(data: dict) -> bool:
    for key, entry_keys in _OTHER_TOOLS_ENTRY_KEYS.items():
        entries = data.get(key)
        if isinstance(entries, dict) and any(
            isinstance(entry, dict) and not entry_keys.isdisjoint(entry) for entry in entries.values()
        ):
            return True
    return False


def has_registry_modeline(text: str) -> bool:
    """The first line is a `# profreg` or `$schema=...profile-registry...` modeline."""
    start = 1 if text.startswith("\ufeff") else 0
    end = text.find("\n", start)
    first = text[start:end if end >= 0 else len(text)].strip()  # not a split: the rest is never copied
    return bool(_MODELINE_RE.match(first))


# File names the editors, the pre-commit hook and `validate DIR` treat as registry files
# whatever their content: `*profiles*`, `*registry*`, `*registries*` with a YAML suffix.
_REGISTRY_NAME_RE = re.compile(r"(profiles|registry|registries).*\.ya?ml$")


def named_like_registry(path: str) -> bool:
    """Whether a file's name marks it as a registry file (so it is checked even if it does
    not parse, is empty or binary)."""
    return _REGISTRY_NAME_RE.search(os.path.basename(path)) is not None


def looks_like_registry(parsed: SourceMap) -> bool:
    """Whether a YAML document is a registry file rather than some other YAML (SPEC section 7).

    Yes if its root mapping has a `registries`, `slug`, `profiles` or `default_profile_slug`
    key, or it has the legacy shape (unless it is plainly a Compose or GitHub Actions file),
    or its first line is a profreg modeline. A document that does not parse is judged by the
    top-level keys a line scan finds.
    """
    if has_registry_modeline(parsed.text):
        return True
    if parsed.fatal:
        return any(key in REGISTRY_MARKER_KEYS for key in iter_top_level_keys(parsed.text))
    data = parsed.data
    if not isinstance(data, dict):
        return False
    if REGISTRY_MARKER_KEYS & data.keys():
        return True
    return detect_form(data) == LEGACY and not _another_tools_document(data)
