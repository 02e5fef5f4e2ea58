"""Every case of conformance/resolve through the CLI, as cases.json's README prescribes:

`profreg resolve [PROFILE] --store registry.yaml [--registry R] [--overrides FILE.json]
[--base FILE.json] [--runtime-key K] --format json --show-secrets`, exit code from the case.
"""
from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.service.resolve_corpus import corpus_store_path, resolve_case, resolve_case_ids


def _argv(request: dict, tmp_path) -> list[str]:
    argv = ["resolve"]
    if request.get("profile") is not None:
        argv.append(request["profile"])
    argv += ["--store", str(corpus_store_path())]
    if request.get("registry") is not None:
        argv += ["--registry", request["registry"]]
    for key, option in (("overrides", "--overrides"), ("base_settings", "--base")):
        if key in request:
            path = tmp_path / f"{key}.json"
            path.write_text(json.dumps(request[key]), encoding="utf-8")
            argv += [option, str(path)]
    if request.get("runtime_key") is not None:
        argv += ["--runtime-key", request["runtime_key"]]
    return argv + ["--format", "json", "--show-secrets"]


@pytest.mark.parametrize("name", resolve_case_ids())
def test_resolve_case_through_cli(name, tmp_path):
    case = resolve_case(name)
    result = run_cli(*_argv(case["request"], tmp_path))
    assert result.returncode == case["exit_code"], result.stderr
    if "expect" in case:
        assert json.loads(result.stdout) == case["expect"]
        assert result.stderr == ""
    else:
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr  # one line, no traceback
        if "field" in case["expect_error"]:
            assert case["expect_error"]["field"] in lines[0]
