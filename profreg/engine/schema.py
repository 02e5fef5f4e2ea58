"""The schema layer: the JSON Schema's `$defs` as compiled validators.

jsonschema-rs judges every piece and explains the ones it rejects: its errors are read
into the shape `report.schema_problems` reads (`SchemaError`: jsonschema's names for a
keyword's place, value and instance, the errors in jsonschema's order). The reference
`jsonschema` validator stays the fallback for what jsonschema-rs cannot take (integers
beyond 64 bits, keys that are not strings) or an error kind not read here; a test holds
the two explanations equal. Both are imported here and only here, on first use: a resolve
that never validates (a cached store file) loads neither, and a language server whose
documents jsonschema-rs can take never loads jsonschema (some 3 MB).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, NamedTuple

from ..pointer import pointer_split
from ..schemafile import load_schema
from .report import Problem, schema_problems


@lru_cache(maxsize=None)
def reference_validator(defname: str):
    """A compiled jsonschema validator for one `$defs` entry."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = load_schema()
    resource = Resource.from_contents(schema)
    registry = Registry().with_resource(schema["$id"], resource)
    return Draft202012Validator(_root(defname), registry=registry)


def _root(defname: str) -> dict[str, Any]:
    schema = load_schema()
    return {"$schema": schema["$schema"], "$ref": f"{schema['$id']}#/$defs/{defname}"}


@lru_cache(maxsize=None)
def fast_validator(defname: str):
    """jsonschema-rs for one `$defs` entry; None if it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional accelerator
        return None
    schema = load_schema()
    try:
        return jsonschema_rs.validator_for(_root(defname), registry=jsonschema_rs.Registry([(schema["$id"], schema)]))
    except Exception:  # pragma: no cover - an accelerator must never break validation
        return None


def _fast_verdict(defname: str, instance: Any) -> bool | None:
    """jsonschema-rs's yes/no, or None when it is not installed or cannot judge the value.

    The one place the back-end is chosen: every caller, whatever the document's size, gets
    jsonschema-rs first, so no size makes validation slower.
    """
    fast = fast_validator(defname)
    if fast is None:
        return None
    try:
        return fast.is_valid(instance)
    except Exception:  # values it cannot take (NaN, huge ints): ask jsonschema
        return None


def is_valid(defname: str, instance: Any) -> bool:
    verdict = _fast_verdict(defname, instance)
    return reference_validator(defname).is_valid(instance) if verdict is None else verdict


def problems(defname: str, instance: Any, prefix: str) -> Iterable[Problem]:
    """Every schema violation of `instance` against `$defs/defname`, pointers under `prefix`."""
    verdict = _fast_verdict(defname, instance)
    if verdict:
        return ()
    errors = fast_errors(defname, instance) if verdict is False else None
    if errors is None:
        errors = reference_errors(defname, instance)
    return schema_problems(errors, prefix)


def reference_errors(defname: str, instance: Any) -> list:
    """jsonschema's own errors for an instance, in its order."""
    return list(reference_validator(defname).iter_errors(instance))


def schema_def(defname: str) -> dict[str, Any]:
    return load_schema()["$defs"][defname]


# --------------------------------------------------------------------------------------
# jsonschema-rs's errors, read as jsonschema's
# --------------------------------------------------------------------------------------
class SchemaError(NamedTuple):
    """One schema error under the names jsonschema gives its parts (what `schema_problems` reads)."""

    validator: str  # the keyword that failed
    validator_value: Any  # its value in the schema
    schema: dict[str, Any]  # the schema object holding it
    instance: Any  # the value it failed on (the key, for a key `propertyNames` rejects)
    absolute_path: tuple  # where that value is in the instance
    relative_schema_path: tuple  # the keywords on the way (only tested for `propertyNames`)
    message: str  # jsonschema's wording, for keywords `schema_problems` does not word itself
    order: tuple  # where jsonschema's walk meets it


# jsonschema's messages for the keywords whose wording `schema_problems` takes as it is
_MESSAGES = {
    "required": lambda value, instance, name: f"{name!r} is a required property",
    "minProperties": lambda value, instance, name: (
        f"{instance!r} {'should be non-empty' if value == 1 else 'does not have enough properties'}"),
}
# the error kinds read here; `schema_problems` words each without jsonschema's message
_READ = frozenset({"type", "pattern", "additionalProperties", "minimum", "propertyNames", *_MESSAGES})
# the keywords jsonschema's walk descends through, each to a child schema
_DESCENDING = frozenset({"$ref", "properties", "additionalProperties", "items"})


def fast_errors(defname: str, instance: Any) -> list[SchemaError] | None:
    """jsonschema-rs's errors for an instance it rejects, as jsonschema would give them; None
    when one of them is of a kind not read here (or jsonschema-rs fails): ask jsonschema."""
    try:
        found = [_read(defname, error, instance) for error in fast_validator(defname).iter_errors(instance)]
    except Exception:  # an accelerator must never break validation
        return None
    if not found or None in found:
        return None
    return sorted(found, key=lambda error: error.order)


def _read(defname: str, error: Any, instance: Any) -> SchemaError | None:
    kind = error.kind.name
    if kind not in _READ:
        return None
    where = _instance_path(instance, error.instance_path)
    if where is None:
        return None
    location = pointer_split(error.absolute_keyword_location.partition("#")[2])
    holder = _at(load_schema(), location[:-1])
    keyword = location[-1]
    value = holder[keyword]
    failed = _at(instance, where)
    key_order: tuple = ()
    if kind == "propertyNames":  # jsonschema reports the key, failing the names' own schema
        inner = error.kind.as_dict()["error"]
        inner_kind = inner.kind.name
        if inner_kind not in ("pattern", "type", "not"):
            return None
        keys = list(failed)
        failed = inner.instance
        key_order = (keys.index(failed),) if failed in keys else ()
        kind = inner_kind
    order = _walk_order(_root(defname), instance, list(where), location)
    if order is None:
        return None
    name = error.kind.as_dict().get("property") if kind == "required" else None
    message = _MESSAGES[kind](value, failed, name) if kind in _MESSAGES else error.message
    return SchemaError(kind, value, holder, failed, where, tuple(location), message, order + key_order)


def _instance_path(instance: Any, tokens: Iterable) -> tuple | None:
    """jsonschema-rs's instance path with keys as the instance has them: it reads a key of
    digits as an index (`"12"` comes back as 12, `"0123"` as 123: the one key of digits
    naming that number) and drops an empty key. None if the path does not lead through the
    instance (jsonschema then explains it)."""
    path, node = [], instance
    for token in tokens:
        if isinstance(node, dict):
            if isinstance(token, int) and str(token) not in node:
                written = [key for key in node if isinstance(key, str) and key.isdigit() and int(key) == token]
                token = written[0] if len(written) == 1 else None
            token = str(token) if token is not None else None
            if token not in node:
                return None
        elif not (isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node)):
            return None
        path.append(token)
        node = node[token]
    return tuple(path)


def _at(document: Any, tokens: Iterable) -> Any:
    """The value at pointer tokens (list indexes as ints or digit strings)."""
    node = document
    for token in tokens:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _walk_order(node: dict[str, Any], instance: Any, where: list, location: list[str],
                here: list[str] | None = None) -> tuple | None:
    """Where jsonschema's walk reaches the keyword at `location` (the schema file's pointer
    tokens) on the value at `where`: at each schema object it takes the keywords in the
    file's order, `properties` in the schema's order, other keys and items in the instance's.
    None if no walk reaches it."""
    here = here or []
    for index, (keyword, value) in enumerate(node.items()):
        if not where and here + [keyword] == location:
            return (index,)
        if keyword not in _DESCENDING:
            continue
        found = None
        if keyword == "$ref" and isinstance(value, str):
            target = pointer_split(value.partition("#")[2])
            found = _walk_order(_at(load_schema(), target), instance, where, location, target)
        elif where and isinstance(value, dict):
            step, rest = where[0], where[1:]
            if keyword == "properties" and isinstance(instance, dict) and step in value and step in instance:
                child = _walk_order(value[step], instance[step], rest, location, here + [keyword, step])
                found = None if child is None else (list(value).index(step),) + child
            elif keyword == "additionalProperties" and isinstance(instance, dict) and step in instance:
                child = _walk_order(value, instance[step], rest, location, here + [keyword])
                found = None if child is None else (list(instance).index(step),) + child
            elif keyword == "items" and isinstance(instance, list) and isinstance(step, int):
                child = _walk_order(value, instance[step], rest, location, here + [keyword])
                found = None if child is None else (step,) + child
        if found is not None:
            return (index,) + found
    return None
