"""YAML 1.2-safe text from plain data, with PyYAML's emitter (libyaml's where installed).

PyYAML's emitter quotes what YAML 1.1 would misread; profreg reads YAML 1.2 core schema,
which differs (`1e3` is a number, `0o17` an octal, `<<` a merge key), so strings that 1.2
would not read back as the same string are quoted as well: a dump always reads back equal.
Multi-line strings are written as literal blocks (`|`), as a person would write a prompt.
Reached through `profreg.yamldump.dump_yaml`.
"""
from __future__ import annotations

import io
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

from .engine.reader import YAML11_BREAKS, core_scalar

try:  # libyaml's emitter, where installed: migrate and show write whole stores
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]


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

_DUMP_OPTIONS = {"sort_keys": False, "allow_unicode": True, "default_flow_style": False, "width": 100}
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_PLAIN_DATA = (dict, list, str, int, float, bool, type(None))


def emit_yaml(data: Any) -> str:
    """Block-style YAML of `data`, keys in the given order, Unicode kept.

    Plain data (dicts, lists, strings, numbers, booleans, None) goes to the emitter as events
    straight from the objects: PyYAML's representer would first build a node for every
    value and keep the whole tree, which the cyclic collector then scans again and again
    while a large registry is written. The events are the ones the representer and the
    serializer would produce (same styles, tags, anchors and aliases); any other type takes
    PyYAML's own path."""
    stream = io.StringIO()
    dumper = _Yaml12SafeDumper(stream, **_DUMP_OPTIONS)
    try:
        anchors = _anchors(data)
        dumper.open()
        if anchors is None:
            dumper.represent(data)
        else:
            _Events(dumper, anchors).document(data)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


def _anchors(data: Any) -> dict[int, str] | None:
    """id -> anchor of every dict or list met twice (numbered as the serializer numbers them:
    in order of their second meeting, depth first), or None if `data` holds anything but
    plain data."""
    seen: set[int] = set()
    anchors: dict[int, str] = {}
    stack = [data]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind not in _PLAIN_DATA:
            return None
        if kind is dict or kind is list:
            if id(item) in seen:
                if id(item) not in anchors:
                    anchors[id(item)] = "id%03d" % (len(anchors) + 1)
                continue
            seen.add(id(item))
            if kind is dict:
                for key, value in reversed(item.items()):
                    stack += (value, key)
            else:
                stack.extend(reversed(item))
    return anchors


class _Events:
    """One document's events, from plain data, as `_Yaml12SafeDumper` would emit them."""

    def __init__(self, dumper: _Yaml12SafeDumper, anchors: dict[int, str]) -> None:
        self.dumper = dumper
        self.anchors = anchors
        self.emitted: set[int] = set()
        self.scalars: dict[tuple[type, Any], ScalarEvent] = {}

    def document(self, data: Any) -> None:
        self.dumper.emit(DocumentStartEvent(explicit=False))
        self.value(data)
        self.dumper.emit(DocumentEndEvent(explicit=False))

    def value(self, data: Any) -> None:
        emit = self.dumper.emit
        kind = type(data)
        if kind is dict or kind is list:
            anchor = self.anchors.get(id(data))
            if anchor is not None:
                if id(data) in self.emitted:
                    emit(AliasEvent(anchor))
                    return
                self.emitted.add(id(data))
            if kind is dict:
                emit(MappingStartEvent(anchor, _MAP, True, flow_style=False))
                for key, item in data.items():
                    self.value(key)
                    self.value(item)
                emit(MappingEndEvent())
            else:
                emit(SequenceStartEvent(anchor, _SEQ, True, flow_style=False))
                for item in data:
                    self.value(item)
                emit(SequenceEndEvent())
            return
        # strings and integers repeat (keys, model names, tools): each is represented once;
        # not floats, whose equal values can print differently (0.0 and -0.0)
        memo = kind is str or kind is int
        event = self.scalars.get((kind, data)) if memo else None
        if event is None:
            node = self.dumper.represent_data(data)  # the representer's own choice of style
            implicit = (self.dumper.resolve(ScalarNode, node.value, (True, False)) == node.tag,
                        self.dumper.resolve(ScalarNode, node.value, (False, True)) == node.tag)
            event = ScalarEvent(None, node.tag, implicit, node.value, style=node.style)
            if memo:
                self.scalars[(kind, data)] = event
        emit(event)
