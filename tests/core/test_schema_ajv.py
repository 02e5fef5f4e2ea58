"""The schema works outside Python (SPEC section 8): Node's ajv compiles it in strict
draft-2020 mode, accepts every valid corpus document (the legacy form included) and
rejects every case whose expected diagnostics include a schema error."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from profreg.engine.reader import parse

from tests.conftest import ROOT
from tests.core.validate_corpus import VALIDATE_CASES, case_path, load_case

NODE_TOOLS = ROOT / "tests" / "node"
SCHEMA = ROOT / "schema" / "profile-registry.schema.json"
SCRIPT = Path(__file__).with_name("ajv_validate.cjs")


def run_ajv(cases: list[dict]) -> dict:
    node = shutil.which("node")
    assert node, "node is required for the schema-reuse test (see scripts/setup.d)"
    assert (NODE_TOOLS / "node_modules" / "ajv").is_dir(), "run scripts/setup.d/10-node-test-tools.sh"
    proc = subprocess.run(
        [node, str(SCRIPT), str(NODE_TOOLS), str(SCHEMA)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def ajv_run() -> dict:
    cases = []
    for name in VALIDATE_CASES:
        data = parse(case_path(name).read_bytes()).data
        if data is not None:  # unparseable/empty cases have no JSON form
            cases.append({"name": name, "document": data})
    return run_ajv(cases)


@pytest.fixture(scope="module")
def ajv_results(ajv_run) -> dict:
    return ajv_run["results"]


def test_schema_compiles_in_strict_mode(ajv_run):
    assert ajv_run["strict_error"] is None, f"ajv strict mode rejects the schema: {ajv_run['strict_error']}"


def schema_expected_cases() -> tuple[list[str], list[str]]:
    accepted, rejected = [], []
    for name in VALIDATE_CASES:
        expect = load_case(name)[1]
        if expect["valid"]:
            accepted.append(name)
        elif any(d.get("code") == "schema" for d in expect["diagnostics"]):
            rejected.append(name)
    return accepted, rejected


ACCEPTED, REJECTED = schema_expected_cases()


def test_both_kinds_of_case_exist():
    assert ACCEPTED and REJECTED
    assert "legacy-format" in ACCEPTED


@pytest.mark.parametrize("name", ACCEPTED)
def test_ajv_accepts_valid_documents(ajv_results, name):
    assert name in ajv_results, f"{name} did not parse to JSON"
    assert ajv_results[name]["valid"], ajv_results[name]["errors"]


@pytest.mark.parametrize("name", REJECTED)
def test_ajv_rejects_schema_invalid_documents(ajv_results, name):
    assert name in ajv_results, f"{name} did not parse to JSON"
    assert not ajv_results[name]["valid"]


def test_ajv_rejects_a_made_up_document():
    """The oracle can say no outside the corpus too (a bundle with a bad profile key)."""
    out = run_ajv([{"name": "bad", "document": {"registries": {"team": {"profiles": {"Bad Key": {}}}}}}])
    assert out["results"]["bad"]["valid"] is False
