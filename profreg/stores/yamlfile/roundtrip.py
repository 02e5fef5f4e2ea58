"""Round-trip editing of registry YAML text (ruamel.yaml) for the YAML file store.

`RoundTripDocument(text, form).replace_registry(slug, registry)` returns the document text with one registry
replaced (or added, or removed). The file is loaded in ruamel's round-trip mode and the
change is applied as a minimal diff to its CommentedMap: keys whose values did not change
are not touched, so comments, key order, quoting, flow/block style and layout of the
untouched parts come out as they were written. Indentation is detected from the file.

Reading and validating is the engine's job (`profreg.engine`);
ruamel is used for writing only, and the store checks the written text with the engine.
"""
from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from ...engine.reader import YAML11_BREAKS, core_scalar
from ...model import EDIT_FIELD_ORDER

NEW_FILE_INDENT = (2, 4, 2)  # mapping, sequence, dash offset: "key:\n  - item"
# a key whose block value starts on the next line (after an anchor or a tag, if any)
_KEY_LINE = re.compile(r"^( *)(?:(- +))?(?:[^#'\"\s][^#]*?|'[^']*'|\"[^\"]*\"):(?:\s+[&!][^\s#]*)*\s*(?:#.*)?$")
# How far the guess looks: a file's own style shows in its first lines, and a file with no
# block sequence there is not read to its end for one.
_GUESS_LINES = 5_000
_ITEM_LINE = re.compile(r"^( *)-( +)\S")


def guess_indentation(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as ruamel's `YAML.indent` takes them.

    Found from the first nested mapping and the first block sequence under a key line,
    within the first `_GUESS_LINES` lines."""
    mapping = sequence = offset = None
    parent: int | None = None  # column of the key whose block value starts on the next line
    for number, line in enumerate(text.splitlines()):
        if number >= _GUESS_LINES:
            break
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if parent is not None:
            item = _ITEM_LINE.match(line)
            if item and offset is None:
                offset = indent - parent
                sequence = offset + 1 + len(item.group(2))
            elif not item and indent > parent and mapping is None:
                mapping = indent - parent
        key = _KEY_LINE.match(line)
        parent = None
        if key:
            parent = len(key.group(1)) + len(key.group(2) or "")
        if mapping is not None and offset is not None:
            break
    mapping = mapping or NEW_FILE_INDENT[0]
    if offset is None:
        offset, sequence = NEW_FILE_INDENT[2], NEW_FILE_INDENT[2] + mapping
    return mapping, max(sequence or 0, offset + 2), offset


def round_trip_yaml(text: str) -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 1_000_000_000  # never re-wrap long lines
    mapping, sequence, offset = guess_indentation(text) if text else NEW_FILE_INDENT
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.explicit_start = text.lstrip().startswith("---")
    return yaml


# --------------------------------------------------------------------------------------
# Plain values and fresh nodes
# --------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """ruamel's loaded value as plain Python data (for comparisons)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, ScalarBoolean):
        return bool(value)
    return value


def _same(old: Any, new: Any) -> bool:
    """Equal values of the same kind (True is not 1 here)."""
    old = plain(old)
    return _kind(old) == _kind(new) and old == new


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):  # ruamel's quoted/folded/literal strings are str subclasses
        return "str"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "seq"
    return type(value).__name__


# YAML 1.1 emitters (ruamel's, PyYAML's) treat these as line breaks and fold a quoted
# scalar there; profreg reads YAML 1.2, where they are ordinary characters. In double quotes
# they are written as the escapes \N, \L and \P, which every YAML reader takes alike.
def needs_escapes(text: str) -> bool:
    return any(ch in text for ch in YAML11_BREAKS)


def fresh(value: Any) -> Any:
    """A new ruamel node for plain data (block style; multi-line strings as literal blocks)."""
    if isinstance(value, dict):
        node = CommentedMap()
        for key in _ordered(value):
            node[DoubleQuotedScalarString(key) if isinstance(key, str) and needs_escapes(key) else key] = \
                fresh(value[key])
        return node
    if isinstance(value, list):
        return CommentedSeq(fresh(v) for v in value)
    if isinstance(value, str) and needs_escapes(value):
        return DoubleQuotedScalarString(value)
    if isinstance(value, str) and "\n" in value and not value.startswith(" ") and _literal_safe(value):
        return LiteralScalarString(value)
    return value


def _literal_safe(text: str) -> bool:
    # A literal block cannot carry trailing spaces on lines or special characters faithfully.
    return all(not line.endswith((" ", "\t")) for line in text.split("\n")) and "\r" not in text


def _ordered(mapping: dict) -> list:
    known = [k for k in EDIT_FIELD_ORDER if k in mapping]
    return known + [k for k in mapping if k not in EDIT_FIELD_ORDER]


# --------------------------------------------------------------------------------------
# Minimal-diff application
# --------------------------------------------------------------------------------------
def shared_node_ids(root: Any) -> set[int]:
    """Nodes reachable more than once (YAML aliases), and the sources of merge keys (each
    mapping that merges one reads it): never edit those in place."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if _has_merge(node):
            for source in node.merge:  # (ruamel before 0.18 kept (position, mapping) pairs)
                source = source[1] if isinstance(source, tuple) else source
                shared.add(id(source))
                stack.append(source)
        stack.extend(node.values() if isinstance(node, dict) else node)
    return shared


def _has_merge(node: Any) -> bool:
    return isinstance(node, CommentedMap) and bool(getattr(node, "merge", None))


def _editable(old: Any, new: Any, shared: set[int]) -> bool:
    return id(old) not in shared and not _has_merge(old) and type(old) in (CommentedMap, CommentedSeq) and (
        isinstance(new, dict) if isinstance(old, dict) else isinstance(new, list)
    )


def sync_mapping(target: CommentedMap, new: dict, shared: set[int]) -> None:
    """Make `target` equal `new`, touching only the keys whose values differ."""
    for key in [k for k in target if str(k) not in new]:
        del target[key]
    if not target and not new:
        _emptied(target)
        return
    by_name = {str(k): k for k in target}
    for name, value in new.items():
        key = by_name.get(name)
        if key is None:
            _insert(target, name, fresh(value))
            continue
        _sync_entry(target, key, value, shared)


def sync_sequence(target: CommentedSeq, new: list, shared: set[int]) -> None:
    for index, value in enumerate(new[: len(target)]):
        _sync_entry(target, index, value, shared)
    del target[len(new):]
    if not target and not new:
        _emptied(target)
    target.extend(fresh(v) for v in new[len(target):])


def _sync_entry(container, key, value, shared: set[int]) -> None:
    """Bring one entry up to `value`: edit it in place where that keeps its layout, else replace it."""
    old = container[key]
    if _same(old, value):
        return
    if _editable(old, value, shared):
        if isinstance(old, dict):
            sync_mapping(old, value, shared)
        else:
            sync_sequence(old, value, shared)
    else:
        container[key] = fresh(value)


def _emptied(target: CommentedMap | CommentedSeq) -> None:
    """An emptied collection is written `{}` / `[]`; comments it held would be dumped in
    front of that and break the document, so they go with the entries."""
    target.ca.comment = None
    target.ca.items.clear()
    target.fa.set_flow_style()


def _insert(target: CommentedMap, key: str, value: Any) -> None:
    """Add a key where the schema's field order puts it (else at the end)."""
    if not target and target.fa.flow_style():
        target.fa.set_block_style()  # `profiles: {}` gaining its first profile
    if key in EDIT_FIELD_ORDER:
        rank = EDIT_FIELD_ORDER.index(key)
        keys = list(target)
        for position, existing in enumerate(keys):
            if str(existing) in EDIT_FIELD_ORDER and EDIT_FIELD_ORDER.index(str(existing)) > rank:
                target.insert(position, key, value)
                return
    target[key] = value


# --------------------------------------------------------------------------------------
# Presentation: what the store normalised away stays as the file wrote it
# --------------------------------------------------------------------------------------
def _keep_empty_mappings(out: dict, old: dict | None) -> None:
    """`runtime: {}` and the like in the file stay (the store reads them as absent)."""
    for key, value in (old or {}).items():
        if key not in out and value == {}:
            out[key] = {}


def shape_profile(profile: dict, old: dict | None) -> dict:
    out = dict(profile)
    if old is None or "slug" not in old:
        out.pop("slug", None)  # the key under `profiles` names it
    old_runtime = (old or {}).get("runtime")
    if isinstance(out.get("runtime"), dict) or isinstance(old_runtime, dict):
        runtime = dict(out.get("runtime") or {})
        _keep_empty_mappings(runtime, old_runtime if isinstance(old_runtime, dict) else None)
        if runtime or "runtime" in out:
            out["runtime"] = runtime
    _keep_empty_mappings(out, old)
    return out


def shape_registry(registry: dict, old: dict | None, *, in_bundle: bool) -> dict:
    out = dict(registry)
    if in_bundle and (old is None or "slug" not in old):
        out.pop("slug", None)  # the key under `registries` names it
    old_profiles = (old or {}).get("profiles")
    old_profiles = old_profiles if isinstance(old_profiles, dict) else {}
    if not out.get("profiles") and (old is None or "profiles" not in old):
        out.pop("profiles", None)
    elif isinstance(out.get("profiles"), dict):
        out["profiles"] = {
            key: shape_profile(value, old_profiles.get(key)) for key, value in out["profiles"].items()
        }
    _keep_empty_mappings(out, old)
    return out


# --------------------------------------------------------------------------------------
# The edit
# --------------------------------------------------------------------------------------
class RoundTripDocument:
    """A registry YAML document loaded for editing; it can be edited and dumped repeatedly.

    Loading is the costly part of a round trip (ruamel is pure Python), so the YAML store
    keeps the document between its own writes while the file does not change."""

    def __init__(self, text: str, form: str | None) -> None:
        """`text`: a valid bundle or single document, or "" / comments only."""
        self.yaml = round_trip_yaml(text)
        self.form = form
        self.prefix = ""
        self.root = self.yaml.load(text) if text.strip() else None
        if self.root is None:
            self.prefix = text if text.strip() else ""  # a comments-only file keeps its comments
            self.root, self.form = CommentedMap([("registries", CommentedMap())]), "bundle"

    def dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.root, out)
        return self.prefix + out.getvalue()

    def replace_registry(self, slug: str, registry: dict | None) -> str:
        """Set registry `slug` to `registry` (None: remove it); returns the new text.

        A single document that gains a second registry, or loses its only one, becomes a
        bundle."""
        shared = shared_node_ids(self.root)
        if self.form == "single" and self.root.get("slug") == slug:
            if registry is None:  # the only registry goes: an empty bundle, under the header
                self.prefix = _leading_comments(self.dump())
                self.root, self.form = CommentedMap([("registries", CommentedMap())]), "bundle"
            else:
                sync_mapping(self.root, shape_registry(registry, plain(self.root), in_bundle=False), shared)
            return self.dump()
        if self.form == "single":  # gaining a second registry: rewrite as a bundle
            text = single_as_bundle(
                self.dump(), str(self.root["slug"]), self.yaml.map_indent or NEW_FILE_INDENT[0]
            )
            self.prefix = ""
            self.root, self.form = self.yaml.load(text), "bundle"
            shared = shared_node_ids(self.root)
        if self.root.get("registries") is None:
            self.root["registries"] = CommentedMap()
        registries = self.root["registries"]
        key = {str(k): k for k in registries}.get(slug, slug)
        if registry is None:
            registries.pop(key, None)
            return self.dump()
        old = registries.get(key)
        shaped = shape_registry(registry, plain(old) if isinstance(old, dict) else None, in_bundle=True)
        if isinstance(old, CommentedMap) and _editable(old, shaped, shared):
            sync_mapping(old, shaped, shared)
        else:
            registries[key] = fresh(shaped)
        return self.dump()


def single_as_bundle(text: str, slug: str, indent: int) -> str:
    """The single-form text nested under `registries: {slug: ...}`, comments and layout kept.

    Leading comment lines stay at the top; every other line is indented by two levels
    (indenting a whole block node keeps its meaning, block scalars included)."""
    lines = text.splitlines(keepends=True)
    head = 0
    while head < len(lines) and (not lines[head].strip() or lines[head].lstrip().startswith("#")):
        head += 1
    if head < len(lines) and lines[head].startswith("---"):
        head += 1  # keep an explicit document start above the new root
    pad = " " * (2 * indent)
    body = [pad + line if line.strip() else line for line in lines[head:]]
    if body and not body[-1].endswith(("\n", "\r")):
        body[-1] += "\n"
    key = slug if _plain_key(slug) else repr(slug)
    return "".join(lines[:head]) + f"registries:\n{' ' * indent}{key}:\n" + "".join(body)


def _leading_comments(text: str) -> str:
    """The comment and blank lines a document starts with."""
    lines = text.splitlines(keepends=True)
    head = 0
    while head < len(lines) and (not lines[head].strip() or lines[head].lstrip().startswith("#")):
        head += 1
    return "".join(lines[:head])


def _plain_key(slug: str) -> bool:
    # A slug that YAML would read as something else than that string needs quotes.
    return core_scalar(slug) == slug
