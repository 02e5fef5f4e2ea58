"""Every case of conformance/resolve through the CLI, as cases.json's README prescribes:

`profreg resolve [PROFILE] --store registry.yaml [--registry R] [--overrides FILE.json]
[--base FILE.json] [--runtime-key K] --format json --show-secrets`, exit code from the case;
and each case again with the corpus registries copied into a PostgreSQL store.
"""
from __future__ import annotations

import json

import pytest

from profreg.stores import open_store
from tests.conftest import pg_url_with, run_cli
from tests.service.resolve_corpus import corpus_store_path, registries_of, resolve_case, resolve_case_ids


@pytest.fixture(scope="module")
def corpus_in_postgres(pg_test_database) -> str:
    """The corpus store's registries, metadata and all, in a schema of their own."""
    spec = pg_url_with(pg_test_database, schema="resolve_corpus")
    with open_store(spec) as store:
        store.import_registries(registries_of(corpus_store_path()), replace=True)
    return spec


def _argv(request: dict, tmp_path, store: str) -> list[str]:
    argv = ["resolve"]
    if request.get("profile") is not None:
        argv.append(request["profile"])
    argv += ["--store", store]
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
@pytest.mark.parametrize("kind", ["yaml", "postgres"])
def test_resolve_case_through_cli(name, kind, tmp_path, request):
    case = resolve_case(name)
    store = str(corpus_store_path()) if kind == "yaml" else request.getfixturevalue("corpus_in_postgres")
    result = run_cli(*_argv(case["request"], tmp_path, store))
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
