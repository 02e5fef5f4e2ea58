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
from profreg.engine.reader import YAML11_BREAKS, LineIndex, syntax_error_from
from profreg.engine.report import Diagnostic
from profreg.engine.run import profile_problems
from profreg.engine.schema import schema_def
from profreg.engine.sourcemap import SourceMap
from profreg.limits import current_limits
from profreg.pointer import pointer_escape, pointer_split

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
class LeafParse:
    """What parsing one block's text gave; cached by that text and reused while it is unchanged."""

    key: str
    value: Any
    text: str  # the dedented text that was parsed (after the texts of `with_leaves`, if any)
    alias_expansion: int = 0
    # Line in `text` where each part starts: one per leaf parsed in front, then the leaf's own.
    part_lines: tuple[int, ...] = (0,)
    # The reader's diagnostics that do not stop a parse (a repeated key), pointers rooted at
    # the block's own mapping and ranges in `text`.
    diagnostics: tuple[Diagnostic, ...] = ()
    # The block's own source map (its node tree). Kept for the few blocks outside
    # `profiles`; a profile's is dropped once the ranges its problems need are in `spans`.
    tree: ParsedYaml | None = None
    spans: dict[tuple[str, str], Span] = field(default_factory=dict)  # (pointer in block, target) -> range in `text`
    plain: dict[str, str | None] = field(default_factory=dict)  # pointer in block -> plain scalar text

    def span(self, inner: str, target: str) -> Span | None:
        got = self.spans.get((inner, target))
        if got is None and self.tree is not None:
            got = self.spans[(inner, target)] = self.tree.span_of(inner, target)
        return got

    def plain_text(self, inner: str) -> tuple[bool, str | None]:
        if inner in self.plain:
            return True, self.plain[inner]
        if self.tree is None:
            return False, None
        got = self.plain[inner] = self.tree.plain_text(inner)
        return True, got


@dataclass(eq=False, slots=True)
class Leaf:
    """A block holding one key of its enclosing mapping, parsed on its own."""

    start: int  # offset of the block in the document
    end: int
    indent: int  # spaces removed from each line before parsing
    depth: int  # nesting depth of the enclosing mapping in the document
    parent: str  # JSON pointer of the enclosing mapping
    parsed: LeafParse
    cache_key: tuple = ()
    # Earlier leaves whose text is parsed in front of this one (their anchors are used here);
    # each of them parsed on its own, so any alias of theirs is to an anchor of their own.
    with_leaves: tuple["Leaf", ...] = ()

    @property
    def key(self) -> str:
        return self.parsed.key

    @property
    def value(self) -> Any:
        return self.parsed.value


@dataclass(eq=False, slots=True)
class Container:
    """A mapping split into child blocks (the document root, `profiles:`, a registry)."""

    start: int
    end: int
    key_offset: int | None = None  # where its key is written (None for the document root)
    key_length: int = 0
    children: dict[str, "Leaf | Container"] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        return {k: (c.parsed.value if c.__class__ is Leaf else c.data()) for k, c in self.children.items()}


class _LeafFailed(Exception):
    """A block does not read as one `key: value` entry: the document may not parse at all."""

    def __init__(self, start: int, indents: tuple[int, ...]):
        super().__init__(start)
        self.start = start
        # Indentation of each `x:` line that stands in for the text in front of the block:
        # the headers above it and the entry before it. The parser meets the block after
        # them in the state the whole document leaves it in (`syntax_error_from`).
        self.indents = indents


@lru_cache(maxsize=64)
def _entry_pattern(indent: int) -> re.Pattern:
    return re.compile(r"\n {%d}[^ \t\r\n#]" % indent)


@lru_cache(maxsize=64)
def _shallower_pattern(indent: int) -> re.Pattern:
    return re.compile(r"\n {0,%d}[^ \t\r\n#]" % (indent - 1))


def _leading_spaces(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class IncrementalValidator:
    """Reads and validates successive versions of one document, reusing unchanged blocks."""

    # Mappings whose entries become their own blocks, by path pattern (`*` = any key).
    SPLIT_PATHS = {("profiles",), ("registries",), ("registries", "*"), ("registries", "*", "profiles")}

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or current_limits()
        self._leaves: dict[tuple, LeafParse] = {}
        self._profile_results: dict[tuple, list] = {}
        self._previous_leaves: dict[tuple, LeafParse] = {}
        self._current_leaves: dict[tuple, LeafParse] = {}
        self._split_size = 0
        self._headers: set[tuple] = set()
        self._previous_headers: set[tuple] = set()
        self._current_headers: set[tuple] = set()
        self._keys_by_id: dict[int, tuple] = {}
        self.last_mode = ""  # "incremental", "syntax" (a syntax error read from one block on) or "full"
        self.reparsed = 0  # blocks parsed again for a range (a problem new to an unchanged profile)

    # -- public ---------------------------------------------------------------------
    def read(self, text: str) -> SourceMap:
        """The document's data and source map: assembled from blocks, or a whole parse."""
        self._previous_leaves, self._current_leaves = self._leaves, {}
        self._previous_headers, self._current_headers = self._headers, set()
        try:
            root, leaves = self._split(text)
        except (_Unsafe, _LeafFailed) as exc:
            # keep what was parsed (the next edit may make the split safe again), bounded
            kept = {**self._previous_leaves, **self._current_leaves}
            self._leaves = kept if len(kept) <= 2 * self._split_size + 64 else self._current_leaves
            self._keys_by_id = {}
            if isinstance(exc, _LeafFailed):
                context = "".join(" " * indent + "x:\n" for indent in exc.indents)
                fatal = syntax_error_from(text, exc.start, context)
                if fatal is not None:
                    self.last_mode = "syntax"
                    return fatal
            self.last_mode = "full"
            return parse(text, self.limits)
        finally:
            self._previous_leaves = {}
            self._previous_headers = set()
        self._leaves = self._current_leaves
        self._headers = self._current_headers
        self._split_size = len(leaves)
        self._keys_by_id = {id(leaf.parsed.value): leaf.cache_key for leaf in leaves}
        if len(self._profile_results) > 2 * len(leaves) + 64:  # drop results of edited-away blocks
            self._profile_results = {k: v for k, v in self._profile_results.items() if k in self._leaves}
        self.last_mode = "incremental"
        return AssembledYaml(text, root, leaves, self)

    def validate_source(self, source: SourceMap) -> Report:
        """The engine's report on what `read` gave, reusing each unchanged profile's result."""
        if not isinstance(source, AssembledYaml):
            return validate_parsed(source)
        keys_by_id = self._keys_by_id
        report = validate_parsed(source, profile_cache=self._profile_results,
                                 profile_key=lambda pointer, profile: keys_by_id.get(id(profile)))
        source.release_trees()
        return report

    def validate(self, text: str) -> Report:
        return self.validate_source(self.read(text))

    # -- splitting ------------------------------------------------------------------
    def _split(self, text: str) -> tuple[Container, list[Leaf]]:
        if not text or len(text) > self.limits.max_bytes or _unsafe_text(text):
            raise _Unsafe
        leaves: list[Leaf] = []
        self._anchor_leaves: dict[str, Leaf] = {}  # anchor name -> the last leaf defining it
        self._alias_expansion = 0
        root = self._mapping(text, 0, len(text), 0, (), 0, (), leaves)
        return root, leaves

    def _mapping(self, text: str, start: int, end: int, indent: int, path: tuple, depth: int,
                 chain: tuple[int, ...], leaves: list[Leaf]) -> Container:
        """Split the entries of a block mapping whose keys sit at column `indent`.

        `chain`: the indentation of each header above this mapping (see `_LeafFailed`).
        """
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
        parent = "".join("/" + pointer_escape(p) for p in path)
        for i, (s, e) in enumerate(zip(entry_starts, bounds)):
            if text[s + indent] in _NOT_A_KEY_START:
                raise _Unsafe
            key, child = self._entry(text, start if i == 0 else s, e, s, indent, path, parent, depth,
                                     chain, i == 0, leaves)
            if key in children:
                raise _Unsafe  # a duplicate key: the whole parse reports it
            children[key] = child
        return container

    def _entry(self, text: str, start: int, end: int, line_start: int, indent: int, path: tuple, parent: str,
               depth: int, chain: tuple[int, ...], first: bool, leaves: list[Leaf]):
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
                        child_indent = len(first.group(1))
                        sub = self._mapping(text, header.end(), end, child_indent, child_path, depth + 1,
                                            chain + (indent,), leaves)
                        sub.start = start
                        sub.key_offset, sub.key_length = line_start + indent, len(key)
                        return key, sub
        # a block that does not parse is read on from its start after stand-ins for the
        # headers above it and, unless it is the mapping's first entry, for an entry before it
        stand_ins = chain if first else chain + (indent,)
        leaf = self._leaf(text, start, end, indent, depth, parent, path[-1:] == ("profiles",), stand_ins)
        leaves.append(leaf)
        return leaf.key, leaf

    def _check_header(self, raw: str, indent: int, depth: int, key: str) -> None:
        cache_key = (raw, indent, depth)
        if cache_key in self._previous_headers or cache_key in self._current_headers:
            self._current_headers.add(cache_key)
            return
        try:
            parsed = self._parse_leaf(raw, indent, depth, (), False)
        except _LeafFailed:
            raise _Unsafe from None
        if parsed.key != key or parsed.value is not None or parsed.diagnostics:
            raise _Unsafe
        self._current_headers.add(cache_key)

    def _splits(self, path: tuple) -> bool:
        generic = tuple("*" if (i == 1 and path[0] == "registries") else p for i, p in enumerate(path))
        return generic in self.SPLIT_PATHS

    def _leaf(self, text: str, start: int, end: int, indent: int, depth: int, parent: str, profile: bool,
              indents: tuple[int, ...]) -> Leaf:
        raw = text[start:end]
        if "*" in raw:
            # earlier leaves defining what this one aliases
            found = [self._anchor_leaves.get(name) for name in set(_ALIAS.findall(raw))]
            with_leaves = tuple(sorted({leaf for leaf in found if leaf is not None}, key=lambda leaf: leaf.start))
        else:
            with_leaves = ()
        if any(leaf.with_leaves for leaf in with_leaves):
            raise _Unsafe  # chained across blocks (its aliases need yet other blocks): rare
        cache_key = (raw, indent, depth)
        if with_leaves:
            cache_key += tuple(leaf.cache_key for leaf in with_leaves)
        parsed = self._previous_leaves.get(cache_key) or self._current_leaves.get(cache_key)
        if parsed is None:
            try:
                parsed = self._parse_leaf(raw, indent, depth, with_leaves, profile)
            except _LeafFailed:
                raise _LeafFailed(start, indents) from None
        self._current_leaves[cache_key] = parsed
        self._alias_expansion += parsed.alias_expansion
        if self._alias_expansion > self.limits.max_alias_expansion:
            raise _Unsafe  # over the limit in total: the whole parse reports where
        leaf = Leaf(start, end, indent, depth, parent, parsed, cache_key, with_leaves)
        if "&" in raw:
            for name in _ANCHOR.findall(raw):
                if self._anchor_leaves.setdefault(name, leaf) is not leaf:
                    raise _Unsafe  # an anchor name used again: the reader rejects the document
        if profile and parsed.tree is not None:
            self._note_profile_ranges(parsed, cache_key)
        return leaf

    def _parse_leaf(self, raw: str, indent: int, depth: int, with_leaves: tuple[Leaf, ...],
                    profile: bool) -> LeafParse:
        dedented = re.sub(r"(?m)^ {1,%d}" % indent, "", raw) if indent else raw
        part_lines, prefix, line = [], "", 0
        if with_leaves and dedented[:1] in ("", " ", "#", "\n", "\r"):
            # comment lines above the key would sit between the parts and move where the
            # part in front ends; the whole parse places such ends exactly
            raise _Unsafe
        for leaf in with_leaves:  # their texts first, as the whole document has them before
            own = leaf.parsed.text  # parsed alone: its own text
            if not own.endswith("\n"):
                raise _Unsafe
            part_lines.append(line)
            prefix += own
            line += own.count("\n")  # \n ends every line here (lone \r and U+2028 are unsafe)
        part_lines.append(line)
        combined = prefix + dedented
        result = self.parse_leaf_text(combined, depth)
        data = result.data
        if result.fatal or result.empty or not isinstance(data, dict) or len(data) != len(with_leaves) + 1:
            raise _LeafFailed(0, ())
        if list(data)[:-1] != [leaf.key for leaf in with_leaves]:
            raise _Unsafe
        if any(d.code not in _BLOCK_LOCAL_CODES for d in result.diagnostics):
            raise _Unsafe  # other reader findings: the whole parse reports them
        # findings in the parts parsed in front are those leaves' own
        diagnostics = tuple(d for d in result.diagnostics if d.span.start_line >= line)
        key, value = next(reversed(data.items()))
        return LeafParse(key, value, combined, result.alias_expansion, tuple(part_lines), diagnostics, result)

    def _note_profile_ranges(self, parsed: LeafParse, cache_key: tuple) -> None:
        """Place the ranges a profile's problems need while its node tree is at hand, then drop the tree.

        The profile's problems depend on its own data only, so the engine's per-profile pass
        runs here (its result is the one the engine reuses for this block). Ranges the
        registry asks for that are not placed here (a problem new to an unchanged profile)
        cost one parse of the block.
        """
        key, value = parsed.key, parsed.value
        inner = "/" + pointer_escape(key)
        wanted = []
        if value is None or not _slug_shaped(key):
            wanted.append((inner, "key"))  # a null profile, a key that is not a slug
        else:
            problems = self._profile_results.get(cache_key)
            if problems is None:
                problems = self._profile_results[cache_key] = profile_problems(value)
            for problem in problems:
                wanted.append((inner + problem.pointer, problem.target))
                if problem.hint_quote:
                    parsed.plain_text(inner + problem.pointer)
            if isinstance(value, dict) and isinstance(value.get("slug"), str) and value["slug"] != key:
                wanted.append((inner + "/slug", "value"))
        for pointer, target in wanted:
            parsed.span(pointer, target)
        parsed.tree = None

    def parse_leaf_text(self, dedented: str, depth: int) -> ParsedYaml:
        limits = dataclasses.replace(self.limits, max_depth=max(0, self.limits.max_depth - depth))
        return parse(dedented, limits)


@lru_cache(maxsize=None)
def _slug_pattern() -> re.Pattern:
    return re.compile(schema_def("slug")["pattern"])


def _slug_shaped(key: str) -> bool:
    return _slug_pattern().search(key) is not None


# Reader findings that belong to one block and do not stop a parse: the block keeps them.
_BLOCK_LOCAL_CODES = frozenset(("yaml-duplicate-key",))


class AssembledYaml:
    """The document's source map over split blocks: data, reader findings and ranges.

    Ranges come from the blocks' own source maps, moved back to document coordinates; a
    split mapping's range (the root, `profiles:`, a registry) from its header.
    """

    fatal = False
    empty = False

    def __init__(self, text: str, root: Container, leaves: list[Leaf], owner: IncrementalValidator):
        self.text = text
        self.root_container = root
        self.owner = owner
        self.data = root.data()
        self._lines: LineIndex | None = None
        self._full: ParsedYaml | None = None
        self._reparsed: list[LeafParse] = []
        self.diagnostics = [self._moved(leaf, d) for leaf in leaves for d in leaf.parsed.diagnostics]

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def _moved(self, leaf: Leaf, diagnostic: Diagnostic) -> Diagnostic:
        return dataclasses.replace(diagnostic, pointer=leaf.parent + diagnostic.pointer,
                                   span=self._to_document(leaf, diagnostic.span))

    def _full_parse(self) -> ParsedYaml:
        if self._full is None:
            self._full = parse(self.text, self.owner.limits)
        return self._full

    def _route(self, pointer: str) -> tuple[Leaf | Container, str]:
        """The leaf holding a pointer and the pointer inside that leaf's own parse, or the container it names."""
        node: Leaf | Container = self.root_container
        tokens = pointer_split(pointer)
        for i, token in enumerate(tokens):
            child = node.children.get(token) if node.__class__ is Container else None
            if child is None:
                return node, ""
            if child.__class__ is Leaf:
                return child, "".join("/" + pointer_escape(t) for t in tokens[i:])
            node = child
        return node, ""

    def _to_document(self, leaf: Leaf, span: Span) -> Span:
        """Map a span in the dedented leaf text back to the document.

        A leaf parsed after other leaves' text (for their anchors) maps each span through
        the part it starts in: an aliased node's span is its anchor's, in a part in front.
        """
        part_lines = leaf.parsed.part_lines
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

    def _leaf_tree(self, leaf: Leaf) -> ParsedYaml:
        """The leaf's node tree again, for a range its first parse did not place (rare)."""
        parsed = leaf.parsed
        if parsed.tree is None:
            parsed.tree = self.owner.parse_leaf_text(parsed.text, leaf.depth)
            self.owner.reparsed += 1
            self._reparsed.append(parsed)
        return parsed.tree

    def span_of(self, pointer: str, target: str = "value") -> Span:
        # A pointer into a container that names no child of it gets the container's range,
        # as the reader's source map answers with the deepest node that exists.
        node, inner = self._route(pointer)
        if node.__class__ is Container:
            if target == "object" and node.key_offset is None:
                return Span(0, 0, 0, len(self.lines.line_text(0)))  # the document itself: line 1
            if target in ("object", "key") and node.key_offset is not None:
                return self.lines.span(node.key_offset, node.key_offset + node.key_length)
            return self._full_parse().span_of(pointer, target)  # a container's whole value: rare
        parsed = node.parsed
        span = parsed.span(inner, target)
        if span is None:
            span = parsed.spans[(inner, target)] = self._leaf_tree(node).span_of(inner, target)
        # The leaf's own source map answers: below its first key its nodes are the
        # document's nodes, so only the coordinates need moving back.
        return self._to_document(node, span)

    def plain_text(self, pointer: str) -> str | None:
        node, inner = self._route(pointer)
        if node.__class__ is Container:
            return self._full_parse().plain_text(pointer)
        known, text = node.parsed.plain_text(inner)
        if not known:
            text = node.parsed.plain[inner] = self._leaf_tree(node).plain_text(inner)
        return text

    def release_trees(self) -> None:
        """Drop the node trees parsed again for ranges once the report has its ranges."""
        for parsed in self._reparsed:
            parsed.tree = None
        self._reparsed.clear()
