"""Re-validation that reuses work between edits, with results identical to a full run.

A registry document is a mapping whose big part is `profiles:` (or `registries:` ->
registry -> `profiles:`). The text is split along that structure into *leaf blocks*
(one top-level key, one registry field, one profile), each parsed on its own
(dedented) with `profreg.engine.parse` and cached by its text. The leaves' data is
re-assembled into the document's data, and `AssembledYaml` offers the source-map
methods the engine calls on a `ParsedYaml`, so `profreg.engine.validate_parsed`
runs unchanged on it (with its per-profile result cache). Nothing here validates.

Between versions, an edit inside one block re-parses that block only (the last split is
re-spliced). Any other edit splits the text again, but a split mapping whose text and
context the edit left alone (`profiles:` while a registry's own fields are typed, the
other registries of a bundle) is taken from the last split as it was, moved: only the
mappings around the edit are split again.

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
import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from profreg.engine import Limits, ParsedYaml, Report, Span, parse, validate_parsed
from profreg.engine.reader import YAML11_BREAKS, LineIndex, syntax_error_from
from profreg.engine.report import Diagnostic, Problem
from profreg.engine.run import profile_problems
from profreg.engine.schema import schema_def
from profreg.engine.sourcemap import SourceMap
from profreg.limits import current_limits
from profreg.pointer import pointer_escape, pointer_split

from . import forked

log = logging.getLogger(__name__)

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
# A line with content (not blank, not only a comment); group 1 is its indentation.
_CONTENT_LINE = re.compile(r"(?:^|\n)( *)[^ \t\r\n#]")
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
    parsed: LeafParse | None  # None: the block does not read as one entry (see `_LeafFailed`)
    cache_key: tuple = ()
    # Earlier leaves whose text is parsed in front of this one (their anchors are used here);
    # each of them parsed on its own, so any alias of theirs is to an anchor of their own.
    with_leaves: tuple["Leaf", ...] = ()
    line_start: int = 0  # offset of the line its key is on (comments may come first)
    stand_ins: tuple[int, ...] = ()  # see `_LeafFailed`
    profile: bool = False  # an entry of a `profiles:` mapping
    aliases: tuple[str, ...] = ()  # the alias names its text may hold (see `_ALIAS`)

    @property
    def key(self) -> str:
        # a block that does not read has no key yet: a name no key can have stands in
        return self.parsed.key if self.parsed is not None else f"\0unread {self.start}"

    @property
    def value(self) -> Any:
        return self.parsed.value if self.parsed is not None else None


@dataclass(eq=False, slots=True)
class Container:
    """A mapping split into child blocks (the document root, `profiles:`, a registry)."""

    start: int
    end: int
    key_offset: int | None = None  # where its key is written (None for the document root)
    key_length: int = 0
    children: dict[str, "Leaf | Container"] = field(default_factory=dict)
    containers: list["Container"] = field(default_factory=list)  # the split mappings inside it
    # What its split depended on besides its own text: (path, depth, headers' indents, indent)
    context: tuple = ()
    header_key: tuple = ()  # its header's cache key (see `_check_header`)

    def data(self) -> dict[str, Any]:
        return {k: (c.parsed.value if c.__class__ is Leaf else c.data()) for k, c in self.children.items()}


class _LeafFailed(Exception):
    """A block does not read as one `key: value` entry: the document may not parse at all.

    Such a block is kept in the split without data, and the document's syntax error is read
    from the first one on (`syntax_error_from`), after `x:` lines standing in for the text
    in front of it (`Leaf.stand_ins`: the headers above it and the entry before it), which
    leave libyaml's parser in the state the whole document leaves it in.
    """


@lru_cache(maxsize=64)
def _entry_pattern(indent: int) -> re.Pattern:
    return re.compile(r"\n {%d}[^ \t\r\n#]" % indent)


@lru_cache(maxsize=64)
def _dedent_pattern(indent: int) -> re.Pattern:
    return re.compile(r"(?m)^ {1,%d}" % indent)


def _dedented(raw: str, indent: int) -> str:
    return _dedent_pattern(indent).sub("", raw) if indent else raw


@lru_cache(maxsize=64)
def _shallower_pattern(indent: int) -> re.Pattern:
    return re.compile(r"\n {0,%d}[^ \t\r\n#]" % (indent - 1))


def _leading_spaces(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@dataclass(eq=False)
class _SplitState:
    """The last version's split, re-spliced in place when an edit stays inside one block."""

    text: str
    root: Container
    leaves: list[Leaf]  # in document order
    failed: list[Leaf]  # the blocks that do not read as one entry
    anchor_leaves: dict[str, Leaf]
    alias_expansion: int
    # leaf -> the mapping it is an entry of; kept here, not on the leaf: a leaf and its
    # mapping pointing at each other would leave every replaced split to the cyclic collector
    owners: dict[Leaf, Container]


@dataclass(eq=False)
class _Reuse:
    """The last split's mappings that an edit left untouched, for the next whole split to take
    as they are (moved) instead of splitting their text again."""

    by_start: dict[int, Container]  # where each untouched mapping starts in the new text
    anchor_leaves: dict[str, Leaf]
    owners: dict[Leaf, Container]


_CHUNK = 1 << 16


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (compared a chunk at a time, then bisected)."""
    n = min(len(a), len(b))
    lo = 0
    while lo < n and a[lo:lo + _CHUNK] == b[lo:lo + _CHUNK]:
        lo = min(n, lo + _CHUNK)
    hi = min(n, lo + _CHUNK)
    while lo < hi:  # a[:lo] == b[:lo], and they differ before hi (or hi == n)
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix, at most `limit`."""
    n = min(len(a), len(b), limit)
    lo = 0
    while lo < n and a[len(a) - min(n, lo + _CHUNK):len(a) - lo] == b[len(b) - min(n, lo + _CHUNK):len(b) - lo]:
        lo = min(n, lo + _CHUNK)
    hi = min(n, lo + _CHUNK)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:len(a) - lo] == b[len(b) - mid:len(b) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class IncrementalValidator:
    """Reads and validates successive versions of one document, reusing unchanged blocks."""

    # Mappings whose entries become their own blocks, by path pattern (`*` = any key).
    RUN_BLOCKS = 16  # at most this many profile blocks per run's parse (`_ProfileRuns`; 1: none)
    # A `profiles:` mapping with at least this many blocks to parse, none of them cached (a
    # document just opened), is also read by a forked child from its end (`_ForkedShare`),
    # where another core looks idle; 0: never.
    FORK_BLOCKS = 1000
    SPLIT_PATHS = {("profiles",), ("registries",), ("registries", "*"), ("registries", "*", "profiles")}

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or current_limits()
        self._depth_limits: dict[int, Limits] = {}
        self._leaves: dict[tuple, LeafParse] = {}
        self._profile_results: dict[tuple, list] = {}
        self._previous_leaves: dict[tuple, LeafParse] = {}
        self._current_leaves: dict[tuple, LeafParse] = {}
        self._split_size = 0
        self._headers: set[tuple] = set()
        self._previous_headers: set[tuple] = set()
        self._current_headers: set[tuple] = set()
        self._keys_by_id: dict[int, tuple] = {}
        self._failed: list[Leaf] = []
        self._state: _SplitState | None = None  # the last split, for re-splicing the next version
        self._reuse: _Reuse | None = None  # during a whole split: the last split's untouched mappings
        self.last_mode = ""  # "incremental", "syntax" (a syntax error read from one block on) or "full"
        self.reparsed = 0  # blocks parsed again for a range (a problem new to an unchanged profile)
        self.respliced = 0  # versions read by re-parsing only the edited block
        self.reused = 0  # split mappings a whole split took from the last split as they were
        self.in_runs = 0  # profile blocks read by a run's parse (`_ProfileRuns`), not their own
        self.forked = 0  # profile blocks read by a forked child (`_ForkedShare`)
        self.forked_peak_kb = 0  # the largest peak resident memory of such a child

    # -- public ---------------------------------------------------------------------
    def read(self, text: str, line_starts: list[int] | None = None) -> SourceMap:
        """The document's data and source map: assembled from blocks, or a whole parse.

        `line_starts`: where the text's lines start, if the caller keeps them (saves a scan).
        """
        state = self._state
        if state is not None and len(text) <= self.limits.max_bytes:
            if self._respliced(state, text):
                self.respliced += 1
                return self._result(state, line_starts)
        self._state = None
        self._reuse = _reusable(state, text) if state is not None else None
        self._previous_leaves, self._current_leaves = self._leaves, {}
        self._previous_headers, self._current_headers = self._headers, set()
        try:
            root, leaves = self._split(text)
        except _Unsafe:
            # keep what was parsed (the next edit may make the split safe again), bounded
            kept = {**self._previous_leaves, **self._current_leaves}
            self._leaves = kept if len(kept) <= 2 * self._split_size + 64 else self._current_leaves
            self._keys_by_id = {}
            if self._failed:  # the text before the first block that does not read reads cleanly
                fatal = self._syntax_error(text, self._failed[0], line_starts)
                if fatal is not None:
                    return fatal
            self.last_mode = "full"
            return parse(text, self.limits, line_starts=line_starts, bare=True)
        finally:
            self._previous_leaves = {}
            self._previous_headers = set()
            self._reuse = None
        self._leaves = self._current_leaves
        self._headers = self._current_headers
        self._split_size = len(leaves)
        self._keys_by_id = {id(leaf.parsed.value): leaf.cache_key for leaf in leaves if leaf.parsed is not None}
        if len(self._profile_results) > 2 * len(leaves) + 64:  # drop results of edited-away blocks
            self._profile_results = {k: v for k, v in self._profile_results.items() if k in self._leaves}
        self._state = _SplitState(text, root, leaves, self._failed, self._anchor_leaves, self._alias_expansion,
                                  self._owners)
        return self._result(self._state, line_starts)

    def _respliced(self, state: _SplitState, text: str) -> bool:
        """Bring the last split up to `text` if the edit stays inside one block; False if it does not.

        The edited block is parsed again and every later block and mapping moves by the
        change in length; what decides the split (entry lines, indentation, anchors) is
        checked on the edited lines, and anything else goes to a whole split.
        """
        old = state.text
        if text is old:
            return True
        a = _common_prefix(old, text)
        if a == len(old) == len(text):
            state.text = text
            return True
        tail = _common_suffix(old, text, min(len(old), len(text)) - a)
        old_end, new_end, delta = len(old) - tail, len(text) - tail, len(text) - len(old)
        leaves = state.leaves
        i = bisect_right([leaf.start for leaf in leaves], a) - 1  # the last block starting at or before a
        if i < 0:
            return False
        leaf = leaves[i]
        if not (leaf.line_start + leaf.indent < a and (old_end < leaf.end or leaf.end == len(old))):
            return False  # the key's first character, lines above the key, or the next block
        end = leaf.end + delta
        line_from = text.rfind("\n", 0, a) + 1
        line_to = text.find("\n", new_end)
        edited = text[max(0, line_from - 1):len(text) if line_to < 0 else line_to + 1]
        old_raw, raw = old[leaf.start:leaf.end], text[leaf.start:end]
        if _unsafe_text(edited) or "&" in old_raw or "&" in raw:
            return False  # odd characters, or anchors other blocks may use
        if _entry_pattern(leaf.indent).search(text, leaf.line_start, end) or (
                leaf.indent and _shallower_pattern(leaf.indent).search(text, leaf.line_start, end)):
            return False  # a new entry, or a line of an enclosing mapping
        owner = state.owners[leaf]
        self._previous_leaves = self._current_leaves = self._leaves
        self._anchor_leaves = state.anchor_leaves
        self._failed = [f for f in state.failed if f is not leaf]
        self._alias_expansion = state.alias_expansion - (leaf.parsed.alias_expansion if leaf.parsed else 0)
        try:
            with_leaves, aliases = self._aliased_leaves(raw, leaf.start)
            new = Leaf(leaf.start, end, leaf.indent, leaf.depth, leaf.parent, None, (), with_leaves,
                       leaf.line_start, leaf.stand_ins, leaf.profile, aliases)
            self._parse_into(new, raw)
        except _Unsafe:
            return False
        finally:
            self._previous_leaves = self._current_leaves = {}
        key = new.key
        old_key = next(k for k, child in owner.children.items() if child is leaf)  # an unread block's name moves
        if key != old_key:
            if key in owner.children:
                return False  # a duplicate key: the whole parse reports it
            owner.children = {(key if child is leaf else k): child for k, child in owner.children.items()}
        owner.children[key] = new
        del state.owners[leaf]
        state.owners[new] = owner
        for later in leaves[i + 1:]:
            later.start += delta
            later.end += delta
            later.line_start += delta
        _shift_containers(state.root, a, delta)
        leaves[i] = new
        if leaf.parsed is not None and self._keys_by_id.get(id(leaf.parsed.value)) == leaf.cache_key:
            del self._keys_by_id[id(leaf.parsed.value)]
        if new.parsed is not None:
            self._keys_by_id[id(new.parsed.value)] = new.cache_key
        state.text, state.failed, state.alias_expansion = text, self._failed, self._alias_expansion
        if len(self._leaves) > 2 * len(leaves) + 64:  # drop blocks edited away
            self._leaves = {leaf.cache_key: leaf.parsed for leaf in leaves if leaf.parsed is not None}
            self._profile_results = {k: v for k, v in self._profile_results.items() if k in self._leaves}
        return True

    def _result(self, state: "_SplitState", line_starts: list[int] | None) -> SourceMap:
        if state.failed:
            fatal = self._syntax_error(state.text, min(state.failed, key=lambda leaf: leaf.start), line_starts)
            if fatal is not None:
                return fatal
            self.last_mode = "full"
            return parse(state.text, self.limits, line_starts=line_starts, bare=True)
        self.last_mode = "incremental"
        return AssembledYaml(state.text, state.root, state.leaves, self, line_starts)

    def _syntax_error(self, text: str, leaf: Leaf, line_starts: list[int] | None) -> ParsedYaml | None:
        context = "".join(" " * indent + "x:\n" for indent in leaf.stand_ins)
        fatal = syntax_error_from(text, leaf.start, context, line_starts)
        if fatal is not None:
            self.last_mode = "syntax"
        return fatal

    def validate_source(self, source: SourceMap) -> Report:
        """The engine's report on what `read` gave, reusing each unchanged profile's result."""
        if not isinstance(source, AssembledYaml):
            return validate_parsed(source)
        keys_by_id = self._keys_by_id
        report = validate_parsed(source, profile_cache=self._profile_results,
                                 profile_key=lambda profile: keys_by_id.get(id(profile)))
        source.release_trees()
        return report

    def validate(self, text: str) -> Report:
        return self.validate_source(self.read(text))

    # -- splitting ------------------------------------------------------------------
    def _split(self, text: str) -> tuple[Container, list[Leaf]]:
        leaves: list[Leaf] = []
        self._anchor_leaves: dict[str, Leaf] = {}  # anchor name -> the last leaf defining it
        self._owners: dict[Leaf, Container] = {}
        self._alias_expansion = 0
        self._failed = []
        if not text or len(text) > self.limits.max_bytes or _unsafe_text(text):
            raise _Unsafe
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
        outer, self._containers = getattr(self, "_containers", None), container.containers
        try:
            self._entries(text, container, entry_starts, start, end, indent, path, depth, chain, leaves)
        finally:
            self._containers = outer
        return container

    def _entries(self, text: str, container: Container, entry_starts: list[int], start: int, end: int,
                 indent: int, path: tuple, depth: int, chain: tuple[int, ...], leaves: list[Leaf]) -> None:
        bounds = entry_starts[1:] + [end]
        children = container.children
        parent = "".join("/" + pointer_escape(p) for p in path)
        if path[-1:] == ("profiles",):  # profiles are leaves, never split
            self._profile_entries(text, container, entry_starts, bounds, start, indent, depth, chain, parent, leaves)
            return
        for i, (s, e) in enumerate(zip(entry_starts, bounds)):
            if text[s + indent] in _NOT_A_KEY_START:
                raise _Unsafe
            key, child = self._entry(text, start if i == 0 else s, e, s, indent, path, parent, depth,
                                     chain, i == 0, leaves)
            if key in children:
                raise _Unsafe  # a duplicate key: the whole parse reports it
            children[key] = child
            if child.__class__ is Leaf:
                self._owners[child] = container

    def _profile_entries(self, text: str, container: Container, entry_starts: list[int], bounds: list[int],
                         start: int, indent: int, depth: int, chain: tuple[int, ...], parent: str,
                         leaves: list[Leaf]) -> None:
        """The entries of a `profiles:` mapping, each a leaf. The blocks not cached are parsed a
        run at a time (`_ProfileRuns`); each leaf still gets what its own parse would give."""
        made: list[tuple[Leaf, str]] = []
        anchors = self._anchor_leaves
        for i, (s, e) in enumerate(zip(entry_starts, bounds)):
            if text[s + indent] in _NOT_A_KEY_START:
                raise _Unsafe
            leaf_start = start if i == 0 else s
            raw = text[leaf_start:e]
            with_leaves, aliases = self._aliased_leaves(raw, leaf_start)
            # a block that does not parse is read on from its start after stand-ins for the
            # headers above it and, unless it is the mapping's first entry, for an entry before it
            leaf = Leaf(leaf_start, e, indent, depth, parent, None, (), with_leaves, s,
                        chain if i == 0 else chain + (indent,), True, aliases)
            leaf.cache_key = self._cache_key(leaf, raw)
            made.append((leaf, raw))
            if "&" in raw:
                for name in _ANCHOR.findall(raw):
                    if anchors.setdefault(name, leaf) is not leaf:
                        raise _Unsafe  # an anchor name used again: the reader rejects the document
        share = _ForkedShare.start(self, made)
        runs = _ProfileRuns(self, made)
        children = container.children
        try:
            for n, (leaf, raw) in enumerate(made):
                if share is None or not share.install(n):
                    self._parse_into(leaf, raw, runs, n)
                if leaf.parsed is None and "&" in raw:
                    raise _Unsafe  # anchors of a block that does not read: the whole parse places them
                key = leaf.key
                if key in children:
                    raise _Unsafe  # a duplicate key: the whole parse reports it
                children[key] = leaf
                self._owners[leaf] = container
                leaves.append(leaf)
        finally:
            if share is not None:
                share.close()

    def _entry(self, text: str, start: int, end: int, line_start: int, indent: int, path: tuple, parent: str,
               depth: int, chain: tuple[int, ...], first: bool, leaves: list[Leaf]):
        if (path[-1:] != ("profiles",)) and len(path) < 3:  # profiles are leaves, never split
            header = _HEADER.match(text, line_start, end)
            if header is not None and len(header.group(1)) == indent:
                key = header.group(2)
                child_path = path + (key,)
                if self._splits(child_path) and header.end() < end:
                    first_line = _CONTENT_LINE.search(text, header.end() - 1, end)
                    if first_line is not None and len(first_line.group(1)) > indent:
                        # the header's own text (comments above it included) must read cleanly too
                        header_key = self._check_header(text[start:header.end()], indent, depth, key)
                        child_indent = len(first_line.group(1))
                        context = (child_path, depth + 1, chain + (indent,), child_indent)
                        sub = self._reused(text, start, end, context, leaves)
                        if sub is None:
                            sub = self._mapping(text, header.end(), end, child_indent, child_path, depth + 1,
                                                chain + (indent,), leaves)
                            sub.start = start
                            sub.key_offset, sub.key_length = line_start + indent, len(key)
                            sub.context, sub.header_key = context, header_key
                        self._containers.append(sub)
                        return key, sub
        # a block that does not parse is read on from its start after stand-ins for the
        # headers above it and, unless it is the mapping's first entry, for an entry before it
        stand_ins = chain if first else chain + (indent,)
        leaf = self._leaf(text, start, end, indent, depth, parent, path[-1:] == ("profiles",), stand_ins,
                          line_start)
        leaves.append(leaf)
        return leaf.key, leaf

    def _reused(self, text: str, start: int, end: int, context: tuple, leaves: list[Leaf]) -> Container | None:
        """The last split's mapping for the block `text[start:end]` if the edit left its text and
        context alone (an edit in the registry's own fields leaves `profiles:` so), moved
        to where it now starts; None if it must be split again.

        Its split depended on nothing else but the anchors its blocks' aliases name: each
        such block must find the same texts for them in front of it as before (the blocks
        it was parsed with), or the mapping is split again.
        """
        reuse = self._reuse
        old = reuse.by_start.get(start) if reuse is not None else None
        if old is None or old.context != context:
            return None
        shift = start - old.start
        # Its text is the same: `by_start` holds only mappings wholly inside the text the edit
        # left in front of it or behind it, each at where that text now starts.
        if old.end + shift != end:
            return None
        own: list[Leaf] = []
        _leaves_of(old, own)
        own_set = set(own)
        anchors = {name: leaf for name, leaf in reuse.anchor_leaves.items() if leaf in own_set}
        outside = self._anchor_leaves  # so far: the anchors of the blocks in front of this mapping
        relinked = []
        for leaf in own:
            if not leaf.aliases:
                continue
            inner, earlier = [], []
            for name in leaf.aliases:
                got = anchors.get(name)
                if got is not None:
                    if got.start < leaf.start:
                        inner.append(got)
                elif (got := outside.get(name)) is not None:
                    earlier.append(got)
            with_leaves = (*sorted(set(earlier), key=lambda w: w.start), *sorted(set(inner), key=lambda w: w.start))
            if with_leaves != leaf.with_leaves:
                if [w.cache_key for w in with_leaves] != [w.cache_key for w in leaf.with_leaves]:
                    return None
                relinked.append((leaf, with_leaves))  # the same texts, in blocks split again
        for leaf, with_leaves in relinked:
            leaf.with_leaves = with_leaves
        if shift:
            _move(old, shift, own)
        self.reused += 1
        owners = reuse.owners
        for leaf in own:
            leaves.append(leaf)
            self._owners[leaf] = owners[leaf]
            parsed = leaf.parsed
            if parsed is None:
                self._failed.append(leaf)
            else:
                self._current_leaves[leaf.cache_key] = parsed
                self._alias_expansion += parsed.alias_expansion
        if self._alias_expansion > self.limits.max_alias_expansion:
            raise _Unsafe  # over the limit in total: the whole parse reports where
        for name, leaf in anchors.items():
            if self._anchor_leaves.setdefault(name, leaf) is not leaf:
                raise _Unsafe  # an anchor name used again: the reader rejects the document
        stack = list(old.containers)
        while stack:
            sub = stack.pop()
            self._current_headers.add(sub.header_key)
            stack.extend(sub.containers)
        return old

    def _check_header(self, raw: str, indent: int, depth: int, key: str) -> tuple:
        cache_key = (raw, indent, depth)
        if cache_key in self._previous_headers or cache_key in self._current_headers:
            self._current_headers.add(cache_key)
            return cache_key
        try:
            parsed = self._parse_leaf(raw, indent, depth, (), False)
        except _LeafFailed:
            raise _Unsafe from None
        if parsed.key != key or parsed.value is not None or parsed.diagnostics:
            raise _Unsafe
        self._current_headers.add(cache_key)
        return cache_key

    def _splits(self, path: tuple) -> bool:
        generic = tuple("*" if (i == 1 and path[0] == "registries") else p for i, p in enumerate(path))
        return generic in self.SPLIT_PATHS

    def _leaf(self, text: str, start: int, end: int, indent: int, depth: int, parent: str, profile: bool,
              stand_ins: tuple[int, ...], line_start: int) -> Leaf:
        raw = text[start:end]
        with_leaves, aliases = self._aliased_leaves(raw, start)
        leaf = Leaf(start, end, indent, depth, parent, None, (), with_leaves, line_start, stand_ins, profile,
                    aliases)
        self._parse_into(leaf, raw)
        if "&" in raw:
            if leaf.parsed is None:
                raise _Unsafe  # anchors of a block that does not read: the whole parse places them
            for name in _ANCHOR.findall(raw):
                if self._anchor_leaves.setdefault(name, leaf) is not leaf:
                    raise _Unsafe  # an anchor name used again: the reader rejects the document
        return leaf

    def _aliased_leaves(self, raw: str, start: int) -> tuple[tuple[Leaf, ...], tuple[str, ...]]:
        """The earlier leaves defining anchors that the block's aliases name, and those names."""
        if "*" not in raw:
            return (), ()
        names = tuple(dict.fromkeys(_ALIAS.findall(raw)))
        found = {self._anchor_leaves.get(name) for name in names}
        with_leaves = tuple(sorted((leaf for leaf in found if leaf is not None and leaf.start < start),
                                   key=lambda leaf: leaf.start))
        if any(leaf.with_leaves for leaf in with_leaves):
            raise _Unsafe  # chained across blocks (its aliases need yet other blocks): rare
        return with_leaves, names

    @staticmethod
    def _cache_key(leaf: Leaf, raw: str) -> tuple:
        cache_key = (raw, leaf.indent, leaf.depth)
        if leaf.with_leaves:
            cache_key += tuple(w.cache_key for w in leaf.with_leaves)
        return cache_key

    def _parse_into(self, leaf: Leaf, raw: str, runs: "_ProfileRuns | None" = None, index: int = 0) -> None:
        """Parse (or find in the cache, or take from its run's parse) the leaf's text; a block
        that does not read is noted."""
        cache_key = leaf.cache_key = leaf.cache_key or self._cache_key(leaf, raw)
        parsed = self._previous_leaves.get(cache_key) or self._current_leaves.get(cache_key)
        if parsed is None and runs is not None:
            parsed = runs.take(index)
        if parsed is None:
            try:
                parsed = self._parse_leaf(raw, leaf.indent, leaf.depth, leaf.with_leaves, leaf.profile)
            except _LeafFailed:
                leaf.parsed = None
                self._failed.append(leaf)
                return
        self._current_leaves[cache_key] = parsed
        self._alias_expansion += parsed.alias_expansion
        if self._alias_expansion > self.limits.max_alias_expansion:
            raise _Unsafe  # over the limit in total: the whole parse reports where
        leaf.parsed = parsed
        if leaf.profile and parsed.tree is not None:
            self._note_profile_ranges(parsed, cache_key)

    def _parse_leaf(self, raw: str, indent: int, depth: int, with_leaves: tuple[Leaf, ...],
                    profile: bool) -> LeafParse:
        dedented = _dedented(raw, indent)
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
            raise _LeafFailed
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
        wanted, plain = self._wanted_ranges(parsed, cache_key)
        for pointer in plain:
            parsed.plain_text(pointer)
        for pointer, target in wanted:
            parsed.span(pointer, target)
        parsed.tree = None

    def _wanted_ranges(self, parsed: LeafParse, cache_key: tuple) -> tuple[list[tuple[str, str]], list[str]]:
        """The (pointer, target) ranges a profile's problems need, and the pointers whose plain
        text a 'quote it' hint needs (the engine's per-profile pass runs here, see above)."""
        key, value = parsed.key, parsed.value
        inner = "/" + pointer_escape(key)
        wanted, plain = [], []
        if value is None or not _slug_shaped(key):
            wanted.append((inner, "key"))  # a null profile, a key that is not a slug
        else:
            problems = self._profile_results.get(cache_key)
            if problems is None:
                problems = self._profile_results[cache_key] = profile_problems(value)
            for problem in problems:
                wanted.append((inner + problem.pointer, problem.target))
                if problem.hint_quote:
                    plain.append(inner + problem.pointer)
            if isinstance(value, dict) and isinstance(value.get("slug"), str) and value["slug"] != key:
                wanted.append((inner + "/slug", "value"))
        return wanted, plain

    def parse_leaf_text(self, dedented: str, depth: int, entries: bool = False) -> ParsedYaml:
        limits = self._depth_limits.get(depth)
        if limits is None:  # a block `depth` levels down may nest that much less
            limits = self._depth_limits[depth] = dataclasses.replace(
                self.limits, max_depth=max(0, self.limits.max_depth - depth))
        return parse(dedented, limits, bare=True, entries=entries)


class _ProfileRuns:
    """The profile blocks of one `profiles:` mapping that are not cached, parsed a run of
    consecutive blocks at a time (one parse per run, not per block: a parse's own cost, and
    the blocks whose anchors a run's aliases name, read once per run instead of per block).

    Each block of a run gets the `LeafParse` its own parse would give (`_parse_leaf`): its
    key and value (the same entry of the same text), its combined text and part lines, and
    its alias expansion (its own aliases' share, `ParsedYaml.entry_expansion`, plus what the
    blocks parsed in front of it add). A block is left to its own parse when a run could
    read it differently (an alias name whose anchor comes later, text that does not end a
    line, what `_parse_leaf` refuses), when the run's parse has any finding, or when its
    problems need ranges (its own parse keeps its node tree for them).
    """

    # Runs stay small (`IncrementalValidator.RUN_BLOCKS`): past a few dozen blocks a run's
    # node tree outgrows the CPU's caches and each node costs more to build.
    MAX_CHARS = 1 << 15

    def __init__(self, owner: IncrementalValidator, made: list[tuple[Leaf, str]]):
        self.owner = owner
        self.made = made
        self.results: dict[int, LeafParse] = {}
        self.tried = -1  # the blocks up to this index have been offered to a run
        # the last run's parse, and where each text in it starts and how many lines it has
        self.tree: ParsedYaml | None = None
        self.part_lines: dict[Leaf, tuple[int, int]] = {}

    def take(self, index: int) -> LeafParse | None:
        if index > self.tried:
            self._run_from(index)
        parsed = self.results.pop(index, None)
        if parsed is None:
            return None
        leaf = self.made[index][0]
        wanted, plain = self.owner._wanted_ranges(parsed, leaf.cache_key)
        if wanted and not self._place(leaf, parsed, wanted, plain):
            return None
        self.owner.in_runs += 1
        return parsed

    def _place(self, leaf: Leaf, parsed: LeafParse, wanted: list[tuple[str, str]], plain: list[str]) -> bool:
        """The ranges a profile's problems need, read from the run's node tree and moved to
        where its own parse has them; False if one is not wholly inside one of its texts
        (a range ending where its text ends: what follows differs), for its own parse to place."""
        tree, where = self.tree, self.part_lines
        parts = (*leaf.with_leaves, leaf)

        def moved(line: int) -> tuple[int, int] | None:
            for i, part in enumerate(parts):
                first, count = where[part]
                if first <= line < first + count:
                    return i, line - first + parsed.part_lines[i]
            return None

        spans = {}
        for pointer, target in wanted:
            span = tree.span_of(pointer, target)
            start, end = moved(span.start_line), moved(span.end_line)
            if start is None or end is None or start[0] != end[0]:
                return False
            spans[(pointer, target)] = Span(start[1], span.start_col, end[1], span.end_col)
        parsed.spans.update(spans)
        for pointer in plain:
            parsed.plain[pointer] = tree.plain_text(pointer)
        return True

    def _run_from(self, first: int) -> None:
        owner, made = self.owner, self.made
        cached_before, cached_now = owner._previous_leaves, owner._current_leaves
        anchors = owner._anchor_leaves
        members: list[tuple[int, Leaf, str]] = []
        texts: dict[Leaf, str] = {}  # each block's own text, as its own parse (and a run) reads it
        chars = 0
        index = first
        while index < len(made) and len(members) < owner.RUN_BLOCKS and chars < self.MAX_CHARS:
            leaf, raw = made[index]
            if index > first and (leaf.cache_key in cached_before or leaf.cache_key in cached_now):
                break
            if not raw.endswith("\n"):
                break
            if leaf.aliases and any((got := anchors.get(name)) is not None and got.start > leaf.start
                                    for name in leaf.aliases):
                break  # an alias its own parse cannot resolve, a run might
            dedented = _dedented(raw, leaf.indent)
            if leaf.with_leaves:
                if dedented[:1] in ("", " ", "#", "\n", "\r") or any(
                        w not in texts and (w.parsed is None or not w.parsed.text.endswith("\n"))
                        for w in leaf.with_leaves):
                    break  # what `_parse_leaf` refuses
                for w in leaf.with_leaves:
                    if w not in texts:
                        texts[w] = w.parsed.text
            texts[leaf] = dedented
            members.append((index, leaf, dedented))
            chars += len(dedented)
            index += 1
        self.tried = max(first, index - 1)
        if len(members) < 2:
            return  # a lone block: its own parse, as always
        in_run = {leaf for _, leaf, _ in members}
        front = sorted({w for _, leaf, _ in members for w in leaf.with_leaves if w not in in_run},
                       key=lambda w: w.start)
        result = owner.parse_leaf_text("".join([texts[w] for w in front] + [d for _, _, d in members]),
                                       members[0][1].depth, entries=True)
        data, marks = result.data, result.entry_expansion
        count = len(front) + len(members)
        if (result.fatal or result.empty or result.diagnostics or not isinstance(data, dict)
                or len(data) != count or marks is None or len(marks) != count):
            return
        keys, values = list(data), list(data.values())
        if keys[:len(front)] != [w.key for w in front]:
            return
        own: dict[Leaf, int] = {}
        seen: set[int] = set()
        parses = []
        for k, (index, leaf, dedented) in enumerate(members):
            at = len(front) + k
            value = values[at]
            if isinstance(value, (dict, list)):  # an aliased profile: its own parse gives it its own copy
                if id(value) in seen:
                    return
                seen.add(id(value))
            own[leaf] = marks[at] - (marks[at - 1] if at else 0)
            part_lines, line = [], 0
            for w in leaf.with_leaves:
                part_lines.append(line)
                line += texts[w].count("\n")
            part_lines.append(line)
            expansion = own[leaf] + sum(own[w] if w in own else w.parsed.alias_expansion for w in leaf.with_leaves)
            combined = "".join([texts[w] for w in leaf.with_leaves] + [dedented])
            parses.append((index, LeafParse(keys[at], value, combined, expansion, tuple(part_lines))))
        self.results.update(parses)
        self.tree, self.part_lines, line = result, {}, 0
        for part in (*front, *(leaf for _, leaf, _ in members)):
            count = texts[part].count("\n")
            self.part_lines[part] = (line, count)
            line += count


_PROBLEM_FIELDS = tuple(f.name for f in dataclasses.fields(Problem))


class _ForkedShare:
    """The profile blocks of a `profiles:` mapping just opened, read by a forked child
    (`forked`) from the end backwards, a chunk at a time, while this process reads them from
    the start; where the two meet, this process takes the child's readings for the rest.
    Each block gets the `LeafParse` and the per-profile problems its reading here would give
    (the child runs the same code on the same text), sent back as plain data. A block the
    child could not read cleanly (one that does not parse, a repeated key in it) is read
    here as always, and if the child stops early this process simply reads on.

    Only for a mapping none of whose blocks is cached (a reading that is all new). The
    blocks whose anchors a chunk's blocks use are read in the child first (their texts are
    parsed in front of those blocks, as here)."""

    CHUNK = 256  # blocks per message: small enough to arrive soon, large enough to be cheap
    POLL_EVERY = 32  # blocks read here between looks at what has arrived

    def __init__(self, owner: IncrementalValidator, made: list[tuple[Leaf, str]], child: forked.Forked) -> None:
        self.owner, self.made, self.child = owner, made, child
        self.low = len(made)  # the child's readings cover blocks low.. (contiguous to the end)
        self.results: dict[int, Any] = {}
        self.met = False

    @classmethod
    def start(cls, owner: IncrementalValidator, made: list[tuple[Leaf, str]]) -> "_ForkedShare | None":
        if owner.FORK_BLOCKS <= 0 or len(made) < owner.FORK_BLOCKS or not forked.wanted():
            return None
        cached = owner._previous_leaves.keys() | owner._current_leaves.keys()
        if any(leaf.cache_key in cached for leaf, _ in made):
            return None
        child = forked.start(lambda send: _read_backwards(owner, made, cls.CHUNK, send))
        return None if child is None else cls(owner, made, child)

    def _take_arrived(self) -> None:
        for message in self.child.poll():
            first, readings = message if isinstance(message, tuple) and len(message) == 2 else (-1, ())
            if not isinstance(readings, list) or first + len(readings) != self.low:
                self.close()  # not the chunk that was due: read the rest here
                return
            self.results.update(zip(range(first, self.low), readings))
            self.low = first

    def install(self, index: int) -> bool:
        """Give block `index` what the child read for it; False: read it here."""
        if not self.met:
            if index % self.POLL_EVERY == 0 or index >= self.low - 1:
                self._take_arrived()
            if index < self.low:
                return False
            self.met = True
            self.close()  # everything from here on has arrived; the child's work below is done here
        got = self.results.pop(index, None)
        if got is None:
            return False
        parsed, problems = _from_reading(got)
        leaf = self.made[index][0]
        owner = self.owner
        owner._current_leaves[leaf.cache_key] = parsed
        owner._alias_expansion += parsed.alias_expansion
        if owner._alias_expansion > owner.limits.max_alias_expansion:
            raise _Unsafe  # over the limit in total: the whole parse reports where
        leaf.parsed = parsed
        if problems is not None:
            owner._profile_results[leaf.cache_key] = problems
        owner.forked += 1
        return True

    def close(self) -> None:
        if not self.child.ended:
            self.child.close()
            self.owner.forked_peak_kb = max(self.owner.forked_peak_kb, self.child.peak_kb)
            log.info("%d of %d profile blocks read by a forked child (its peak RSS %d MB)",
                     len(self.made) - self.low, len(self.made), self.child.peak_kb >> 10)


def _reading(parsed: LeafParse, problems: list[Problem] | None) -> tuple:
    """A block's reading (a tree-less `LeafParse` and its profile's problems) as plain data."""
    return (parsed.key, parsed.value, parsed.text, parsed.alias_expansion, parsed.part_lines,
            [(pointer, target, tuple(span)) for (pointer, target), span in parsed.spans.items()], parsed.plain,
            None if problems is None else [tuple(getattr(p, name) for name in _PROBLEM_FIELDS) for p in problems])


def _from_reading(reading: tuple) -> tuple[LeafParse, list[Problem] | None]:
    """What `_reading` made plain, made again."""
    key, value, text, expansion, part_lines, spans, plain, problems = reading
    parsed = LeafParse(key, value, text, expansion, tuple(part_lines),
                       spans={(pointer, target): Span(*span) for pointer, target, span in spans}, plain=plain)
    return parsed, None if problems is None else [Problem(*fields) for fields in problems]


def _read_backwards(owner: IncrementalValidator, made: list[tuple[Leaf, str]], chunk: int,
                    send: Callable[[Any], None]) -> None:
    """In the child: the blocks' readings as plain data (None: the parent reads that block),
    sent a chunk at a time from the end, each as (its first index, its readings)."""
    raw_of = {leaf: raw for leaf, raw in made}
    end = len(made)
    while end > 0:
        first = max(0, end - chunk)
        part = made[first:end]
        for w in sorted({w for leaf, _ in part for w in leaf.with_leaves if w.parsed is None},
                        key=lambda w: w.start):
            if w not in raw_of:
                return
            owner._parse_into(w, raw_of[w])  # an earlier block whose anchors these use
            if w.parsed is None:
                return  # it does not read: the parent's reading decides
        runs = _ProfileRuns(owner, part)
        readings: list = []
        for n, (leaf, raw) in enumerate(part):
            owner._parse_into(leaf, raw, runs, n)  # `_Unsafe`: the child stops; the parent meets it too
            parsed = leaf.parsed
            if parsed is None or parsed.diagnostics or parsed.tree is not None:
                readings.append(None)
                continue
            readings.append(_reading(parsed, owner._profile_results.get(leaf.cache_key)))
        send((first, readings))
        end = first


@lru_cache(maxsize=None)
def _slug_pattern() -> re.Pattern:
    return re.compile(schema_def("slug")["pattern"])


def _slug_shaped(key: str) -> bool:
    return _slug_pattern().search(key) is not None


def _reusable(state: _SplitState, text: str) -> _Reuse:
    """The mappings of the last split that lie wholly outside the edit that gives `text`."""
    old = state.text
    a = _common_prefix(old, text)
    tail = _common_suffix(old, text, min(len(old), len(text)) - a)
    old_end, delta = len(old) - tail, len(text) - len(old)
    by_start: dict[int, Container] = {}
    stack = list(state.root.containers)
    while stack:
        container = stack.pop()
        if container.end <= a:
            by_start[container.start] = container
        elif container.start >= old_end:
            by_start[container.start + delta] = container
        stack.extend(container.containers)
    return _Reuse(by_start, state.anchor_leaves, state.owners)


def _leaves_of(container: Container, out: list[Leaf]) -> None:
    """The leaves of a split mapping, nested ones included, in document order."""
    for child in container.children.values():
        if child.__class__ is Leaf:
            out.append(child)
        else:
            _leaves_of(child, out)


def _move(container: Container, shift: int, leaves: list[Leaf]) -> None:
    """Move a split mapping, the mappings inside it and its leaves by `shift`."""
    stack = [container]
    while stack:
        c = stack.pop()
        c.start += shift
        c.end += shift
        if c.key_offset is not None:
            c.key_offset += shift
        stack.extend(c.containers)
    for leaf in leaves:
        leaf.start += shift
        leaf.end += shift
        leaf.line_start += shift


def _shift_containers(container: Container, at: int, delta: int) -> None:
    """Move the split mappings after offset `at` by `delta` (those holding it grow)."""
    if container.start > at:
        container.start += delta
    if container.end > at:
        container.end += delta
    if container.key_offset is not None and container.key_offset > at:
        container.key_offset += delta
    for sub in container.containers:
        _shift_containers(sub, at, delta)


# Reader findings that belong to one block and do not stop a parse: the block keeps them.
_BLOCK_LOCAL_CODES = frozenset(("yaml-duplicate-key",))


class AssembledYaml:
    """The document's source map over split blocks: data, reader findings and ranges.

    Ranges come from the blocks' own source maps, moved back to document coordinates; a
    split mapping's range (the root, `profiles:`, a registry) from its header.
    """

    fatal = False
    empty = False

    def __init__(self, text: str, root: Container, leaves: list[Leaf], owner: IncrementalValidator,
                 line_starts: list[int] | None = None):
        self.text = text
        self.root_container = root
        self.owner = owner
        self.data = root.data()
        self._lines: LineIndex | None = None if line_starts is None else LineIndex(text, line_starts)
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
            self._full = parse(self.text, self.owner.limits, bare=True)
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
