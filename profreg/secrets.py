"""Masking of secret-looking values in output (SPEC section 6).

A key looks secret when, lower-cased and with `-`, `_`, `.` and spaces removed, it contains
one of the markers below (`openai-api-key`, `API_KEY`, `authToken`, `db.password`,
`private_key`, `Set-Cookie`, ...). Its value is printed as `***`; the key stays. Null and
empty values are left as they are (nothing to hide). Numbers under a secret key are masked
too (`api_token: 123456`), with one exception that keeps settings readable: a number under
a key whose only marker is `token` and that names a count (`max_tokens: 4096`,
`token_limit`, `num_tokens`) is shown.

Anywhere in a string, the password of a URL's `user:password@` is masked as well
(`postgres://app:***@db/x`), whatever the key. The same rules apply to every place profile
content is printed: `show`, `resolve`, `migrate --dry-run`, messages and the language
server's hover.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .pointer import pointer_split

MASK = "***"
SECRET_MARKERS = ("apikey", "token", "secret", "password", "passwd", "credential", "privatekey",
                  "authorization", "cookie")
_COUNT_MARKER = "token"
# In a flattened key whose only marker is `token`: words that make a number a count.
_COUNT_WORDS = ("tokens", "max", "min", "limit", "count", "num", "budget", "length", "size")
_SEPARATORS = re.compile(r"[-_.\s]+")
# scheme://user:password@ — the password is group 2 (userinfo ends at the first `@`)
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)")


def _flat(key: object) -> str:
    return _SEPARATORS.sub("", key.lower()) if isinstance(key, str) else ""


def _markers(key: object) -> list[str]:
    flat = _flat(key)
    return [marker for marker in SECRET_MARKERS if marker in flat] if flat else []


def is_secret_key(key: object) -> bool:
    return _is_secret_text(key) if isinstance(key, str) else False


# Bounded, and large enough for every key of a large registry: the engine asks once per
# profile on each validation, and the language server validates on each keystroke.
@lru_cache(maxsize=1 << 15)
def _is_secret_text(key: str) -> bool:
    return bool(_markers(key))


def _is_count(key: object, markers: list[str]) -> bool:
    flat = _flat(key)
    return markers == [_COUNT_MARKER] and any(word in flat for word in _COUNT_WORDS)


def _masked(key: object, value: Any) -> bool:
    markers = _markers(key)
    if not markers or value is None or value in ("", [], {}):
        return False
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return not (is_number and _is_count(key, markers))


def under_secret_key(pointer: str) -> bool:
    """Whether the JSON Pointer passes through a secret-looking key: a message never quotes a
    value found there (SPEC section 6)."""
    return any(is_secret_key(token) for token in pointer_split(pointer))


def is_masked(key: object, value: Any) -> bool:
    """Whether `value` under `key` is printed as `***` (for messages that would quote it)."""
    return _masked(key, value)


def mask_text(text: str) -> str:
    """`text` with the password of every `scheme://user:password@` replaced by `***`."""
    if "://" not in text:
        return text
    return _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's value replaced by `***`, and URL
    passwords masked in every string."""
    # iterative (no recursion limit): the input's depth is bounded, but not by this module
    if isinstance(value, str):
        return mask_text(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, slot, item = stack.pop()
        if isinstance(item, dict):
            out: dict[Any, Any] = {}
            for key, child in item.items():
                if _masked(key, child):
                    out[key] = MASK
                else:
                    out[key] = None
                    stack.append((out, key, child))
            parent[slot] = out
        elif isinstance(item, list):
            copy: list[Any] = [None] * len(item)
            stack.extend((copy, index, child) for index, child in enumerate(item))
            parent[slot] = copy
        elif isinstance(item, str):
            parent[slot] = mask_text(item)
        else:
            parent[slot] = item
    return root[0]
