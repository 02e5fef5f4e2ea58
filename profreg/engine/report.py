"""The engine's report: diagnostics (SPEC section 3), field paths and the wording of
schema errors, and the one-line form of a report's first error.

A `Problem` is what the schema layer and the invariants find: a code, a message and a
pointer. `run` finishes each into a `Diagnostic`, which adds the field path and the
source range.
"""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field as dc_field
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Sequence

from ..pointer import pointer_join, pointer_split
from ..secrets import under_secret_key

if TYPE_CHECKING:
    from .sourcemap import SourceMap


class Span(NamedTuple):
    """A source range: 0-based lines, 0-based columns counted in Unicode code points."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" | "warning" | "info"
    code: str
    message: str
    field: str = ""
    pointer: str = ""
    span: Span = NO_SPAN
    keyword: str | None = None
    data: dict[str, Any] | None = dc_field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict[str, Any]:
        """The `validate --format json` shape: 1-based line and column."""
        out: dict[str, Any] = {"severity": self.severity, "code": self.code}
        if self.keyword is not None:
            out["keyword"] = self.keyword
        out.update(
            message=self.message,
            field=self.field,
            pointer=self.pointer,
            line=self.span.start_line + 1,
            column=self.span.start_col + 1,
            end_line=self.span.end_line + 1,
            end_column=self.span.end_col + 1,
        )
        return out


def errors_only(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]


@dataclass
class Report:
    """What validating a document gives: diagnostics sorted by position, plus the data."""

    diagnostics: list[Diagnostic]
    data: Any = None
    form: str | None = None
    parsed: SourceMap | None = None

    @property
    def valid(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return errors_only(self.diagnostics)

    @property
    def registry_slugs(self) -> tuple[str, ...] | None:
        """The slugs of the registries a store document holds; None if none is readable."""
        data = self.data
        if self.form == "bundle" and isinstance(data.get("registries"), dict):
            return tuple(str(key) for key in data["registries"])
        if self.form in ("single", "legacy"):
            slug = data.get("slug")
            return (slug if isinstance(slug, str) else "",)
        return None


@dataclass
class Problem:
    """A finding before it gets its field path and range."""

    code: str
    message: str
    pointer: str
    target: str = "value"  # value | key | object (a missing property: the object's key)
    field: str | None = None  # default: derived from pointer
    keyword: str | None = None
    severity: str = "error"
    hint_quote: bool = False
    null_value: bool = False
    # `field` is relative to the profile at this pointer (`policy.override_keys`)
    profile_pointer: str | None = None


# --------------------------------------------------------------------------------------
# Field paths: registry.profiles[agent].runtime.tools[1]
# --------------------------------------------------------------------------------------
def field_for(pointer: str, root: str = "registry") -> str:
    tokens = pointer_split(pointer)
    if root == "bundle":
        if len(tokens) >= 2 and tokens[0] == "registries":
            if len(tokens) == 2:
                return f"registries[{tokens[1]}]"
            tokens = tokens[2:]
            root = "registry"
        else:
            root = ""
    if root == "profile":
        # lone profile: `profile.slug`, but `runtime.tools[0]`, `policy.override_keys`
        if tokens[:1] == ["slug"] or not tokens:
            root = "profile"
        else:
            root = ""
    out = root
    parent = None
    for token in tokens:
        if parent in ("profiles", "registries") or token.isdigit():
            out += f"[{token}]"
        else:
            out += f".{token}" if out else token
        parent = token
    return out


# --------------------------------------------------------------------------------------
# One line for a caller that raises on the first error
# --------------------------------------------------------------------------------------
def first_error_line(
    errors: Sequence[Diagnostic],
    *,
    prefix: str = "",
    default_field: str = "",
    more: str = "more",
    position: bool = False,
    what: str = "",
    code: bool = False,
) -> str:
    """`prefix[:line:col]: [what: ][code: ]field: message (and N more)` for the first error.

    `position`: the 1-based source position after `prefix` (`file:line:col`); `more=""`
    leaves the count of further errors out."""
    first = errors[0]
    where = first.field or default_field
    text = f"{where}: {first.message}" if where else first.message
    if code:
        text = f"{first.code}: {text}"
    if what:
        text = f"{what}: {text}"
    if position:
        prefix = f"{prefix}:{first.span.start_line + 1}:{first.span.start_col + 1}"
    if prefix:
        text = f"{prefix}: {text}"
    if more and len(errors) > 1:
        text += f" (and {len(errors) - 1} {more})"
    return text


# --------------------------------------------------------------------------------------
# How schema errors read
# --------------------------------------------------------------------------------------
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _kind_of(value: Any) -> str:
    """What a value is, without its content (for values under a secret-looking key)."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return _describe(value)


def _describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _last_token(pointer: str) -> str:
    tokens = pointer_split(pointer)
    return tokens[-1] if tokens else "the document"


def schema_problems(errors: Iterable[Any], prefix: str) -> Iterable[Problem]:
    """Schema errors as problems a person can act on: jsonschema's (from `iter_errors`), or
    jsonschema-rs's read into the same terms (`schema.SchemaError`)."""
    for error in errors:
        path = prefix
        for token in error.absolute_path:
            path = pointer_join(path, token)
        keyword = error.validator
        describe = _kind_of if under_secret_key(path) else _describe
        schema_path = list(error.relative_schema_path)
        if "propertyNames" in schema_path:
            name = error.instance
            yield Problem(
                "schema",
                f"{name!r} is not a valid key here: keys must be slugs (lower-case letters, digits, "
                f"'.', '_' or '-', starting and ending with a letter or digit)",
                pointer_join(path, name),
                target="key",
                keyword="propertyNames",
            )
        elif keyword == "additionalProperties":
            allowed = sorted((error.schema.get("properties") or {}).keys())
            for extra in _extras(error):
                close = difflib.get_close_matches(extra, allowed, n=1)
                where = _last_token(path) if path else "the document"
                hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(allowed)}"
                yield Problem(
                    "schema",
                    f"unknown property {extra!r} in {where}{hint}",
                    pointer_join(path, extra),
                    target="key",
                    keyword=keyword,
                )
        elif keyword == "required":
            for missing in _missing(error):
                # `field` is completed to a full field path when the problem is finished
                yield Problem("schema", f"missing required property {missing!r}", path, target="object",
                              keyword="required", field=missing)
        elif keyword == "type":
            expected = error.validator_value
            words = _TYPE_WORDS.get(expected, str(expected)) if isinstance(expected, str) else " or ".join(
                _TYPE_WORDS.get(t, t) for t in expected
            )
            yield Problem(
                "schema",
                f"{_last_token(path)} must be {words}, not {describe(error.instance)}",
                path,
                target="key" if error.instance is None else "value",
                keyword=keyword,
                hint_quote=expected == "string",
                null_value=error.instance is None,
            )
        elif keyword == "pattern":
            yield Problem(
                "schema",
                f"{describe(error.instance)} is not a valid slug for {_last_token(path)}: use lower-case "
                "letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
                path,
                keyword=keyword,
            )
        elif keyword == "minimum":
            yield Problem(
                "schema",
                f"{_last_token(path)} must be at least {error.validator_value}, not "
                f"{'that' if describe is _kind_of else repr(error.instance)}",
                path,
                keyword=keyword,
            )
        elif describe is _kind_of:  # jsonschema's own wording quotes the value
            yield Problem("schema", f"{_last_token(path)} ({describe(error.instance)}) fails the schema's "
                          f"`{keyword}` rule", path, keyword=keyword)
        else:
            yield Problem("schema", error.message, path, keyword=keyword)


def _extras(error) -> list[str]:
    schema = error.schema
    props = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    return [
        k
        for k in error.instance
        if k not in props and not any(re.search(p, k) for p in patterns)
    ]


def _missing(error) -> list[str]:
    try:
        name = ast.literal_eval(error.message.split(" is a required property")[0])
        return [name]
    except (ValueError, SyntaxError):
        return [p for p in error.validator_value if p not in error.instance]
