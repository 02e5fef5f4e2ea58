"""The diagnostic record every layer reports (SPEC section 3)."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, NamedTuple


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


def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_join(pointer: str, token: object) -> str:
    return f"{pointer}/{pointer_escape(str(token))}"


def pointer_split(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
