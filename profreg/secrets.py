"""Masking of secret-looking values in output (SPEC section 6: `resolve`, and `show`).

A key looks secret when, lower-cased and with `-`, `_`, `.` and spaces removed, it contains
one of the markers below (`openai-api-key`, `API_KEY`, `authToken`, `db.password`, ...).
Its value is printed as `***`; the key stays. Numbers, booleans and null are left as they are:
they carry no secret and masking them hides settings such as `max_tokens: 100`.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"
SECRET_MARKERS = ("apikey", "token", "secret", "password", "credential")
_SEPARATORS = re.compile(r"[-_.\s]+")


def is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    flat = _SEPARATORS.sub("", key.lower())
    return any(marker in flat for marker in SECRET_MARKERS)


def _maskable(value: Any) -> bool:
    return isinstance(value, (str, list, dict)) and value not in ("", [], {})


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's (string or structured) value masked."""
    if isinstance(value, dict):
        return {
            k: MASK if is_secret_key(k) and _maskable(v) else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value
