"""The validation engine, one module per stage of its pipeline:

reader (YAML 1.2 text -> data + source map) -> schema layer -> invariants -> run (ties
them; the one place that pauses the garbage collector besides the reader) -> report
(diagnostics, field paths, wording). `detection` says which documents are registries.

The CLI, the stores and the language server validate through this face only (a store's
first read of a file through `read_for_store`).
"""
from __future__ import annotations

from .reader import DEFAULT_LIMITS, Limits, ParsedYaml, parse
from .report import Diagnostic, Report, Span
from .run import read_for_store, validate_parsed, validate_profile, validate_registry, validate_text

__all__ = [
    "parse",
    "validate_text",
    "validate_parsed",
    "validate_registry",
    "validate_profile",
    "read_for_store",
    "Diagnostic",
    "Report",
    "Span",
    "ParsedYaml",
    "Limits",
    "DEFAULT_LIMITS",
]
