"""Re-validation that reuses work between edits, with results identical to a full run.

A registry document is a mapping whose big part is `profiles:` (or `registries:` ->
registry -> `profiles:`). The text is split along that structure into *leaf blocks*
(one top-level key, one registry field, one profile), each parsed on its own
(dedented) with `profreg.engine.parse` and cached by its text. The leaves' data is
re-assembled into the document's data, and `AssembledYaml` offers the source-map
methods the engine calls on a `ParsedYaml`, so `profreg.engine.validate_parsed`
runs unchanged on it (with its per-profile result cache). Nothing here validates.

Anchors and aliases may cross blocks (hand-written registries share middlewares with
`&std` / `*std` and `<<: *base`): a block whose aliases name anchors of earlier blocks is
parsed together with those blocks' text in front of it, as the whole document would read
it. Whenever the split is not certain to mean what the whole text means (tabs or odd line
breaks, directives or document markers, a merge key at a split level, a block that does
not parse cleanly, chained aliases across blocks, duplicate keys across leaves, alias
expansion over the limit in total, a range that points at a container), the document is
parsed whole instead, so the result is always the engine's own.
"""
from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from profreg.engine import Limits, ParsedYaml, Report, Span, parse, validate_parsed
from profreg.pointer import pointer_escape, pointer_split
from profreg.engine.reader import YAML11_BREAKS, LineIndex
from profreg.engine.schema import accelerator_loaded
from profreg.limits import current_limits

# A header that opens a mapping we split: a plain key, nothing after the colon.
_HEADER = re.compile(r"( *)([A-Za-z0-9_][A-Za-z0-9_.-]*):[ \t]*(?:#[^\r\n]*)?(?:\r\n|\n|\Z)")
# Each check is guarded by a substring test: plain `in` is far faster than a regex scan.
_UNSAFE_CHECKS = (
    ("\r", re.compile(r"\r(?!\n)")),  # lone CR: the line scans below split at \n only
    ("\t", re.compile(r"(?:^|\n)[ ]*\t")),  # tab indentation
    ("---", re.compile(r"(?:^|\n)---")),  # document markers and directives
    ("...", re.compile(r"(?:^|\n)\.\.\.")),
    ("%", re.compile(r"(?:^|\n)%")),
)
# Anchor and alias names wherever a node property may stand (after a space, a line start,
# or `[`, `{`, `,`, `:`), so also some inside strings and comments: a name too many only
# adds a block to parse with or falls back to a whole parse, while a real anchor missed
# could pair an alias with the wrong block (a real alias missed fails its block's parse).
_ANCHOR = re.compile(r"(?:^|[ \t\n\[{,:])&([^ \t\r\n\[\]{},]+)")
_ALIAS = re.compile(r"(?:^|[ \t\n\[{,:])\*([^ \t\r\n\[\]{},]+)")
# From this size on, documents are validated with jsonschema-rs (much faster per profile,
# but a sizeable resident library). Below it the pure-Python validator is quick enough on
# open and per edited profile, and a server that only sees small registries stays small.
# Results are identical either way (the README's benchmark notes have the figures).
ACCELERATE_FROM_BYTES = 128 * 1024
# Characters some YAML readers treat as line breaks, and a byte-order mark.
_UNSAFE_CHARS = (*YAML11_BREAKS, "\ufeff")


def _unsafe_text(text: str) -> bool:
    if any(ch in text for ch in _UNSAFE_CHARS):
        return True
    return any(needle in text and pattern.search(text) for needle, pattern in _UNSAFE_CHECKS)
# Whitespace in the patterns below is YAML's (space, tab, line breaks), never Python's
# Unicode `\s`: U+00A0 and friends are ordinary characters of a key.
# First characters of a line that cannot start a simple `key:` entry of a block mapping
# (`<` too: a merge key `<<` at a split level would merge into the split mapping itself).
_NOT_A_KEY_START = frozenset("-?:[]{}%&*!|>@`,<")


class _Unsafe(Exception):
    """The split cannot be trusted for this text: parse the document whole."""


@dataclass(eq=False, slots=True)
class Leaf:
    """A block holding one key of its enclosing mapping, parsed on its own."""

    start: int  # offset of the block in the document
    end: int
    indent: int  # spaces removed from each line before parsing
    depth: int  # nesting depth of the enclosing mapping in the document
    key: str = ""
    value: Any = None
    cache_key: tuple = ()
    # Earlier leaves whose text is parsed in front of this one (their anchors are used here);
    # each of them parsed on its own, so any alias of theirs is to an anchor of their own.
    with_leaves: tuple["Leaf", ...] = ()


@dataclass(eq=False, slots=True)
class Container:
    """A mapping split into child blocks (the document root, `profiles:`, a registry)."""

    start: int
    end: int
    children: dict[str, "Leaf | Container"] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        return {k: (c.value if isinstance(c, Leaf) else c.data()) for k, c in self.children.items()}


@dataclass
class _LeafParse:
    key: str
    value: Any
    text: str  # the dedented text that was parsed (after the texts of `with_leaves`, if any)
    alias_expansion: int = 0
    # Line in `text` where each part starts: one per leaf parsed in front, then the leaf's own.
    part_lines: tuple[int, ...] = (0,)


@lru_cache(maxsize=64)
def _entry_pattern(indent: int) -> re.Pattern:
    return re.compile(r"\n {%d}[^ \t\r\n#]" % indent)


@lru_cache(maxsize=64)
def _shallower_pattern(indent: int) -> re.Pattern:
    return re.compile(r"\n {0,%d}[^ \t\r\n#]" % (indent - 1))


def _leading_spaces(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class IncrementalValidator:
    """Validates successive versions of one document, reusing unchanged blocks."""

    # Mappings whose entries become their own blocks, by path pattern (`*` = any key).
    SPLIT_PATHS = {("profiles",), ("registries",), ("registries", "*"), ("registries", "*", "profiles")}

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or current_limits()
        self._leaves: dict[tuple, _LeafParse] = {}
        self._profile_results: dict[tuple, list] = {}
        self._previous_leaves: dict[tuple, _LeafParse] = {}
        self._current_leaves: dict[tuple, _LeafParse] = {}
        self._split_size = 0
        self._headers: set[tuple] = set()
        self._previous_headers: set[tuple] = set()
        self._current_headers: set[tuple] = set()
        self.last_mode = ""  # "incremental" or "full": for tests and benchmarks

    # -- public ---------------------------------------------------------------------
    def validate(self, text: str) -> Report:
        accelerate = len(text) >= ACCELERATE_FROM_BYTES or accelerator_loaded()
        self._previous_leaves, self._current_leaves = self._leaves, {}
        self._previous_headers, self._current_headers = self._headers, set()
        try:
            root, leaves = self._split(text)
        except _Unsafe:
            # keep what was parsed (the next edit may make the split safe again), bounded
            kept = {**self._previous_leaves, **self._current_leaves}
            self._leaves = kept if len(kept) <= 2 * self._split_size + 64 else self._current_leaves
            self.last_mode = "full"
            return validate_parsed(parse(text, self.limits), accelerate=accelerate)
        finally:
            self._previous_leaves = {}
            self._previous_headers = set()
        self._leaves = self._current_leaves
        self._headers = self._current_headers
        self._split_size = len(leaves)
        assembled = AssembledYaml(text, root, self)
        keys_by_id = {id(leaf.value): leaf.cache_key for leaf in leaves}
        if len(self._profile_results) > 2 * len(leaves) + 64:  # drop results of edited-away blocks
            self._profile_results = {k: v for k, v in self._profile_results.items() if k in self._leaves}
        self.last_mode = "incremental"
        return validate_parsed(
            assembled,
            profile_cache=self._profile_results,
            profile_key=lambda pointer, profile: keys_by_id.get(id(profile)),
            accelerate=accelerate,
        )

    # -- splitting ------------------------------------------------------------------
    def _split(self, text: str) -> tuple[Container, list[Leaf]]:
        if not text or len(text) > self.limits.max_bytes or _unsafe_text(text):
            raise _Unsafe
        leaves: list[Leaf] = []
        self._anchor_leaves: dict[str, Leaf] = {}  # anchor name -> the last leaf defining it
        self._alias_expansion = 0
        root = self._mapping(text, 0, len(text), 0, (), 0, leaves)
        return root, leaves

    def _mapping(self, text: str, start: int, end: int, indent: int, path: tuple, depth: int,
                 leaves: list[Leaf]) -> Container:
        """Split the entries of a block mapping whose keys sit at column `indent`."""
        # Patterns start with a literal newline so the regex engine can skip ahead quickly.
        entry = _entry_pattern(indent)
        entry_starts = [m.start() + 1 for m in entry.finditer(text, max(0, start - 1), end)]
        if start == 0 and indent == 0 and text[:1] not in ("", " ", "\t", "\n", "\r", "#"):
            entry_starts.insert(0, 0)
        if not entry_starts:
            raise _Unsafe
        # Anywhere in the mapping only comments, blank lines, or lines indented deeper
        # than the keys may appear besides the keys themselves.
        if indent and _shallower_pattern(indent).search(text, max(0, start - 1), end):
            raise _Unsafe
        if re.search(r"(?:^|\n)[ ]*[^ \t\r\n#]", text[start:entry_starts[0]]):
            raise _Unsafe
        container = Container(start, end)
        bounds = entry_starts[1:] + [end]
        children = container.children
        for i, (s, e) in enumerate(zip(entry_starts, bounds)):
            if text[s + indent] in _NOT_A_KEY_START:
                raise _Unsafe
            key, child = self._entry(text, start if i == 0 else s, e, s, indent, path, depth, leaves)
            if key in children:
                raise _Unsafe  # a duplicate key: the whole parse reports it
            children[key] = child
        return container

    def _entry(self, text: str, start: int, end: int, line_start: int, indent: int, path: tuple,
               depth: int, leaves: list[Leaf]):
        if (path[-1:] != ("profiles",)) and len(path) < 3:  # profiles are leaves, never split
            header = _HEADER.match(text, line_start, end)
            if header is not None and len(header.group(1)) == indent:
                key = header.group(2)
                child_path = path + (key,)
                if self._splits(child_path) and header.end() < end:
                    first = re.compile(r"(?:^|\n)( *)[^ \t\r\n#]").search(text, header.end() - 1, end)
                    if first is not None and len(first.group(1)) > indent:
                        # the header's own text (comments above it included) must read cleanly too
                        self._check_header(text[start:header.end()], indent, depth, key)
                        sub = self._mapping(text, header.end(), end, len(first.group(1)), child_path,
                                            depth + 1, leaves)
                        sub.start = start
                        return key, sub
        leaf = self._leaf(text, start, end, indent, depth)
        leaves.append(leaf)
        return leaf.key, leaf

    def _check_header(self, raw: str, indent: int, depth: int, key: str) -> None:
        cache_key = (raw, indent, depth)
        if cache_key in self._previous_headers or cache_key in self._current_headers:
            self._current_headers.add(cache_key)
            return
        parsed = self._parse_leaf(raw, indent, depth)
        if parsed.key != key or parsed.value is not None:
            raise _Unsafe
        self._current_headers.add(cache_key)

    def _splits(self, path: tuple) -> bool:
        generic = tuple("*" if (i == 1 and path[0] == "registries") else p for i, p in enumerate(path))
        return generic in self.SPLIT_PATHS

    def _leaf(self, text: str, start: int, end: int, indent: int, depth: int) -> Leaf:
        raw = text[start:end]
        aliases = set(_ALIAS.findall(raw)) if "*" in raw else ()
        with_leaves = tuple(dict.fromkeys(  # earlier leaves defining what this one aliases
            self._anchor_leaves[name] for name in aliases if name in self._anchor_leaves))
        if any(leaf.with_leaves for leaf in with_leaves):
            raise _Unsafe  # chained across blocks (its aliases need yet other blocks): rare
        cache_key = (raw, indent, depth)
        if with_leaves:
            cache_key += tuple(leaf.cache_key for leaf in with_leaves)
        parsed = self._previous_leaves.get(cache_key) or self._current_leaves.get(cache_key)
        if parsed is None:
            parsed = self._parse_leaf(raw, indent, depth, with_leaves)
        self._current_leaves[cache_key] = parsed
        self._alias_expansion += parsed.alias_expansion
        if self._alias_expansion > self.limits.max_alias_expansion:
            raise _Unsafe  # over the limit in total: the whole parse reports where
        leaf = Leaf(start, end, indent, depth, parsed.key, parsed.value, cache_key, with_leaves)
        if "&" in raw:
            for name in _ANCHOR.findall(raw):
                if self._anchor_leaves.setdefault(name, leaf) is not leaf:
                    raise _Unsafe  # an anchor name used again: the reader rejects the document
        return leaf

    def _parse_leaf(self, raw: str, indent: int, depth: int, with_leaves: tuple[Leaf, ...] = ()) -> _LeafParse:
        dedented = re.sub(r"(?m)^ {1,%d}" % indent, "", raw) if indent else raw
        part_lines, prefix, line = [], "", 0
        if with_leaves and dedented[:1] in ("", " ", "#", "\n", "\r"):
            # comment lines above the key would sit between the parts and move where the
            # part in front ends; the whole parse places such ends exactly
            raise _Unsafe
        for leaf in with_leaves:  # their texts first, as the whole document has them before
            own = self._current_leaves[leaf.cache_key].text  # parsed alone: its own text
            if not own.endswith("\n"):
                raise _Unsafe
            part_lines.append(line)
            prefix += own
            line += own.count("\n")  # \n ends every line here (lone \r and U+2028 are unsafe)
        part_lines.append(line)
        combined = prefix + dedented
        result = self.parse_leaf_text(combined, depth)
        data = result.data
        if (result.fatal or result.empty or result.diagnostics or not isinstance(data, dict)
                or len(data) != len(with_leaves) + 1 or list(data)[:-1] != [leaf.key for leaf in with_leaves]):
            raise _Unsafe
        key, value = next(reversed(data.items()))
        return _LeafParse(key, value, combined, result.alias_expansion, tuple(part_lines))

    def parse_leaf_text(self, dedented: str, depth: int) -> ParsedYaml:
        limits = dataclasses.replace(self.limits, max_depth=max(0, self.limits.max_depth - depth))
        return parse(dedented, limits)


class AssembledYaml:
    """A `ParsedYaml` look-alike over split blocks: data plus source-map lookups."""

    def __init__(self, text: str, root: Container, owner: IncrementalValidator):
        self.text = text
        self.root_container = root
        self.owner = owner
        self.data = root.data()
        self.diagnostics: list = []
        self.fatal = False
        self.empty = False
        self._lines: LineIndex | None = None
        self._full: ParsedYaml | None = None
        self._leaf_nodes: dict[int, ParsedYaml] = {}

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def _full_parse(self) -> ParsedYaml:
        if self._full is None:
            self._full = parse(self.text, self.owner.limits)
        return self._full

    def _route(self, pointer: str) -> tuple[Leaf, str] | None:
        """The leaf holding a pointer, and the pointer inside that leaf's own parse."""
        node: Leaf | Container = self.root_container
        tokens = pointer_split(pointer)
        for i, token in enumerate(tokens):
            child = node.children.get(token) if isinstance(node, Container) else None
            if child is None:
                return None
            if isinstance(child, Leaf):
                return child, "".join("/" + pointer_escape(t) for t in tokens[i:])
            node = child
        return None  # the pointer names a container: ranges come from a whole parse

    def _leaf_parse(self, leaf: Leaf) -> ParsedYaml:
        got = self._leaf_nodes.get(id(leaf))
        if got is None:
            cached = self.owner._leaves[leaf.cache_key]
            got = self.owner.parse_leaf_text(cached.text, leaf.depth)
            self._leaf_nodes[id(leaf)] = got
        return got

    def _to_document(self, leaf: Leaf, span: Span) -> Span:
        """Map a span in the dedented leaf text back to the document.

        A leaf parsed after other leaves' text (for their anchors) maps each span through
        the part it starts in: an aliased node's span is its anchor's, in a part in front.
        """
        part_lines = self.owner._leaves[leaf.cache_key].part_lines
        part = bisect_right(part_lines, span.start_line) - 1
        source = (*leaf.with_leaves, leaf)[part]
        offset = part_lines[part]
        lines = self.lines
        first_line = lines.position(source.start)[0] - offset

        def point(line: int, col: int) -> tuple[int, int]:
            doc_line = first_line + line
            removed = min(source.indent, _leading_spaces(lines.line_text(doc_line))) if source.indent else 0
            return doc_line, col + removed

        sl, sc = point(span.start_line, span.start_col)
        el, ec = point(span.end_line, span.end_col)
        return Span(sl, sc, el, ec)

    def span_of(self, pointer: str, target: str = "value") -> Span:
        routed = self._route(pointer)
        if routed is None:
            return self._full_parse().span_of(pointer, target)
        leaf, inner = routed
        # The leaf's own source map answers: below its first key its nodes are the
        # document's nodes, so only the coordinates need moving back.
        return self._to_document(leaf, self._leaf_parse(leaf).span_of(inner, target))

    def plain_text(self, pointer: str) -> str | None:
        routed = self._route(pointer)
        if routed is None:
            return self._full_parse().plain_text(pointer)
        leaf, inner = routed
        return self._leaf_parse(leaf).plain_text(inner)
