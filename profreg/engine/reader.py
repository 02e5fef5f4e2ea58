"""Reading registry YAML: YAML 1.2 core-schema data plus a source map, never a traceback.

libyaml (PyYAML's C parser) composes the node tree with character offsets; this module
builds plain JSON-like data from it with YAML 1.2 core-schema scalars, and turns every
problem (bad bytes, syntax, duplicate keys, second documents, alias bombs, oversize or
overly deep input) into a diagnostic. The node tree is kept as the source map, so a
diagnostic's JSON pointer can be turned into an exact range only when one is reported.
"""
from __future__ import annotations

import bisect
import dataclasses
import math
import operator
import re
import sys
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..limits import ENV_VARS, Limits, current_limits
from .gcpause import collector_paused
from ..pointer import pointer_join, pointer_split
from .report import Diagnostic, Span

try:  # libyaml's parser, where installed (large files); the pure-Python one is the fallback
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


DEFAULT_LIMITS = Limits()  # without the environment's settings; `parse` uses current_limits()

_PLAIN = "tag:profreg:plain"  # marks plain scalars whose type the core schema decides
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_COLLECTION_TAGS = frozenset((_MAP, _SEQ, "!", ""))  # "": implicit in a bare tree (`_BareLoader`)


class CoreLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Composes nodes only; scalar typing is done here with YAML 1.2 core-schema rules."""

    # libyaml's composer calls these two hooks for every node (for PyYAML "path
    # resolvers", which this loader does not use). Built-in callables that accept the
    # same arguments and do nothing save two Python frames per node:
    # descend_resolver(parent, index), ascend_resolver().
    descend_resolver = slice
    ascend_resolver = tuple

    nodes_left = 0  # set per document: the node limit, counted down as libyaml composes

    def resolve(self, kind, value, implicit):  # noqa: D401 - libyaml calls this per node
        # Called for every node whose tag is implicit (nodes with an explicit tag are
        # bounded by a count of "!" in the text): the tree never grows past the limit.
        self.nodes_left -= 1
        if self.nodes_left < 0:
            raise _NodeLimit
        if kind is ScalarNode:
            if implicit[0]:
                return _MERGE if value == "<<" else _PLAIN
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


class _BareLoader(CoreLoader):
    """Composes nodes with no Python call per node: each implicit tag stays "" (a node's
    class and style say what it is), for a text with no `!` (so no explicit tags).

    Built-in callables with the hooks' arities: `"".format` ignores its arguments, and
    `operator.is_` allocates nothing (`slice` builds one per node); the node limit is
    counted by `ascend_resolver`, set per document (see `_compose`).
    """

    resolve = "".format
    descend_resolver = operator.is_


_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_OCT_RE = re.compile(r"0o[0-7]+\Z")
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF_RE = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN_RE = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUES = frozenset(("true", "True", "TRUE"))
_FALSES = frozenset(("false", "False", "FALSE"))
# A plain scalar starting with any other character is a string in the core schema.
SPECIAL_FIRST = frozenset("~nNtTfF0123456789+-.")


class IntegerTooLong(ValueError):
    """An integer literal with more digits than Python converts (`sys.get_int_max_str_digits`)."""


def _printable(value: int) -> int:
    """`value`, unless it has more decimal digits than Python will print (then IntegerTooLong)."""
    limit = sys.get_int_max_str_digits()
    if limit and value.bit_length() > limit * 3.3219:  # log2(10) bits per decimal digit
        raise IntegerTooLong(f"an integer of {value.bit_length()} bits")
    return value


def core_scalar(text: str) -> Any:
    """The YAML 1.2 core-schema value of a plain scalar (IntegerTooLong: see the class)."""
    if not text:
        return None
    if text[0] not in SPECIAL_FIRST:
        return text
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if _INT_RE.match(text):
        try:
            return int(text)
        except ValueError:  # over Python's int <-> str limit
            raise IntegerTooLong(f"an integer of {len(text.lstrip('+-'))} digits") from None
    if _OCT_RE.match(text):
        return _printable(int(text[2:], 8))
    if _HEX_RE.match(text):
        return _printable(int(text[2:], 16))
    if _FLOAT_RE.match(text):
        return float(text)
    if _INF_RE.match(text):
        return -math.inf if text[0] == "-" else math.inf
    if _NAN_RE.match(text):
        return math.nan
    return text


class LineIndex:
    """Character offset <-> (line, column); lines end at \\n, \\r\\n or \\r only."""

    _BREAK = re.compile(r"\r\n|\r|\n")

    def __init__(self, text: str, starts: list[int] | None = None):
        """`starts`: the offsets where the text's lines start, if the caller already has them."""
        self.text = text
        if starts is None:
            if "\r" in text:
                starts = [0] + [m.end() for m in self._BREAK.finditer(text)]
            else:  # the common case: no regex match object per line
                starts = list(accumulate(map((1).__add__, map(len, text.split("\n")[:-1])), initial=0))
        self.starts = starts

    def position(self, index: int) -> tuple[int, int]:
        index = max(0, min(index, len(self.text)))
        line = bisect.bisect_right(self.starts, index) - 1
        return line, index - self.starts[line]

    def span(self, start: int, end: int) -> Span:
        sl, sc = self.position(start)
        el, ec = self.position(max(start, end))
        return Span(sl, sc, el, ec)

    def line_text(self, line: int) -> str:
        if line >= len(self.starts):
            return ""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[line] : end].rstrip("\r\n")


class _Abort(Exception):
    """Stops construction after a fatal diagnostic (limit exceeded)."""


@dataclass
class ParsedYaml:
    """The outcome of reading a document: data (None if fatal), node tree, diagnostics."""

    text: str
    data: Any = None
    root: Node | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fatal: bool = False  # syntax/limit/multi-document: nothing more may be reported
    empty: bool = False
    alias_expansion: int = 0  # nodes added by aliases (counted against Limits.max_alias_expansion)
    nodes: int = 0  # nodes counted against Limits.max_nodes (those with explicit tags are not)
    # with `parse(entries=True)` and a mapping at the root: the alias expansion counted so
    # far after each of its entries, in order (what each entry's own aliases added)
    entry_expansion: list[int] | None = None
    _lines: LineIndex | None = None
    _key_index: dict[int, dict[str, tuple[Node, Node]]] = field(default_factory=dict)

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def node_span(self, node: Node) -> Span:
        return self.lines.span(node.start_mark.index, node.end_mark.index)

    # -- source map -----------------------------------------------------------------
    def _pairs(self, node: MappingNode) -> dict[str, tuple[Node, Node]]:
        """Key text -> (key node, value node), later duplicates win, merges underneath."""
        cached = self._key_index.get(id(node))
        if cached is not None:
            return cached
        pairs: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if _is_merge_key(key_node):
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for src in sources:
                    if isinstance(src, MappingNode):
                        for k, kv in self._pairs(src).items():
                            merged.setdefault(k, kv)
                continue
            if isinstance(key_node, ScalarNode):
                pairs[key_node.value] = (key_node, value_node)
        for k, kv in merged.items():
            pairs.setdefault(k, kv)
        self._key_index[id(node)] = pairs
        return pairs

    def locate(self, pointer: str) -> tuple[Node | None, Node | None]:
        """(key node, value node) for a JSON pointer; the deepest existing ancestor if missing."""
        node = self.root
        key_node: Node | None = None
        for token in pointer_split(pointer):
            if isinstance(node, MappingNode):
                hit = self._pairs(node).get(token)
                if hit is None:
                    break
                key_node, node = hit
            elif isinstance(node, SequenceNode):
                try:
                    node = node.value[int(token)]
                except (ValueError, IndexError):
                    break
                key_node = None
            else:
                break
        return key_node, node

    def span_of(self, pointer: str, target: str = "value") -> Span:
        """Range for a pointer: `value`, `key` (falls back to value), or `object`."""
        if self.root is None:
            return Span(0, 0, 0, len(self.lines.line_text(0)))
        key_node, value_node = self.locate(pointer)
        if target == "object":
            # the key of the object (line 1 at the root)
            if key_node is not None:
                return self.node_span(key_node)
            if pointer and value_node is not None and value_node is not self.root:
                # a list item has no key: the first line of the item itself
                return self._first_line_span(value_node)
            return Span(0, 0, 0, len(self.lines.line_text(0)))
        if target == "value" and value_node is not None:
            if not _is_empty_value(value_node) or key_node is None:
                return self.node_span(value_node)
        if key_node is not None:
            return self.node_span(key_node)
        if value_node is not None:
            return self.node_span(value_node)
        return Span(0, 0, 0, 0)

    def _first_line_span(self, node: Node) -> Span:
        span = self.node_span(node)
        if span.end_line == span.start_line:
            return span
        return Span(span.start_line, span.start_col, span.start_line, len(self.lines.line_text(span.start_line)))

    def plain_text(self, pointer: str) -> str | None:
        """The source text of a plain scalar at pointer (for 'quote it' hints)."""
        _, node = self.locate(pointer)
        if isinstance(node, ScalarNode) and _is_plain(node):
            return node.value
        return None


def _is_plain(node: ScalarNode) -> bool:
    """A plain scalar with an implicit tag (the core schema types it); "" in a bare tree,
    where a plain `<<` is the merge tag's (as `CoreLoader.resolve` tags it)."""
    tag = node.tag
    return tag == _PLAIN or (tag == "" and node.style == "" and node.value != "<<")


def _is_merge_key(node: Node) -> bool:
    tag = node.tag
    return tag == _MERGE or (tag == "" and node.value == "<<" and node.style == "")


def _is_absent(root: Node) -> bool:
    """A document with no content at all (`---` alone): libyaml gives an empty plain scalar."""
    return isinstance(root, ScalarNode) and _is_plain(root) and root.value == "" and (
        root.start_mark.index == root.end_mark.index
    )


def _is_empty_value(node: Node) -> bool:
    return isinstance(node, ScalarNode) and _is_plain(node) and node.value in _NULLS


def decode(raw: bytes) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 (BOM dropped) or a yaml-syntax diagnostic at the first bad byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8", errors="replace")
        idx = LineIndex(good)
        line, col = idx.position(len(good))
        return None, Diagnostic(
            "error",
            "yaml-syntax",
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            span=Span(line, col, line, col + 1),
        )
    return text, None


def parse(source: str | bytes, limits: Limits | None = None, *, line_starts: list[int] | None = None,
          bare: bool = False, entries: bool = False) -> ParsedYaml:
    """Read one YAML document; every problem becomes a diagnostic in the result.

    `limits`: default the ones in force (`profreg.limits.current_limits`). `line_starts`:
    where the lines of a text (not bytes) start, if the caller keeps them. `bare`: the node
    tree may leave implicit tags "" (`_BareLoader`), for a caller that reads it only
    through `ParsedYaml`'s methods (the stores' splice reads the tags themselves).
    `entries`: note `ParsedYaml.entry_expansion`."""
    limits = limits or current_limits()
    if isinstance(source, (bytes, bytearray)):
        if len(source) > limits.max_bytes:
            # input read against the limit stops one byte past it: no exact size to give
            return _limit_result("", f"the input is over the size limit of {limits.max_bytes} bytes "
                                     f"(set {ENV_VARS['max_bytes']} to raise it)")
        text, err = decode(bytes(source))
        if err is not None:
            return ParsedYaml(text="", diagnostics=[err], fatal=True)
        assert text is not None
    else:
        text = source
        if len(text) > limits.max_bytes:  # characters: close enough, and cheap
            return _limit_result(text, f"the document is over the size limit of {limits.max_bytes} bytes "
                                       f"(set {ENV_VARS['max_bytes']} to raise it)")
    if text.startswith("\ufeff"):
        text, line_starts = text[1:], None
    result = ParsedYaml(text=text, _lines=None if line_starts is None or text is not source
                        else LineIndex(text, line_starts))
    with collector_paused():
        shielded, restore = _shield_yaml11_breaks(text)
        bangs = text.count("!")
        if bangs > limits.max_nodes:  # bounds the nodes with explicit tags
            return _limit_result(text, _node_limit_message(limits))
        root = _compose(shielded, result, limits, bare and not bangs)
        if result.fatal:
            return result
        if root is None or _is_absent(root):
            result.empty = True
            return result
        if restore is not None:
            _restore_scalars(root, restore)
        result.root = root
        try:
            constructor = _Constructor(result, limits)
            result.data = constructor.build(root, entries)
            result.alias_expansion = constructor.expansion
        except _Abort:
            result.data = None
            result.fatal = True
    return result


# libyaml reads YAML 1.1, where U+0085, U+2028 and U+2029 end lines; in YAML 1.2 (and in
# editors and LSP) they are ordinary characters. Before parsing they are swapped for
# noncharacters the text does not contain (one code point each, so every offset stays
# exact), and swapped back in scalar values afterwards. Rare, so the common case pays
# only three `in` scans.
YAML11_BREAKS = "\u0085\u2028\u2029"  # the one list of them; splice and the server use it
_STAND_INS = tuple(chr(c) for c in range(0xFDD0, 0xFDF0))  # Unicode noncharacters


def _shield_yaml11_breaks(text: str) -> tuple[str, dict[int, int] | None]:
    if not any(ch in text for ch in YAML11_BREAKS):
        return text, None
    free = [c for c in _STAND_INS if c not in text][: len(YAML11_BREAKS)]
    if len(free) < len(YAML11_BREAKS):  # pragma: no cover - a text holding 30 noncharacters
        return text, None
    there = str.maketrans(dict(zip(YAML11_BREAKS, free)))
    back = str.maketrans(dict(zip(free, YAML11_BREAKS)))
    return text.translate(there), back


def _restore_scalars(root: Node, table: dict[int, int]) -> None:
    visited: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, ScalarNode):
            node.value = node.value.translate(table)
        elif isinstance(node, MappingNode):
            for pair in node.value:
                stack.extend(pair)
        else:
            stack.extend(node.value)


def _limit_result(text: str, message: str) -> ParsedYaml:
    return ParsedYaml(text=text, diagnostics=[Diagnostic("error", "yaml-limit", message)], fatal=True)


class _NodeLimit(Exception):
    """Raised from the composer when the document has more nodes than the limit."""


def _node_limit_message(limits: Limits) -> str:
    return (f"the document has more than {limits.max_nodes} nodes, over the node limit "
            f"(set {ENV_VARS['max_nodes']} to raise it)")


# More than the nodes open at once in any tree libyaml composes (its nesting limit is 1,000).
_OPEN_NODES_BOUND = 2048


def _compose(text: str, result: ParsedYaml, limits: Limits, bare: bool = False) -> Node | None:
    try:
        loader = (_BareLoader if bare else CoreLoader)(text)  # libyaml reads the text's UTF-8 encoding
    except UnicodeEncodeError as exc:  # a lone surrogate: only a text (LSP's JSON, a caller's str) has one
        result.diagnostics.append(Diagnostic(
            "error", "yaml-syntax",
            f"the text holds a lone surrogate U+{ord(text[exc.start]):04X}, which is not a character",
            span=result.lines.span(exc.start, exc.start + 1)))
        result.fatal = True
        return None
    loader.nodes_left = limits.max_nodes
    if bare:  # counted once per node composed; exhausted past the limit (StopIteration)
        left = iter(range(limits.max_nodes))
        loader.ascend_resolver = left.__next__
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError:
            # A bare tree counts a node when it is done, a tagged one when it starts: an
            # error inside the nodes that started past the limit would be reported before
            # the limit. Near the limit, the tagged count decides.
            if bare and limits.max_nodes - left.__length_hint__() + _OPEN_NODES_BOUND >= limits.max_nodes:
                return _compose(text, result, limits, False)
            raise
        result.nodes = limits.max_nodes - (left.__length_hint__() if bare else loader.nodes_left)
        return root
    except (_NodeLimit, StopIteration):
        result.diagnostics.append(Diagnostic("error", "yaml-limit", _node_limit_message(limits)))
        result.fatal = True
    except yaml.composer.ComposerError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context and "single document" in exc.context:
            span = _mark_span(result, exc.problem_mark)
            result.diagnostics.append(
                Diagnostic(
                    "error",
                    "yaml-multiple-documents",
                    "the file holds more than one YAML document; a registry file holds exactly one",
                    span=span,
                )
            )
        else:
            result.diagnostics.append(
                Diagnostic("error", "yaml-syntax", _yaml_message(exc), span=_mark_span(result, mark))
            )
        result.fatal = True
    except yaml.MarkedYAMLError as exc:
        result.diagnostics.append(parser_diagnostic(exc, result))
        result.fatal = True
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        # libyaml reports a byte offset into the UTF-8 encoding of the text
        offset = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
        char = exc.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        result.diagnostics.append(
            Diagnostic(
                "error",
                "yaml-syntax",
                f"YAML does not allow the character {shown} ({exc.reason})",
                span=result.lines.span(offset, offset + 1),
            )
        )
        result.fatal = True
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # reader errors, odd input
        result.diagnostics.append(Diagnostic("error", "yaml-syntax", f"not valid YAML: {exc}"))
        result.fatal = True
    finally:
        try:
            loader.dispose()
        except Exception:  # pragma: no cover - defensive
            pass
    return None


def parser_diagnostic(exc: yaml.MarkedYAMLError, result: ParsedYaml, shift: int = 0) -> Diagnostic:
    """The diagnostic for a scanner or parser error; `shift` moves its marks' offsets."""
    message = _yaml_message(exc)
    code = "yaml-limit" if "maximum nesting depth" in message else "yaml-syntax"

    def moved(mark: Any) -> Any:
        return mark if mark is None or not shift else yaml.Mark(mark.name, mark.index + shift, 0, 0, None, None)

    span = _mark_span(result, moved(exc.problem_mark or exc.context_mark))
    missing = _key_without_colon(result, moved(exc.problem_mark), exc.problem)
    if missing is not None:
        span, message = missing
    return Diagnostic("error", code, message, span=span)


# Characters libyaml's reader refuses (YAML's printable set, complemented). The reader
# checks a whole input chunk ahead of the parser, so such a character shortly after a
# syntax error can be what a whole parse reports.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_READER_LOOKAHEAD = 1 << 16


def syntax_error_from(text: str, start: int, context: str, line_starts: list[int] | None = None) -> ParsedYaml | None:
    """The result a whole parse of `text` gives, read from `start` on, if it is a syntax error.

    For a document whose text before `start` is known to read cleanly (the language server
    has parsed it block by block) and leaves the parser expecting a key of a block mapping:
    `context` is a stand-in for that text, a chain of `x:` lines down to that mapping's
    indentation, so the parser meets `text[start:]` as the whole document has it. Only
    libyaml's parser runs (no nodes are built), up to the first error. None when the rest
    reads without a parser error, or when a whole parse could stop at something else
    first: an alias or anchor before the error (the composer checks those), or a
    character the reader refuses near it. `line_starts`: where the text's lines start, if
    the caller keeps them.
    """
    try:
        loader = CoreLoader(context + text[start:])
    except UnicodeEncodeError:  # a lone surrogate: the whole parse says where
        return None
    try:
        loader.raw_parse()
        return None
    except yaml.MarkedYAMLError as exc:
        # without its traceback: kept, it would hold this frame (the loader, a copy of the
        # text) in a reference cycle until the next full collection
        error = exc.with_traceback(None)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    finally:
        loader.dispose()
    marks = [m.index for m in (error.problem_mark, error.context_mark) if m is not None]
    if not marks or min(marks) < len(context):
        return None
    shift = start - len(context)
    at = max(marks) + shift
    before = text[start:at + 1]
    if "*" in before or "&" in before or _NOT_PRINTABLE.search(text, start, at + _READER_LOOKAHEAD):
        return None
    result = ParsedYaml(text=text, fatal=True, _lines=None if line_starts is None else LineIndex(text, line_starts))
    result.diagnostics.append(parser_diagnostic(error, result, shift))
    return result


def _mark_span(result: ParsedYaml, mark: Any) -> Span:
    if mark is None:
        return Span(0, 0, 0, 0)
    line, col = result.lines.position(mark.index)
    return Span(line, col, line, col + 1 if col < len(result.lines.line_text(line)) else col)


_BARE_WORD = re.compile(r"[^\s#:\[\]{},&*!|>'\"%@`-][^#:]*?")


def _key_without_colon(result: ParsedYaml, mark: Any, problem: str | None) -> tuple[Span, str] | None:
    """A key typed without its colon, read by YAML as the start of the next line's key.

    `display_name` above `runtime: {}` (same indentation) is one plain scalar over two lines
    to YAML, so the error lands on the second; the line that needs the fix is the first.
    """
    if mark is None or "mapping values are not allowed" not in (problem or ""):
        return None
    line, _ = result.lines.position(mark.index)
    here = result.lines.line_text(line)
    indent = len(here) - len(here.lstrip(" "))
    above = line - 1
    while above >= 0 and not result.lines.line_text(above).strip():
        above -= 1
    if above < 0:
        return None
    text = result.lines.line_text(above)
    word = text.strip()
    if len(text) - len(text.lstrip(" ")) != indent or not _BARE_WORD.fullmatch(word):
        return None
    return (
        Span(above, indent, above, indent + len(word)),
        f"YAML syntax error: {word!r} has no ':' after it (a key is written `key: value`; without the colon "
        "YAML reads it as the start of the next line's text)",
    )


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    text = "; ".join(parts) if parts else str(exc).splitlines()[0]
    return f"YAML syntax error: {text}"


class _Constructor:
    """Node tree -> JSON-like data, with duplicate-key, merge, depth and alias checks."""

    def __init__(self, result: ParsedYaml, limits: Limits):
        self.result = result
        self.limits = limits
        # id(node) -> (value, expanded size); None for a text with no alias (no node is reached twice)
        self.done: dict[int, tuple[Any, int]] | None = {} if "*" in result.text else None
        self.expansion = 0
        # (index in result.diagnostics, mapping node, key) of each repeated key
        self.duplicates: list[tuple[int, MappingNode, str]] = []

    def build(self, root: Node, entries: bool = False) -> Any:
        if entries and root.__class__ is MappingNode and root.tag in _PLAIN_COLLECTION_TAGS:
            marks: list[int] = []
            value = self._mapping(root, 0, marks)[0]
            self.result.entry_expansion = marks
        else:
            value = self._node(root, 0)[0]
        if self.duplicates:
            self._point_duplicates(root)
        return value

    def _point_duplicates(self, root: Node) -> None:
        """Give each duplicate-key diagnostic the pointer of its key (rare: done after the fact).

        Paths are not tracked while constructing, to keep the common case fast; instead
        the tree is searched once for the mappings that repeat a key.
        """
        wanted = {id(node) for _, node, _ in self.duplicates}
        found = _pointers_of(root, wanted)
        for index, node, key in self.duplicates:
            base = found.get(id(node))
            if base is None:
                continue
            diag = self.result.diagnostics[index]
            self.result.diagnostics[index] = dataclasses.replace(diag, pointer=pointer_join(base, key))

    def _limit(self, node: Node, message: str) -> None:
        self.result.diagnostics.append(
            Diagnostic("error", "yaml-limit", message, span=self.result.node_span(node))
        )
        raise _Abort

    def _node(self, node: Node, depth: int) -> tuple[Any, int]:
        if node.__class__ is ScalarNode:  # no memo: an aliased scalar costs what its alias does
            return self._scalar(node), 1
        done = self.done
        if done is not None and (seen := done.get(id(node))) is not None:
            # an alias: shared value, but its size counts again
            self.expansion += seen[1]
            if self.expansion > self.limits.max_alias_expansion:
                self._limit(node, f"alias expansion exceeds the limit of {self.limits.max_alias_expansion} nodes")
            return seen
        if depth > self.limits.max_depth:
            self._limit(node, f"nesting is deeper than the limit of {self.limits.max_depth} levels")
        if node.tag not in _PLAIN_COLLECTION_TAGS:  # !!set, !!omap, !custom: not JSON data
            self._unsupported(node)
        if node.__class__ is MappingNode:
            out = self._mapping(node, depth)
        else:
            items = []
            size = 1
            for child in node.value:
                if child.__class__ is ScalarNode:  # inlined: most items are scalars
                    items.append(self._scalar(child))
                    size += 1
                else:
                    value, n = self._node(child, depth + 1)
                    items.append(value)
                    size += n
            out = (items, size)
        if done is not None:
            done[id(node)] = out
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if (tag == "" and node.style == "") or tag == _PLAIN:
            text = node.value
            # fast path: a plain scalar not starting like null/bool/number is a string
            if text and text[0] not in SPECIAL_FIRST:
                return text
            try:
                return core_scalar(text)
            except IntegerTooLong as exc:
                self._limit(node, f"{exc} is over Python's limit of {sys.get_int_max_str_digits()} digits "
                                  "(PYTHONINTMAXSTRDIGITS); quote it to keep it as text")
        if tag == "" or tag == _STR or tag == "!" or tag == _MERGE:
            return node.value
        if tag in _EXPLICIT:
            return _EXPLICIT[tag](node.value)
        self._unsupported(node)
        return node.value

    def _unsupported(self, node: Node) -> None:
        self.result.diagnostics.append(
            Diagnostic(
                "error",
                "yaml-unsupported-tag",
                f"the tag {node.tag!r} is not supported in registry files",
                span=self.result.node_span(node),
            )
        )

    def _mapping(self, node: MappingNode, depth: int, marks: list[int] | None = None) -> tuple[dict, int]:
        out: dict[str, Any] = {}
        size = 1
        merges: list[Node] = []
        for key_node, value_node in node.value:
            key = key_node.value  # keys are the strings written (YAML 1.2 keeps `no` as "no")
            if key == "<<" and (key_node.tag == _MERGE or (key_node.tag == "" and key_node.style == "")):
                merges.append(value_node)
                continue
            if key_node.__class__ is not ScalarNode:
                self.result.diagnostics.append(
                    Diagnostic(
                        "error",
                        "yaml-syntax",
                        "a mapping key must be a plain string, not a list or mapping",
                        span=self.result.node_span(key_node),
                    )
                )
                continue
            if key in out:
                self.duplicates.append((len(self.result.diagnostics), node, key))
                self.result.diagnostics.append(
                    Diagnostic(
                        "error",
                        "yaml-duplicate-key",
                        f"duplicate key {key!r}: the mapping already has it; the later value is used",
                        span=self.result.node_span(key_node),
                    )
                )
            if value_node.__class__ is ScalarNode:  # inlined: most values are scalars
                out[key] = self._scalar(value_node)
                size += 1
            else:
                value, n = self._node(value_node, depth + 1)
                out[key] = value
                size += n
            if marks is not None:
                marks.append(self.expansion)
        if merges:
            merged_sources: list[dict] = []
            for merge_node in merges:
                sources = merge_node.value if isinstance(merge_node, SequenceNode) else [merge_node]
                for src in sources:
                    value, n = self._node(src, depth + 1)
                    if not isinstance(value, dict):
                        self.result.diagnostics.append(
                            Diagnostic(
                                "error",
                                "yaml-syntax",
                                "a merge key (<<) takes a mapping or a list of mappings",
                                span=self.result.node_span(src),
                            )
                        )
                        continue
                    size += n
                    merged_sources.append(value)
            out = merged_mapping(merged_sources, out)
        return out, size


def merged_mapping(sources: list[dict], own: dict) -> dict:
    """A mapping with merge keys (`<<`): each key from the first source that has it, the
    mapping's own keys over all of them, in that order."""
    merged: dict[str, Any] = {}
    for source in sources:
        for k, v in source.items():
            merged.setdefault(k, v)
    for k, v in own.items():
        merged[k] = v
    return merged


def _pointers_of(root: Node, wanted: set[int]) -> dict[int, str]:
    """JSON pointers of the wanted nodes (by id), first path found; each node visited once."""
    found: dict[int, str] = {}
    visited: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack and len(found) < len(wanted):
        node, pointer = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if id(node) in wanted:
            found.setdefault(id(node), pointer)
        if isinstance(node, MappingNode):
            for key_node, value_node in reversed(node.value):
                if isinstance(key_node, ScalarNode) and not _is_merge_key(key_node):
                    stack.append((value_node, pointer_join(pointer, key_node.value)))
        elif isinstance(node, SequenceNode):
            for i in range(len(node.value) - 1, -1, -1):
                stack.append((node.value[i], pointer_join(pointer, i)))
    return found


def _bool(text: str) -> bool:
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    raise ValueError(text)


def _int(text: str) -> int:
    value = core_scalar(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(text)
    return value


def _float(text: str) -> float:
    value = core_scalar(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(text)
    return float(value)


def _safe(convert):
    def run(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            return text

    return run


_EXPLICIT = {
    "tag:yaml.org,2002:bool": _safe(_bool),
    "tag:yaml.org,2002:int": _safe(_int),
    "tag:yaml.org,2002:float": _safe(_float),
    "tag:yaml.org,2002:null": lambda text: None,
}


def iter_top_level_keys(text: str) -> Iterator[str]:
    """Keys at column 1 (`key:`), found by a line scan: for documents that do not parse."""
    for m in re.finditer(r"^([A-Za-z0-9_][^:#\s]*)\s*:(?:\s|$)", text, re.M):
        yield m.group(1)
