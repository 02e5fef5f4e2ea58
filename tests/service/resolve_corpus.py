"""The resolve corpus (conformance/resolve), shared by the library and CLI conformance tests."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CONFORMANCE

RESOLVE_DIR = CONFORMANCE / "resolve"


def load_resolve_corpus() -> dict:
    return json.loads((RESOLVE_DIR / "cases.json").read_text(encoding="utf-8"))


def resolve_case_ids() -> list[str]:
    """Case names, read at collection time: a new case in cases.json is a new test."""
    return [case["name"] for case in load_resolve_corpus()["cases"]]


def resolve_case(name: str) -> dict:
    return next(case for case in load_resolve_corpus()["cases"] if case["name"] == name)


def corpus_store_path() -> Path:
    return RESOLVE_DIR / load_resolve_corpus()["store"]


def registries_of(path: Path) -> list[dict]:
    """The registries of a registry YAML document, as the validation engine reads them."""
    from profreg.engine import validate_text

    report = validate_text(path.read_bytes())
    assert report.valid, [d.message for d in report.errors]
    data = report.data
    if report.form == "bundle":
        return [{"slug": key, **(value or {})} for key, value in data["registries"].items()]
    return [data]
