"""Read-only JSON values: what a `Resolution` holds, so one result can be shared safely.

An application resolves the same profile many times a second; handing every caller the
same cached result is only safe if nobody can change it. `freeze` copies JSON-like data
into `FrozenDict`/`FrozenList` (a `dict`/`list` subclass whose mutating methods raise), so
the result still compares equal to plain data, passes `isinstance(x, dict)` checks and is
accepted by `json.dumps` and the canonical-JSON encoder. The standard library has no
frozen mapping that JSON encoders take (`types.MappingProxyType` is not serialisable and
tuples do not compare equal to lists), hence these two small classes.

`freeze` also checks that the value is one canonical JSON can carry exactly (SPEC section
5, fingerprint): string keys, integers within ±(2^53-1), finite floats. A frozen value is
therefore known to be safe and is never walked again.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from .errors import ValidationError
from .secrets import is_secret_key

# RFC 8785 numbers are IEEE 754 doubles: integers beyond this are not represented exactly.
MAX_SAFE_INTEGER = 2**53 - 1


def _read_only(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is read-only; use thaw() or to_json() for a copy to change")


class FrozenDict(dict):
    """A read-only `dict` of frozen JSON values (see `freeze`)."""

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __copy__(self) -> dict[str, Any]:
        return thaw(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (thaw(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenDict'")


class FrozenList(list):
    """A read-only `list` of frozen JSON values (see `freeze`)."""

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = _read_only
    sort = reverse = __iadd__ = __imul__ = _read_only

    def __copy__(self) -> list[Any]:
        return thaw(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenList'")


def _unsafe(path: str, problem: str) -> ValidationError:
    return ValidationError(f"{path}: {problem}" if path else problem, field=path)


def _under_secret(path: str) -> bool:
    """Whether a dotted path (`a.b[0].api_key`) passes through a secret-looking key: a
    message about the value there names its type, never the value (SPEC 6)."""
    return any(is_secret_key(part) for part in re.split(r"[.\[\]]+", path) if part)


# Values `freeze` returns as they are (ints and floats are checked, so not here).
_FINAL = frozenset((str, bool, type(None), FrozenDict, FrozenList))


def freeze(value: Any, path: str = "") -> Any:
    """A read-only copy of a JSON value; frozen parts are shared, not copied.

    ValidationError naming `path` (dotted, as in `effective_settings.ai.max`) for a value
    canonical JSON cannot carry exactly: a non-string key, an integer beyond ±(2^53-1),
    NaN or infinity, or anything that is not a JSON value.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None or kind is FrozenDict or kind is FrozenList:
        return value
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        shown = "the integer" if _under_secret(path) else f"the integer {value}"
        raise _unsafe(path, f"{shown} is outside ±(2^53-1), which JSON numbers cannot hold exactly")
    if kind is float:
        if math.isfinite(value):
            return value
        raise _unsafe(path, f"{'the value' if _under_secret(path) else value} is not a JSON number")
    if kind is dict or isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise _unsafe(path, f"the key {key!r} is not a string, which JSON object keys must be")
            if type(item) in _FINAL:  # already final: no call, no path built
                out[key] = item
            else:
                out[key] = freeze(item, f"{path}.{key}" if path else key)
        return FrozenDict(out)
    if kind is list or isinstance(value, (list, tuple)):
        return FrozenList([item if type(item) in _FINAL else freeze(item, f"{path}[{index}]")
                           for index, item in enumerate(value)])
    if isinstance(value, bool):  # a bool subclass: as its value
        return bool(value)
    if isinstance(value, int):
        return freeze(int(value), path)
    if isinstance(value, float):
        return freeze(float(value), path)
    if isinstance(value, str):
        return str(value)
    raise _unsafe(path, f"a {type(value).__name__} is not a JSON value")


def thaw(value: Any) -> Any:
    """A plain, independent copy (dicts and lists) of a JSON value, frozen or not."""
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(item) for item in value]
    return value
