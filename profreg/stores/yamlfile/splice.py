"""Fast, exact edits of registry YAML: only the changed entries' lines are rewritten.

A whole-document ruamel round trip is slow on large files (ruamel is pure Python) and may
re-flow lines it did not need to touch. Most writes change a few entries
of block mappings: a profile under `profiles:`, the registry's `metadata`, its
`default_profile_slug`, a registry under `registries:`. This module finds those entries'
line ranges in the engine's node tree (`profreg.engine.reader` source map), round-trips just
those entries through ruamel (`roundtrip`: comments and layout inside them are kept), and
splices the result into the text. Every other line stays byte-for-byte as it was.

When the document does not fit (flow-style containers, anchors/aliases/merge keys, a
single-form file gaining a second registry, an empty file, unusual line breaks),
`NotSpliceable` is raised and the store uses the whole-document round trip instead.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ...engine.reader import YAML11_BREAKS
from ...model import EDIT_FIELD_ORDER
from .roundtrip import fresh, round_trip_yaml, shape_registry, shared_node_ids, sync_mapping

_MERGE_TAG = "tag:yaml.org,2002:merge"


class NotSpliceable(Exception):
    """The fast path does not apply to this document or change."""


@dataclass
class _Edit:
    start: int  # first line replaced (0-based)
    end: int  # line after the last one replaced (start == end: an insertion)
    lines: list[str]


def splice_registry(text: str, root: Node | None, data: Any, form: str | None, slug: str,
                    registry: dict | None) -> str:
    """`text` with registry `slug` set to `registry` (None: removed); see the module doc."""
    if root is None or form not in ("bundle", "single") or not isinstance(data, dict):
        raise NotSpliceable("no document to splice into")
    if any(ch in text for ch in "\r" + YAML11_BREAKS):
        raise NotSpliceable("line breaks other than \\n")
    _check_plain_tree(text, root)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    splicer = _Splicer(text, lines)

    if form == "single":
        if data.get("slug") != slug or registry is None:
            raise NotSpliceable("a single-form file changing its registry set")
        shaped = shape_registry(registry, data, in_bundle=False)
        splicer.diff_mapping(root, data, shaped, ordered=True, nested="profiles")
    else:
        key_node, registries_node = _entry(root, "registries")
        old_registries = data.get("registries")
        if not isinstance(old_registries, dict) or not _block_mapping(registries_node):
            raise NotSpliceable("`registries` is not a non-empty block mapping")
        old = old_registries.get(slug)
        if registry is None:
            splicer.diff_mapping(registries_node, old_registries,
                                 {k: v for k, v in old_registries.items() if k != slug}, ordered=False)
        elif old is None:
            shaped = shape_registry(registry, None, in_bundle=True)
            splicer.diff_mapping(registries_node, old_registries, {**old_registries, slug: shaped}, ordered=False)
        else:
            _key, registry_node = _entry(registries_node, slug)
            if not _block_mapping(registry_node):
                raise NotSpliceable("the registry is not a block mapping")
            shaped = shape_registry(registry, old, in_bundle=True)
            splicer.diff_mapping(registry_node, old, shaped, ordered=True, nested="profiles")
    return splicer.apply()


# --------------------------------------------------------------------------------------
# The node tree
# --------------------------------------------------------------------------------------
def _check_plain_tree(text: str, root: Node) -> None:
    """No aliases (a node reached twice) and no merge keys: entries are independent text."""
    if "*" not in text and "<<" not in text:
        return  # neither an alias nor a merge key can be written without these
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise NotSpliceable("the document uses aliases")
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if key.tag == _MERGE_TAG:
                    raise NotSpliceable("the document uses merge keys")
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _same(old: Any, new: Any) -> bool:
    """Equal plain data of the same kinds (`true` is not `1`, `1.0` is not `1`)."""
    return old == new and json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)


def _block_mapping(node: Node | None) -> bool:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def _entry(mapping: Node, name: str) -> tuple[Node, Node]:
    for key, value in mapping.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return key, value
    raise NotSpliceable(f"no entry {name!r}")


def _last_line(node: Node) -> int:
    """The line holding the node's last character."""
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _last_line(last[1] if isinstance(node, MappingNode) else last)
    end = node.end_mark
    if end.column == 0 and end.line > node.start_mark.line:
        return end.line - 1
    return end.line


# --------------------------------------------------------------------------------------
# Building the edits
# --------------------------------------------------------------------------------------
class _Splicer:
    def __init__(self, text: str, lines: list[str]) -> None:
        self.lines = lines
        self.yaml = round_trip_yaml(text)
        self.yaml.explicit_start = False
        self.edits: list[_Edit] = []

    def diff_mapping(self, node: MappingNode, old: dict, new: dict, *, ordered: bool,
                     nested: str | None = None) -> None:
        """Edits turning the entries of block mapping `node` (data `old`) into `new`.

        `nested`: the key whose own entries are diffed one level down (`profiles`)."""
        if not _block_mapping(node) or not new:
            # an emptied block mapping would read as null: the caller rewrites the whole entry
            raise NotSpliceable("not a non-empty block mapping")
        entries: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or key.value in entries:
                raise NotSpliceable("unusual keys")
            column = key.start_mark.column
            if self.lines[key.start_mark.line][:column].strip():
                raise NotSpliceable("an entry that does not start its line")
            entries[key.value] = (key, value)
        if set(entries) != set(old):
            raise NotSpliceable("node tree and data disagree")
        for name, (key, value) in entries.items():
            if name not in new:
                self.edits.append(_Edit(key.start_mark.line, _last_line(value) + 1, []))
            elif not _same(old[name], new[name]):
                if (name == nested and isinstance(old[name], dict) and isinstance(new[name], dict)
                        and new[name] and _block_mapping(value)):
                    self.diff_mapping(value, old[name], new[name], ordered=False)
                else:
                    self.replace_entry(key, value, name, new[name])
        added = [name for name in new if name not in entries]
        for name in added:
            at = self.insertion_line(node, name if ordered else None)
            self.edits.append(_Edit(at, at, self.render(name, new[name], node.value[0][0].start_mark.column)))

    def insertion_line(self, node: MappingNode, name: str | None) -> int:
        """Where a new entry goes: after the last entry that precedes it in the schema's
        field order (ordered mappings), else after the last entry."""
        pairs = node.value
        if name is not None and name in EDIT_FIELD_ORDER:
            rank = EDIT_FIELD_ORDER.index(name)
            before = [i for i, (key, _v) in enumerate(pairs)
                      if key.value in EDIT_FIELD_ORDER and EDIT_FIELD_ORDER.index(key.value) < rank]
            later = [i for i, (key, _v) in enumerate(pairs)
                     if key.value in EDIT_FIELD_ORDER and EDIT_FIELD_ORDER.index(key.value) > rank]
            if before:
                return _last_line(pairs[before[-1]][1]) + 1
            if later:
                return pairs[later[0]][0].start_mark.line
        return _last_line(pairs[-1][1]) + 1

    def replace_entry(self, key: Node, value: Node, name: str, new_value: Any) -> None:
        start, end = key.start_mark.line, _last_line(value) + 1
        column = key.start_mark.column
        fragment = "".join(_dedent(line, column) for line in self.lines[start:end])
        try:
            loaded = self.yaml.load(fragment)
        except Exception as exc:  # the fragment alone may not be a document (tabs, directives)
            raise NotSpliceable(f"entry {name!r} does not load alone: {exc}") from None
        if not isinstance(loaded, dict) or [str(k) for k in loaded] != [name]:
            raise NotSpliceable(f"entry {name!r} does not load alone")
        sync_mapping(loaded, {name: new_value}, shared_node_ids(loaded))
        self.edits.append(_Edit(start, end, _indent(self.dump(loaded), column)))

    def render(self, name: str, value: Any, column: int) -> list[str]:
        return _indent(self.dump(fresh({name: value})), column)

    def dump(self, node: Any) -> str:
        out = io.StringIO()
        self.yaml.dump(node, out)
        return out.getvalue()

    def apply(self) -> str:
        lines = list(self.lines)
        previous_start = len(lines) + 1
        # bottom-up, so earlier line numbers stay valid; insertions at one line keep their order
        ordered = sorted(enumerate(self.edits), key=lambda item: (item[1].start, item[0]), reverse=True)
        for _index, edit in ordered:
            if edit.end > previous_start:
                raise NotSpliceable("overlapping edits")
            lines[edit.start:edit.end] = edit.lines
            previous_start = edit.start
        return "".join(lines)


def _dedent(line: str, column: int) -> str:
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(stripped, column):]


def _indent(text: str, column: int) -> list[str]:
    pad = " " * column
    return [pad + line if line.strip() else line for line in text.splitlines(keepends=True)]
