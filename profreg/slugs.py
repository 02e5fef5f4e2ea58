"""Slug rules shared by documents (must already be canonical) and people (canonicalised first)."""
from __future__ import annotations

import re

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$"
SLUG_RE = re.compile(SLUG_PATTERN)


def is_slug(value: object) -> bool:
    return isinstance(value, str) and SLUG_RE.match(value) is not None


def canonical_slug(value: str) -> str:
    """Trim and lower-case input from a person (CLI arguments)."""
    return value.strip().lower()
