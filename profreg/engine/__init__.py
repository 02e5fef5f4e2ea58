"""The validation engine, one module per stage of its pipeline:

reader (YAML 1.2 text -> data + source map) -> schema layer -> invariants -> run (ties
them; the one place that pauses the garbage collector besides the reader) -> report
(diagnostics, field paths, wording). `detection` says which documents are registries.

The CLI, the stores and the language server validate through this face only (a store's
first read of a file through `read_for_store`, of a stored row through `read_and_check`, its
edit of a file it read through `edit_for_store`).

The face's names are looked up in their stage when first used (PEP 562, as `profreg`'s own
names are): a module that may parse or validate — a store, a command — imports this package
at its top and calls `engine.validate_registry(...)`, and the stages, with the YAML parser
and the validators, load only when it first does. A `resolve` whose store was validated
before (the validation cache) never loads them. `from profreg.engine import parse` loads
the stage at once, for modules that always use it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazynames import lazy_names

if TYPE_CHECKING:
    from .reader import DEFAULT_LIMITS, Limits, ParsedYaml, parse
    from .report import Diagnostic, Report, Span, errors_only, first_error_line
    from .run import (
        edit_for_store,
        read_and_check,
        read_and_validate,
        read_for_store,
        validate_parsed,
        validate_profile,
        validate_registry,
        validate_text,
    )

__all__ = [
    "parse",
    "validate_text",
    "validate_parsed",
    "validate_registry",
    "validate_profile",
    "read_for_store",
    "read_and_check",
    "read_and_validate",
    "edit_for_store",
    "Diagnostic",
    "Report",
    "Span",
    "first_error_line",
    "errors_only",
    "ParsedYaml",
    "Limits",
    "DEFAULT_LIMITS",
]

# name -> the stage that defines it
_STAGE_OF = {
    "parse": "reader",
    "ParsedYaml": "reader",
    "Limits": "reader",
    "DEFAULT_LIMITS": "reader",
    "Diagnostic": "report",
    "Report": "report",
    "Span": "report",
    "first_error_line": "report",
    "errors_only": "report",
    "validate_text": "run",
    "validate_parsed": "run",
    "validate_registry": "run",
    "validate_profile": "run",
    "read_for_store": "run",
    "read_and_check": "run",
    "read_and_validate": "run",
    "edit_for_store": "run",
}


__getattr__, __dir__ = lazy_names(__name__, _STAGE_OF, __all__)
