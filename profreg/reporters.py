"""How `profreg validate` prints its results: text, JSON or GitHub Actions annotations.

Each reporter takes the checked files in order and returns the whole output as one
string (written at once: a 10,000-profile document can give many diagnostics).
Formats follow SPEC section 6:

- text:   `path:line:col: severity[code] field: message` (1-based; `field: ` left out
          when empty), then one summary line last;
- json:   `{"files": [{"path", "valid", "diagnostics": [Diagnostic.to_json(), ...]}]}`;
- github: `::error file=PATH,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::FIELD: MESSAGE`
          (`::warning` / `::notice` for the other severities), one per diagnostic.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from .pointer import pointer_split

if TYPE_CHECKING:  # the records only: `validate`'s module loads no YAML parser
    from .engine import Diagnostic

FORMATS = ("text", "json", "github")


@dataclass(frozen=True)
class CheckedFile:
    """One validated document: `path` exactly as the user gave it (or as found in a directory).

    `registries`: for what `validate --store` checked, the slugs of the registries this
    entry holds (one SQLite registry, or every registry of a YAML store file); the summary
    counts those instead of files. None for a plain file.
    """

    path: str
    diagnostics: Sequence[Diagnostic]
    registries: tuple[str, ...] | None = None

    @property
    def valid(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def invalid_registries(self) -> int:
        """How many of `registries` an error sits in; an error outside every registry's
        entry (the document root, a syntax error) counts against all of them."""
        registries = self.registries or ()
        hit: set[str] = set()
        for d in self.diagnostics:
            if not d.is_error:
                continue
            tokens = pointer_split(d.pointer) if d.pointer else []
            if len(registries) > 1 and len(tokens) >= 2 and tokens[0] == "registries" and tokens[1] in registries:
                hit.add(tokens[1])
            else:
                return len(registries)
        return len(hit)


def _one_line(text: str) -> str:
    # a message or field never spans lines in line-oriented output
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def text_line(path: str, d: Diagnostic) -> str:
    where = f"{path}:{d.span.start_line + 1}:{d.span.start_col + 1}"
    field = f"{_one_line(d.field)}: " if d.field else ""
    return f"{where}: {d.severity}[{d.code}] {field}{_one_line(d.message)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(files: Sequence[CheckedFile]) -> str:
    """E.g. `2 files checked: 1 invalid, 3 errors, 1 warning` (infos counted when present);
    what `--store` checked is counted in registries (`3 registries checked: ...`)."""
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in files:
        for d in f.diagnostics:
            counts[d.severity] = counts.get(d.severity, 0) + 1
    plain = [f for f in files if f.registries is None]
    stored = [f for f in files if f.registries is not None]
    invalid = sum(1 for f in plain if not f.valid) + sum(f.invalid_registries() for f in stored)
    parts = [f"{invalid} invalid", _plural(counts["error"], "error"), _plural(counts["warning"], "warning")]
    if counts["info"]:
        parts.append(_plural(counts["info"], "info"))
    registry_count = sum(len(f.registries) for f in stored)
    what = []
    if plain or not stored:
        what.append(_plural(len(plain), "file"))
    if stored:
        what.append(f"{registry_count} {'registry' if registry_count == 1 else 'registries'}")
    return f"{' and '.join(what)} checked: {', '.join(parts)}"


def render_text(files: Sequence[CheckedFile]) -> str:
    lines = [text_line(f.path, d) for f in files for d in f.diagnostics]
    lines.append(summary_line(files))
    return "\n".join(lines) + "\n"


def render_json(files: Sequence[CheckedFile]) -> str:
    doc = {
        "files": [
            {"path": f.path, "valid": f.valid, "diagnostics": [d.to_json() for d in f.diagnostics]}
            for f in files
        ]
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# GitHub workflow commands: data escapes %, CR, LF; property values also ':' and ','.
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def github_line(path: str, d: Diagnostic) -> str:
    s = d.span
    props = (
        f"file={_escape_property(path)},line={s.start_line + 1},col={s.start_col + 1},"
        f"endLine={s.end_line + 1},endColumn={s.end_col + 1},title={_escape_property(d.code)}"
    )
    body = f"{d.field}: {d.message}" if d.field else d.message
    return f"::{_GITHUB_COMMAND.get(d.severity, 'notice')} {props}::{_escape_data(body)}"


def render_github(files: Sequence[CheckedFile]) -> str:
    return "".join(github_line(f.path, d) + "\n" for f in files for d in f.diagnostics)


RENDERERS: dict[str, Callable[[Sequence[CheckedFile]], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
}


def render(files: Sequence[CheckedFile], fmt: str) -> str:
    return RENDERERS[fmt](files)
