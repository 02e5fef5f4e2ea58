"""Reading conformance/validate cases and comparing results with their expect.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from tests.conftest import CONFORMANCE, VALIDATE_CASES  # noqa: F401  (re-exported for the tests)

VALIDATE_DIR = CONFORMANCE / "validate"


def load_case(name: str) -> tuple[bytes, dict[str, Any]]:
    """The raw document bytes and the parsed NAME.expect.json of a conformance case."""
    raw = (VALIDATE_DIR / f"{name}.yaml").read_bytes()
    expect = json.loads((VALIDATE_DIR / f"{name}.expect.json").read_text(encoding="utf-8"))
    return raw, expect


def unmatched_expectations(expected: Sequence[dict], reported: Sequence[dict]) -> list[dict]:
    """Expected entries that cannot each be matched by a *different* reported diagnostic.

    Only the attributes an entry lists are compared (corpus README). Matching is a
    bipartite assignment (augmenting paths), so the order of entries does not matter.
    """
    candidates = [
        [j for j, got in enumerate(reported) if all(got.get(k) == v for k, v in want.items())]
        for want in expected
    ]
    owner: dict[int, int] = {}  # reported index -> expected index

    def assign(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    return [want for i, want in enumerate(expected) if not assign(i, set())]


def check_against_expectation(expect: dict, reported: Sequence[dict], valid: bool) -> None:
    """Assert a validation result (diagnostics in `to_json()` shape) meets NAME.expect.json."""
    errors = [d for d in reported if d["severity"] == "error"]
    shown = json.dumps(list(reported), indent=1, ensure_ascii=False)
    assert valid is expect["valid"], shown
    assert len(errors) == expect["errors"], shown
    missing = unmatched_expectations(expect["diagnostics"], reported)
    assert not missing, f"expected but not reported: {missing}\nreported: {shown}"


def case_path(name: str) -> Path:
    return VALIDATE_DIR / f"{name}.yaml"
