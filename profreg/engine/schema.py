"""The schema layer: the JSON Schema's `$defs` as compiled validators.

Two back-ends answer to it. jsonschema-rs settles the yes/no question for the pieces
that are valid (the vast majority); a piece it rejects goes through the reference
`jsonschema` validator, which produces every reported error. Both are imported here and
only here, on first use: a resolve that never validates (a cached store file) loads
neither.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

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
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/{defname}"}, registry=registry)


@lru_cache(maxsize=None)
def fast_validator(defname: str):
    """jsonschema-rs for one `$defs` entry; None if it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional accelerator
        return None
    schema = load_schema()
    try:
        return jsonschema_rs.validator_for(
            {"$schema": schema["$schema"], "$ref": f"{schema['$id']}#/$defs/{defname}"},
            registry=jsonschema_rs.Registry([(schema["$id"], schema)]),
        )
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
    if _fast_verdict(defname, instance):
        return ()
    return schema_problems(reference_validator(defname).iter_errors(instance), prefix)


def schema_def(defname: str) -> dict[str, Any]:
    return load_schema()["$defs"][defname]
