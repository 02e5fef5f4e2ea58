"""Masking of secret-looking values in output (SPEC section 6: `resolve`, and `show`).

A key looks secret when, lower-cased and with `-`, `_`, `.` and spaces removed, it contains
one of the markers below (`openai-api-key`, `API_KEY`, `authToken`, `db.password`, ...).
Its value is printed as `***`; the key stays. Null and empty values are left as they are
(nothing to hide). One exception keeps settings readable: a number under a key whose only
marker is `token` (`max_tokens: 4096`, `token_limit`) is a count, not a secret; a number
under `password`, `secret`, ... is still masked.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"
SECRET_MARKERS = ("apikey", "token", "secret", "password", "credential")
_COUNT_MARKER = "token"
_SEPARATORS = re.compile(r"[-_.\s]+")


def _markers(key: object) -> list[str]:
    if not isinstance(key, str):
        return []
    flat = _SEPARATORS.sub("", key.lower())
    return [marker for marker in SECRET_MARKERS if marker in flat]


def is_secret_key(key: object) -> bool:
    return bool(_markers(key))


def _masked(key: object, value: Any) -> bool:
    markers = _markers(key)
    if not markers or value is None or value in ("", [], {}):
        return False
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return not (is_number and markers == [_COUNT_MARKER])


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's value replaced by `***`."""
    if isinstance(value, dict):
        return {k: MASK if _masked(k, v) else mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value
