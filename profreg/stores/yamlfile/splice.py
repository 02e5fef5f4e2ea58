"""Fast, exact edits of registry YAML: only the changed entries' lines are rewritten.

A whole-document ruamel round trip is slow on large files (ruamel is pure Python) and may
re-flow lines it did not need to touch. Most writes change a few entries
of block mappings: a profile under `profiles:`, the registry's `metadata`, its
`default_profile_slug`, a registry under `registries:`. This module finds those entries'
line ranges in the engine's node tree (`profreg.engine.reader` source map), round-trips just
those entries through ruamel (`roundtrip`: comments and layout inside them are kept), and
splices the result into the text. Every other line stays byte-for-byte as it was.

Anchors, aliases and merge keys are kept where they are: an entry that holds none of them
is rewritten as above; one that holds some is entered and only its changed fields are
rewritten (a field that is itself an alias is written out in full). Text that defines an
anchor is never rewritten, nor anything inside an anchored node (each alias would change
with it).

When the document does not fit (flow-style containers, an anchored entry that changes, a
merge key in a mapping that changes, a single-form file gaining a second registry, an
empty file, unusual line breaks), `NotSpliceable` is raised and the store uses the
whole-document round trip instead.

`Record.read_back` reads the new text's document without parsing all of it: each written
entry is read alone with the engine's reader, together with the lines after it that could
still belong to it (blank and comment lines, up to the next line that ends it), and the
entry before it where an insertion or a removal changes what ends that one. Every other
line, and what ends it, is as before, so it reads as before. Whatever that argument does not
cover (tabs, a missing final line break, limits near their bounds, an entry that reads other
than written) is left to a whole reading by the caller.
"""
from __future__ import annotations

import dataclasses
import io
import json
import marshal
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ... import engine
from ...engine.reader import YAML11_BREAKS
from ...limits import Limits
from ...model import EDIT_FIELD_ORDER
from .roundtrip import fresh, round_trip_yaml, shape_registry, shared_node_ids, sync_mapping

_MERGE_TAG = "tag:yaml.org,2002:merge"


class NotSpliceable(Exception):
    """The fast path does not apply to this document or change."""


_REMOVED = object()  # an edit's value when the entry goes

# Nesting a standalone read of an entry is held to, at most: libyaml's own nesting bound
# counts the whole document's levels, which a read of one entry does not see.
_MAX_READ_BACK_DEPTH = 500


@dataclass
class _Edit:
    start: int  # first line replaced (0-based)
    end: int  # line after the last one replaced (start == end: an insertion)
    lines: list[str]
    # What the edit means, for `Record.read_back`:
    path: tuple[str, ...] = ()  # the keys from the root to the mapping that holds the entry
    node: MappingNode | None = None  # that mapping
    name: str = ""  # the entry's key
    value: Any = _REMOVED  # its new value
    column: int = 0  # the column of the mapping's keys
    depth: int = 0  # the mapping's nesting (the root's is 0)
    new_start: int = -1  # where its lines start in the new text


class Record:
    """What one `splice_registry` call did, for `read_back` (filled when it returns)."""

    def __init__(self) -> None:
        self._splicer: _Splicer | None = None
        self._readable = False  # no tabs, ends with a line break: what `read_back` assumes
        self._text = ""  # the new text

    def read_back(self, limits: Limits, nodes: int | None) -> Any | None:
        """The new text's document data, as the engine's reader would read the whole text,
        from reading the written entries alone (see the module doc); None: not shown that
        way (the caller reads the whole text). `nodes`: the old text's node count
        (`ParsedYaml.nodes`); `limits`: the ones the whole reading would apply."""
        splicer = self._splicer
        if splicer is None or not self._readable or nodes is None:
            return None
        text = self._text
        if text.count("!") > limits.max_nodes or (len(text) * 4 > limits.max_bytes
                                                  and len(text.encode("utf-8")) > limits.max_bytes):
            return None  # the whole reading would stop at a limit
        values: dict[int, Any] = {}
        nodes_left = limits.max_nodes - nodes  # what the written entries may add, at most
        for index, edit in enumerate(splicer.edits):
            window = self._window(splicer, edit)
            if window is None:
                return None
            entry_text, expected = window
            if not entry_text:
                continue  # a removal that changes how nothing else ends
            depth_left = min(limits.max_depth, _MAX_READ_BACK_DEPTH) - edit.depth
            if nodes_left <= 0 or depth_left <= 0:
                return None
            read = engine.parse(entry_text, dataclasses.replace(limits, max_depth=depth_left, max_nodes=nodes_left))
            root = read.root
            if (read.fatal or read.empty or read.diagnostics or read.alias_expansion
                    or not isinstance(root, MappingNode) or root.flow_style
                    or not isinstance(read.data, dict) or list(read.data) != list(expected)
                    or not all(_same(read.data[k], v) for k, v in expected.items())):
                return None
            nodes_left -= read.nodes
            if edit.value is not _REMOVED:
                values[index] = read.data[edit.name]
        return self._rebuilt(splicer, values)

    def _window(self, splicer: "_Splicer", edit: _Edit) -> tuple[str, dict] | None:
        """(the text to read for `edit`, dedented, and the entries it must read as);
        ("", {}) when nothing needs reading; None when the edit is not one read back."""
        column, lines = edit.column, splicer.new_lines
        first = edit.new_start
        stop = first + len(edit.lines)
        expected: dict[str, Any] = {}
        if edit.start == edit.end or edit.value is _REMOVED:  # an insertion or a removal
            # What ends the entry before it changes: the same if the old line that followed
            # the change (now after the new entry, or after the entry before) ended it too.
            after = edit.end
            old = splicer.lines
            if after < len(old) and not (old[after].strip(" \n") and _indent(old[after]) <= column):
                previous = self._previous(splicer, edit)
                if previous is False:
                    return None
                if previous is not None:  # None: the first entry (what precedes ends nothing)
                    name, first, value = previous
                    expected[name] = value
        if edit.value is not _REMOVED:
            expected[edit.name] = edit.value
        elif not expected:
            return "", {}
        end = stop
        while end < len(lines) and (not lines[end].strip(" \n") or lines[end].lstrip(" ").startswith("#")):
            end += 1  # blank and comment lines: the entry's until a line ends it
        window = []
        for number in range(first, end):
            line = lines[number]
            spaces = _indent(line)
            if number < stop and line.strip(" \n") and spaces < column:
                return None  # a continuation left of the entry's column: not movable
            if number == first and (spaces != column or line[spaces:spaces + 1] in "#-?:"):
                return None
            dedented = line[min(spaces, column):]
            if dedented.startswith(("---", "...", "%")):
                return None  # document markers and directives where they would not be
            window.append(dedented)
        text = "".join(window)
        if "\t" in text or "\r" in text or any(ch in text for ch in YAML11_BREAKS):
            return None
        return text, expected

    def _previous(self, splicer: "_Splicer", edit: _Edit) -> tuple[str, int, Any] | None | bool:
        """(key, first line in the new text, value) of the entry before `edit`'s place in
        its mapping; None if there is none, False if it was itself removed or inserted."""
        before = None
        for key, _value in edit.node.value:
            if key.start_mark.line >= edit.start:
                break
            before = key
        if before is None:
            return None
        for other in splicer.edits:
            if other.node is edit.node and other.name == before.value and other is not edit:
                if other.value is _REMOVED or other.start == other.end:
                    return False
                return before.value, other.new_start, other.value
        line = before.start_mark.line
        shift = sum(len(e.lines) - (e.end - e.start) for e in splicer.edits if e.end <= line)
        return before.value, line + shift, _at(splicer.data, edit.path)[before.value]

    @staticmethod
    def _rebuilt(splicer: "_Splicer", values: dict[int, Any]) -> Any:
        """The old data with the edits applied (unchanged parts shared), in the new text's
        key order."""
        by_path: dict[tuple[str, ...], list[int]] = {}
        for index, edit in enumerate(splicer.edits):
            by_path.setdefault(edit.path, []).append(index)
        data = splicer.data
        rebuilt: dict[tuple[str, ...], dict] = {}
        for path, indexes in by_path.items():
            rebuilt[path] = _mapping_after(_at(data, path), [splicer.edits[i] for i in indexes],
                                           {splicer.edits[i].name: values[i] for i in indexes if i in values})
        paths = {path[:length] for path in rebuilt for length in range(len(path) + 1)}
        for path in sorted(paths, key=len, reverse=True):  # children before their parents
            if not path:
                continue
            parent = path[:-1]
            if parent not in rebuilt:
                rebuilt[parent] = dict(_at(data, parent))
            rebuilt[parent][path[-1]] = rebuilt[path]
        return rebuilt[()] if () in rebuilt else data


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _mapping_after(old: dict, edits: list[_Edit], values: dict[str, Any]) -> dict:
    """Mapping `old` after `edits` (of its entries), in the order the new text has them."""
    removed = {edit.name for edit in edits if edit.value is _REMOVED}
    inserted = sorted((edit.start, i, edit.name) for i, edit in enumerate(edits) if edit.start == edit.end)
    if not inserted:
        out = dict(old)
        for name in removed:
            del out[name]
        out.update(values)  # replaced entries keep their places
        return out
    starts = {key.value: key.start_mark.line for key, _value in edits[0].node.value}
    out, pending = {}, 0
    for name, value in old.items():
        while pending < len(inserted) and inserted[pending][0] <= starts[name]:
            out[inserted[pending][2]] = values[inserted[pending][2]]
            pending += 1
        if name not in removed:
            out[name] = values[name] if name in values else value
    for _line, _i, name in inserted[pending:]:
        out[name] = values[name]
    return out


def splice_registry(text: str, root: Node | None, data: Any, form: str | None, slug: str,
                    registry: dict | None, *, record: Record | None = None) -> str:
    """`text` with registry `slug` set to `registry` (None: removed); see the module doc.

    `record`: filled with what was done, for `Record.read_back`."""
    if root is None or form not in ("bundle", "single") or not isinstance(data, dict):
        raise NotSpliceable("no document to splice into")
    if any(ch in text for ch in "\r" + YAML11_BREAKS):
        raise NotSpliceable("line breaks other than \\n")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    splicer = _Splicer(text, lines, data)

    if form == "single":
        if data.get("slug") != slug or registry is None:
            raise NotSpliceable("a single-form file changing its registry set")
        shaped = shape_registry(registry, data, in_bundle=False)
        splicer.diff_mapping(root, data, shaped, ordered=True, nested="profiles", path=(), depth=0)
    else:
        key_node, registries_node = _entry(root, "registries")
        old_registries = data.get("registries")
        if (not isinstance(old_registries, dict) or not _block_mapping(registries_node)
                or not splicer.enterable(key_node, registries_node)):
            raise NotSpliceable("`registries` is not a non-empty block mapping of its own")
        old = old_registries.get(slug)
        where = {"path": ("registries",), "depth": 1}
        if registry is None:
            splicer.diff_mapping(registries_node, old_registries,
                                 {k: v for k, v in old_registries.items() if k != slug}, ordered=False, **where)
        elif old is None:
            shaped = shape_registry(registry, None, in_bundle=True)
            splicer.diff_mapping(registries_node, old_registries, {**old_registries, slug: shaped}, ordered=False,
                                 **where)
        else:
            registry_key, registry_node = _entry(registries_node, slug)
            if not _block_mapping(registry_node) or not splicer.enterable(registry_key, registry_node):
                raise NotSpliceable("the registry is not a block mapping of its own")
            shaped = shape_registry(registry, old, in_bundle=True)
            splicer.diff_mapping(registry_node, old, shaped, ordered=True, nested="profiles",
                                 path=("registries", slug), depth=2)
    spliced = splicer.apply()
    if record is not None:
        record._splicer, record._text = splicer, spliced
        record._readable = "\t" not in text and text.endswith("\n")
    return spliced


# --------------------------------------------------------------------------------------
# The node tree
# --------------------------------------------------------------------------------------
@dataclass
class _Extent:
    """Where an entry's text ends, and what in it ties it to other text."""

    last_line: int  # the line holding its last character
    aliases: bool = False  # it holds an alias (of text elsewhere, or within it)
    anchors: bool = False  # it defines an anchor (text that aliases elsewhere may repeat)
    merges: bool = False  # it holds a merge key

    @property
    def plain(self) -> bool:
        """Independent text: rewriting it changes nothing else, and it loads alone."""
        return not (self.aliases or self.anchors or self.merges)


# What may stand between the token before an alias and the alias's `*`: spaces, line
# breaks and indicators, never a comment (whose text could hold a `*` of its own).
_BEFORE_ALIAS = " \n:-?,[{"
_ALIAS_END = frozenset(" \t\n,[]{}")


class _ExtentScan:
    """The `_Extent` of an entry, from its nodes in document order.

    An alias's node is its anchor's, with that text's marks: a node that starts before
    the text already passed is an alias, and the alias's own `*name` is found in the text
    after what was passed. An anchored node's mark is at its properties (`&name`, or the
    tag before it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.extent = _Extent(0)

    def entry(self, key: Node, value: Node) -> _Extent:
        self.extent = _Extent(key.start_mark.line)
        floor = self._visit(key, key.start_mark.index, key.start_mark.line)
        self._visit(value, *floor)
        return self.extent

    def _visit(self, node: Node, floor: int, floor_line: int) -> tuple[int, int]:
        """Record `node`, whose text starts at or after index `floor` (on line
        `floor_line`); returns the index and line its text ends at."""
        extent, start = self.extent, node.start_mark.index
        if start < floor:
            return self._alias(floor, floor_line)
        if self.anchored(start):
            extent.anchors = True
        if isinstance(node, ScalarNode):
            end = node.end_mark
            last = end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
            extent.last_line = max(extent.last_line, last)
            return end.index, end.line
        at = (start, node.start_mark.line)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if key.tag == _MERGE_TAG:
                    extent.merges = True
                at = self._visit(value, *self._visit(key, *at))
        elif isinstance(node, SequenceNode):
            for item in node.value:
                at = self._visit(item, *at)
        end = node.end_mark
        if node.flow_style:  # its closing bracket is its last character
            extent.last_line = max(extent.last_line, end.line)
        return (end.index, end.line) if end.index > at[0] else at

    def _alias(self, floor: int, floor_line: int) -> tuple[int, int]:
        text = self.text
        at = text.find("*", floor)
        if at < 0 or text[floor:at].strip(_BEFORE_ALIAS):
            raise NotSpliceable("an alias whose text is not where its node is")
        end = at + 1
        while end < len(text) and text[end] not in _ALIAS_END:
            end += 1
        line = floor_line + text.count("\n", floor, at)
        self.extent.aliases = True
        self.extent.last_line = max(self.extent.last_line, line)
        return end, line

    def anchored(self, start: int) -> bool:
        """Whether the node whose text starts at `start` carries an anchor (`&a`, `!tag &a`)."""
        text = self.text
        if text.startswith("&", start):
            return True
        if not text.startswith("!", start):
            return False
        after_tag = start
        while after_tag < len(text) and text[after_tag] not in " \t\n":
            after_tag += 1
        while text.startswith(" ", after_tag):
            after_tag += 1
        return text.startswith("&", after_tag)


def _same(old: Any, new: Any) -> bool:
    """Equal plain data of the same kinds (`true` is not `1`, `1.0` is not `1`). Equal
    marshal encodings (the same kinds in the same key order, the common case) say so at a
    fraction of the cost of the two sorted encodings; version 2 writes no back-references,
    so data that shares objects (aliases) encodes as its copy does."""
    return old == new and (old is new or marshal.dumps(old, 2) == marshal.dumps(new, 2)
                           or json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True))


def _is_alias(key: Node, value: Node) -> bool:
    """Whether an entry's value is an alias: its node (its anchor's) starts before its key ends."""
    return value.start_mark.index < key.end_mark.index


def _block_mapping(node: Node | None) -> bool:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def _entry(mapping: Node, name: str) -> tuple[Node, Node]:
    for key, value in mapping.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return key, value
    raise NotSpliceable(f"no entry {name!r}")


# --------------------------------------------------------------------------------------
# Building the edits
# --------------------------------------------------------------------------------------
class _Splicer:
    def __init__(self, text: str, lines: list[str], data: Any) -> None:
        self.lines = lines
        self.data = data  # the document data `lines` hold
        self.new_lines: list[str] = []
        self.yaml = round_trip_yaml(text)
        self.yaml.explicit_start = False
        self.edits: list[_Edit] = []
        self.scan = _ExtentScan(text)

    def extent(self, key: Node, value: Node) -> _Extent:
        return self.scan.entry(key, value)

    def enterable(self, key: Node, value: Node) -> bool:
        """Whether the value's own fields may be edited: it is not an alias (its text is
        its anchor's) and carries no anchor (every alias of it would change too)."""
        return not _is_alias(key, value) and not self.scan.anchored(value.start_mark.index)

    def diff_mapping(self, node: MappingNode, old: dict, new: dict, *, ordered: bool,
                     nested: str | None = None, path: tuple[str, ...], depth: int) -> None:
        """Edits turning the entries of block mapping `node` (data `old`) into `new`.

        `nested`: the key whose own entries are diffed one level down (`profiles`);
        `path`, `depth`: where `node` is (the keys to it, its nesting)."""
        if not _block_mapping(node) or not new:
            # an emptied block mapping would read as null: the caller rewrites the whole entry
            raise NotSpliceable("not a non-empty block mapping")
        entries: dict[str, tuple[Node, Node]] = {}
        floor = node.start_mark.index
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or key.value in entries or key.start_mark.index < floor:
                raise NotSpliceable("unusual keys")  # (one that starts before the text passed: an alias)
            column = key.start_mark.column
            if self.lines[key.start_mark.line][:column].strip():
                raise NotSpliceable("an entry that does not start its line")
            entries[key.value] = (key, value)
            floor = key.end_mark.index
            if value.start_mark.index >= floor:  # (an alias's marks are its anchor's, earlier)
                floor = value.end_mark.index
        if set(entries) != set(old):
            raise NotSpliceable("node tree and data disagree")
        column = node.value[0][0].start_mark.column
        where = {"path": path, "node": node, "column": column, "depth": depth}
        for name, (key, value) in entries.items():
            if name not in new:
                extent = self.extent(key, value)
                if extent.anchors:
                    raise NotSpliceable(f"entry {name!r} defines an anchor")
                self.edits.append(_Edit(key.start_mark.line, extent.last_line + 1, [], name=name, **where))
            elif not _same(old[name], new[name]):
                enterable = (isinstance(old[name], dict) and isinstance(new[name], dict) and bool(new[name])
                             and _block_mapping(value) and self.enterable(key, value))
                if name == nested and enterable:
                    self.diff_mapping(value, old[name], new[name], ordered=False, path=path + (name,),
                                      depth=depth + 1)
                    continue
                extent = self.extent(key, value)
                if extent.plain:
                    self.replace_entry(key, name, new[name], where, extent)
                elif enterable:  # only the changed fields: the aliases and anchors beside them stay
                    self.diff_mapping(value, old[name], new[name], ordered=True, path=path + (name,),
                                      depth=depth + 1)
                elif _is_alias(key, value) and not extent.anchors:
                    # the value is an alias: written out in full (its anchor's text stays)
                    self.edits.append(_Edit(key.start_mark.line, extent.last_line + 1,
                                            self.render(name, new[name], column), name=name, value=new[name],
                                            **where))
                else:
                    raise NotSpliceable(f"entry {name!r} shares text through anchors or merge keys")
        added = [name for name in new if name not in entries]
        for name in added:
            at = self.insertion_line(node, name if ordered else None)
            self.edits.append(_Edit(at, at, self.render(name, new[name], column), name=name, value=new[name],
                                    **where))

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
                return self.extent(*pairs[before[-1]]).last_line + 1
            if later:
                return pairs[later[0]][0].start_mark.line
        return self.extent(*pairs[-1]).last_line + 1

    def replace_entry(self, key: Node, name: str, new_value: Any, where: dict, extent: _Extent) -> None:
        start, end = key.start_mark.line, extent.last_line + 1
        column = key.start_mark.column
        fragment = "".join(_dedent(line, column) for line in self.lines[start:end])
        try:
            loaded = self.yaml.load(fragment)
        except Exception as exc:  # the fragment alone may not be a document (tabs, directives)
            raise NotSpliceable(f"entry {name!r} does not load alone: {exc}") from None
        if not isinstance(loaded, dict) or [str(k) for k in loaded] != [name]:
            raise NotSpliceable(f"entry {name!r} does not load alone")
        sync_mapping(loaded, {name: new_value}, shared_node_ids(loaded))
        self.edits.append(_Edit(start, end, _indented(self.dump(loaded), column), name=name, value=new_value,
                                **where))

    def render(self, name: str, value: Any, column: int) -> list[str]:
        return _indented(self.dump(fresh({name: value})), column)

    def dump(self, node: Any) -> str:
        out = io.StringIO()
        self.yaml.dump(node, out)
        return out.getvalue()

    def apply(self) -> str:
        lines, out, done = self.lines, [], 0
        # top-down; insertions at one line keep their order
        for _index, edit in sorted(enumerate(self.edits), key=lambda item: (item[1].start, item[0])):
            if edit.start < done:
                raise NotSpliceable("overlapping edits")
            out += lines[done:edit.start]
            edit.new_start = len(out)
            out += edit.lines
            done = edit.end
        out += lines[done:]
        self.new_lines = out
        return "".join(out)


def _dedent(line: str, column: int) -> str:
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(stripped, column):]


def _indented(text: str, column: int) -> list[str]:
    pad = " " * column
    return [pad + line if line.strip() else line for line in text.splitlines(keepends=True)]
