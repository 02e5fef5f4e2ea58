"""Every case in conformance/validate, through the library and through the CLI.

The cases are read from the folder at collection time: a case added there is tested
with no code change here.
"""
from __future__ import annotations

import json

import pytest

from profreg.engine import validate_text

from tests.conftest import run_cli
from tests.core.validate_corpus import VALIDATE_CASES, case_path, check_against_expectation, load_case, unmatched_expectations


def test_corpus_is_present(conformance_dir):
    assert VALIDATE_CASES, f"no validate cases found under {conformance_dir}"
    for name in VALIDATE_CASES:
        assert (conformance_dir / "validate" / f"{name}.expect.json").is_file(), name


@pytest.mark.parametrize("name", VALIDATE_CASES)
def test_library(name):
    raw, expect = load_case(name)
    report = validate_text(raw)
    check_against_expectation(expect, [d.to_json() for d in report.diagnostics], report.valid)


@pytest.mark.parametrize("name", VALIDATE_CASES)
def test_library_from_text(name):
    """The engine gives the same answer for decoded text as for raw bytes."""
    raw, _ = load_case(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # only raw bytes can carry it: the reader must say so
        assert validate_text(raw).diagnostics[0].code == "yaml-syntax"
        return
    assert validate_text(text).diagnostics == validate_text(raw).diagnostics


@pytest.mark.parametrize("name", VALIDATE_CASES)
def test_cli_json(name):
    _, expect = load_case(name)
    path = str(case_path(name))
    proc = run_cli("validate", path, "--format", "json")
    assert proc.returncode == (0 if expect["valid"] else 1), proc.stderr
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert [f["path"] for f in out["files"]] == [path]
    entry = out["files"][0]
    check_against_expectation(expect, entry["diagnostics"], entry["valid"])


def test_cli_text_lines_match_the_library(conformance_dir):
    """One CLI run over every case: text lines equal the library's diagnostics, in order."""
    paths = [str(case_path(n)) for n in VALIDATE_CASES]
    proc = run_cli("validate", *paths)
    lines = proc.stdout.splitlines()
    expected_lines = []
    for path in paths:
        for d in validate_text(open(path, "rb").read()).diagnostics:
            field = f"{d.field}: " if d.field else ""
            expected_lines.append(
                f"{path}:{d.span.start_line + 1}:{d.span.start_col + 1}: {d.severity}[{d.code}] {field}{d.message}"
            )
    assert lines[:-1] == expected_lines
    assert lines[-1].startswith(f"{len(paths)} files checked: ")
    any_invalid = any(not load_case(n)[1]["valid"] for n in VALIDATE_CASES)
    assert proc.returncode == (1 if any_invalid else 0)


def test_matcher_needs_distinct_diagnostics():
    """The helper itself: two expected entries cannot both claim one reported diagnostic."""
    reported = [{"code": "schema", "line": 1}, {"code": "schema", "line": 2}]
    assert unmatched_expectations([{"code": "schema"}, {"code": "schema"}], reported) == []
    assert unmatched_expectations([{"code": "schema"}] * 3, reported) == [{"code": "schema"}]
    assert unmatched_expectations([{"code": "schema"}, {"code": "schema", "line": 1}], reported) == []
    assert unmatched_expectations([{"code": "x"}], reported) == [{"code": "x"}]
