"""Registry objects written out as documents: schema key order and YAML 1.2-safe dumping.

Used for `show`/`resolve --format yaml` and for the YAML files `profreg migrate` writes.
The key orders come from the model; the text from `profreg.yamlemit`, PyYAML's emitter,
which `dump_yaml` loads when a process first writes YAML (a `resolve` printing JSON or
text never does).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .model import PROFILE_KEY_ORDER, PROFILE_SECTIONS, REGISTRY_KEY_ORDER, REGISTRY_SECTIONS, SECTION_KEY_ORDER


def _ordered(obj: Mapping[str, Any], order: Iterable[str]) -> dict[str, Any]:
    """Known keys in schema order, then any others as they came."""
    order = tuple(order)
    out = {key: obj[key] for key in order if key in obj}
    out.update((key, value) for key, value in obj.items() if key not in out)
    return out


def ordered_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(profile, PROFILE_KEY_ORDER)
    for key in PROFILE_SECTIONS:
        if isinstance(out.get(key), Mapping):
            out[key] = _ordered(out[key], SECTION_KEY_ORDER[key])
    return out


def ordered_registry(registry: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(registry, REGISTRY_KEY_ORDER)
    if isinstance(out.get("profiles"), Mapping):
        out["profiles"] = {key: ordered_profile(value) if isinstance(value, Mapping) else value
                           for key, value in out["profiles"].items()}
    for key in REGISTRY_SECTIONS:
        if isinstance(out.get(key), Mapping):
            out[key] = _ordered(out[key], SECTION_KEY_ORDER[key])
    return out


def bundle_document(registries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`{"registries": {slug: registry}}`, sorted by slug, each registry in schema order."""
    ordered = sorted((ordered_registry(r) for r in registries), key=lambda r: r["slug"])
    return {"registries": {registry["slug"]: registry for registry in ordered}}


def dump_yaml(data: Any) -> str:
    """Block-style YAML, keys in the given order, Unicode kept, readable by profreg as `data`."""
    from .yamlemit import emit_yaml  # PyYAML's emitter: loaded by processes that write YAML

    return emit_yaml(data)
