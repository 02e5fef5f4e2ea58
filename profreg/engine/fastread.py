"""A store file's data read straight from libyaml's events, with no node tree.

A store reads a large file whole before it can answer anything, and the node tree the
reader keeps as a source map (`reader.parse`) is only needed to place problems. For a
document in the plain shape registries have (block and flow collections, plain and quoted
scalars, anchors, aliases, merge keys), `read_data` builds the same data `parse` would,
objects shared where `parse` shares them, from the parser's events alone. Anything else —
a tag, a duplicate key, a key that is not a scalar, an undefined or redefined anchor, a
limit approached, YAML 1.1 line breaks, a second document, bytes `parse` would refuse —
gives None, and the caller reads the text with `parse`, whose diagnostics are the ones
reported. A parser (syntax) error is the exception: `parse` stops at the same event with
the same error, so its result is built here alike (`syntax_error`).
"""
from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    AliasEvent, DocumentEndEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
    SequenceEndEvent, SequenceStartEvent, StreamEndEvent, StreamStartEvent,
)

from ..limits import Limits
from .reader import (
    SPECIAL_FIRST, YAML11_BREAKS, IntegerTooLong, ParsedYaml, CoreLoader, parser_diagnostic, core_scalar, decode,
    merged_mapping,
)

_LIBYAML = getattr(yaml, "CSafeLoader", None)  # libyaml's loader, where installed
_KEY = object()  # a mapping waiting for its next key
_MERGE_KEY = object()  # a mapping whose pending key is `<<`


class _NotPlain(Exception):
    """The document is outside what `read_data` reads: `parse` must read it."""


def read_data(raw: bytes, limits: Limits) -> tuple[str, Any] | ParsedYaml | None:
    """(text, data) of a store file's bytes, as `parse(raw, limits)` reads them with no
    diagnostic; a fatal `ParsedYaml` for a syntax error (as `parse` gives it); None: the
    document needs `parse` (see the module's docstring)."""
    if len(raw) > limits.max_bytes or _LIBYAML is None or not issubclass(CoreLoader, _LIBYAML):
        return None  # over the limit, or without libyaml: `parse` alone
    text, err = decode(bytes(raw))
    if err is not None or text is None:
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    if any(ch in text for ch in YAML11_BREAKS) or text.count("!") > limits.max_nodes:
        return None
    try:
        loader = CoreLoader(text)
    except UnicodeEncodeError:
        return None
    try:
        return text, _build(loader.get_event, limits)
    except _NotPlain:
        return None
    except yaml.composer.ComposerError:
        return None
    except yaml.MarkedYAMLError as exc:
        return syntax_error(text, exc)
    except (yaml.YAMLError, ValueError, RecursionError, IntegerTooLong):
        return None
    finally:
        loader.dispose()


def syntax_error(text: str, exc: yaml.MarkedYAMLError) -> ParsedYaml:
    """What `parse` gives for a document whose parser stops at `exc` before anything else."""
    result = ParsedYaml(text=text, fatal=True)
    result.diagnostics.append(parser_diagnostic(exc.with_traceback(None), result))
    return result


def _build(get: Any, limits: Limits) -> Any:
    """The document's data from its events; _NotPlain where `parse` must decide."""
    if get().__class__ is not StreamStartEvent or get().__class__ is not DocumentStartEvent:
        raise _NotPlain  # no document (empty, comments only): the reader's own case
    max_nodes, max_depth, max_expansion = limits.max_nodes, limits.max_depth, limits.max_alias_expansion
    nodes = expansion = 0
    # anchor -> (value, size, is a collection); a collection's entry is None while it is open
    anchors: dict[str, tuple[Any, int, bool] | None] = {}
    merging = 0  # open collections inside a merge value: an anchor there is `parse`'s to place
    # the open collections, innermost last: [container, pending key, size, merges, anchor, in a merge value]
    stack: list[list[Any]] = []
    cur: Any = None  # the innermost open container (dict or list), None before the root
    # in a mapping: _KEY (a key comes next), _MERGE_KEY, or the key whose value comes next;
    # in a list: None
    key: Any = None
    size = 0  # the current container's size as `reader._Constructor` counts it (aliases expanded)
    special = SPECIAL_FIRST
    try:
        while True:
            event = get()
            cls = event.__class__
            if cls is ScalarEvent and event.anchor is None and event.tag is None:
                nodes += 1
                value = event.value
                if key is _KEY:
                    if value == "<<" and event.implicit[0]:
                        key = _MERGE_KEY
                    elif value in cur:
                        raise _NotPlain  # a duplicate key: reported by `parse`
                    else:
                        key = value
                    continue
                if event.implicit[0] and (not value or value[0] in special):
                    value = core_scalar(value)  # plain: the core schema decides
                if key is None:
                    if cur is None:
                        root = value
                        break
                    cur.append(value)
                elif key is _MERGE_KEY:
                    raise _NotPlain  # a merge of a scalar: reported by `parse`
                else:
                    cur[key] = value
                    key = _KEY
                size += 1
                continue
            if cls is MappingEndEvent or cls is SequenceEndEvent:
                value, n = cur, size
                top = stack.pop()
                merges = top[3]
                if merges:
                    n += sum(source_size for _source, source_size in merges)
                    value = merged_mapping([source for source, _size in merges], value)
                if top[5]:
                    merging -= 1
                if top[4] is not None:
                    anchors[top[4]] = (value, n, True)
                if not stack:
                    root = value
                    break
                parent = stack[-1]
                cur, key, size = parent[0], parent[1], parent[2]
            elif key is _KEY:
                raise _NotPlain  # a key that is a collection, an alias, anchored or tagged
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                if event.tag is not None:
                    raise _NotPlain
                nodes += 1
                if len(stack) >= max_depth or nodes > max_nodes:
                    raise _NotPlain
                anchor = event.anchor
                is_merge = key is _MERGE_KEY
                if anchor is not None:
                    if anchor in anchors or merging or is_merge:
                        raise _NotPlain
                    anchors[anchor] = None
                if is_merge:
                    if cls is SequenceStartEvent:
                        raise _NotPlain  # a list of merge sources: rare, left to `parse`
                    merging += 1
                elif merging:
                    merging += 1
                if stack:
                    top = stack[-1]
                    top[1], top[2] = key, size
                cur, key, size = ({}, _KEY, 1) if cls is MappingStartEvent else ([], None, 1)
                stack.append([cur, key, size, None, anchor, merging > 0])
                continue
            elif cls is ScalarEvent:  # anchored or tagged
                if event.tag is not None or event.anchor in anchors or merging:
                    raise _NotPlain
                nodes += 1
                value = event.value
                if event.implicit[0] and (not value or value[0] in special):
                    value = core_scalar(value)
                anchors[event.anchor] = (value, 1, False)
                n = 1
            elif cls is AliasEvent:
                found = anchors.get(event.anchor)
                if found is None:
                    raise _NotPlain  # undefined, or an alias inside its own anchor
                value, n, collection = found
                if collection:
                    expansion += n
                    if expansion > max_expansion:
                        raise _NotPlain
            else:
                raise _NotPlain
            # `value` (of size `n`) completes the current position
            if key is None:
                if cur is None:
                    root = value
                    break
                cur.append(value)
                size += n
            elif key is _MERGE_KEY:
                if value.__class__ is not dict:
                    raise _NotPlain  # reported by `parse`
                top = stack[-1]
                if top[3] is None:
                    top[3] = []
                top[3].append((value, n))
                key = _KEY
            else:
                cur[key] = value
                size += n
                key = _KEY
        if nodes > max_nodes:
            raise _NotPlain
        if get().__class__ is not DocumentEndEvent or get().__class__ is not StreamEndEvent:
            raise _NotPlain  # a second document
    except yaml.MarkedYAMLError:
        if nodes > max_nodes:
            raise _NotPlain from None  # `parse` stops at its node limit first
        raise
    if root is None or root == "":
        raise _NotPlain  # `---` alone or a null document: the reader's own cases
    return root
