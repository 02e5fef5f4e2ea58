"""Registry objects written out as documents: schema key order and YAML 1.2-safe dumping.

Used for `show`/`resolve --format yaml` and for the YAML files `profreg migrate` writes.
PyYAML's emitter quotes what YAML 1.1 would misread; profreg reads YAML 1.2 core schema,
which differs (`1e3` is a number, `0o17` an octal, `<<` a merge key), so strings that 1.2
would not read back as the same string are quoted as well: a dump always reads back equal.
Multi-line strings are written as literal blocks (`|`), as a person would write a prompt.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import yaml

from .engine.reader import YAML11_BREAKS, core_scalar
from .model import (
    METADATA_KEY_ORDER,
    POLICY_KEY_ORDER,
    PROFILE_KEY_ORDER,
    REGISTRY_KEY_ORDER,
    RUNTIME_KEY_ORDER,
)

try:  # libyaml's emitter, where installed: migrate and show write whole stores
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]



def _ordered(obj: Mapping[str, Any], order: Iterable[str]) -> dict[str, Any]:
    """Known keys in schema order, then any others as they came."""
    order = tuple(order)
    out = {key: obj[key] for key in order if key in obj}
    out.update((key, value) for key, value in obj.items() if key not in out)
    return out


def ordered_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(profile, PROFILE_KEY_ORDER)
    for key, order in (("runtime", RUNTIME_KEY_ORDER), ("policy", POLICY_KEY_ORDER),
                       ("metadata", METADATA_KEY_ORDER)):
        if isinstance(out.get(key), Mapping):
            out[key] = _ordered(out[key], order)
    return out


def ordered_registry(registry: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(registry, REGISTRY_KEY_ORDER)
    if isinstance(out.get("profiles"), Mapping):
        out["profiles"] = {key: ordered_profile(value) if isinstance(value, Mapping) else value
                           for key, value in out["profiles"].items()}
    if isinstance(out.get("metadata"), Mapping):
        out["metadata"] = _ordered(out["metadata"], METADATA_KEY_ORDER)
    return out


def bundle_document(registries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`{"registries": {slug: registry}}`, sorted by slug, each registry in schema order."""
    ordered = sorted((ordered_registry(r) for r in registries), key=lambda r: r["slug"])
    return {"registries": {registry["slug"]: registry for registry in ordered}}


_OTHER_LINE_BREAKS = frozenset("\r" + YAML11_BREAKS)


class _Yaml12SafeDumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """SafeDumper that also quotes strings YAML 1.2 core schema would not read back as strings."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if "\n" in data and not _OTHER_LINE_BREAKS.intersection(data):
            # A literal block reads as written; the emitter falls back to a quoted style by
            # itself where one cannot carry the text (trailing spaces, tabs, control characters).
            # Other line breaks would be re-indented as breaks: those strings stay quoted.
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        if _OTHER_LINE_BREAKS.intersection(data):
            # a YAML 1.1 emitter would fold a quoted scalar at them: escaped in double quotes
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        node = super().represent_str(data)
        if node.style is None and (data == "<<" or not _reads_as_string(data)):
            node.style = "'"
        return node


def _reads_as_string(text: str) -> bool:
    try:
        return isinstance(core_scalar(text), str)
    except ValueError:  # digits beyond Python's int limit: read back as a (refused) number
        return False


_Yaml12SafeDumper.add_representer(str, _Yaml12SafeDumper.represent_str)


def dump_yaml(data: Any) -> str:
    """Block-style YAML, keys in the given order, Unicode kept, readable by profreg as `data`."""
    return yaml.dump(data, Dumper=_Yaml12SafeDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)
