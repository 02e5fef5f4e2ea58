"""Every case of conformance/resolve through the library (Service.resolve).

Cases are read from cases.json at collection time, so a new case needs no code change.
The store named by cases.json is opened as the CLI would (`open_store`), and the same
registries are also run from the memory store: resolution must not depend on the backend.
"""
from __future__ import annotations

import pytest

from profreg.errors import NotFoundError, PolicyViolationError, ValidationError, VersionConflictError
from profreg.service import Service
from profreg.stores import open_store
from profreg.stores.memory import MemoryStore

from tests.service.resolve_corpus import corpus_store_path, registries_of, resolve_case, resolve_case_ids

ERROR_KINDS = {
    "not_found": NotFoundError,
    "policy_violation": PolicyViolationError,
    "validation": ValidationError,
    "version_conflict": VersionConflictError,
}


def _store(kind: str):
    if kind == "file":
        return open_store(str(corpus_store_path()), create=False)
    return MemoryStore(registries_of(corpus_store_path()))


@pytest.mark.parametrize("backend", ["file", "memory"])
@pytest.mark.parametrize("name", resolve_case_ids())
def test_resolve_case_through_library(name, backend):
    case = resolve_case(name)
    request = case["request"]
    with _store(backend) as store:
        call = lambda: Service(store).resolve(  # noqa: E731
            registry=request.get("registry"),
            profile=request.get("profile"),
            overrides=request.get("overrides"),
            base_settings=request.get("base_settings"),
            runtime_key=request.get("runtime_key"),
        )
        if "expect" in case:
            assert call().to_json() == case["expect"]
        else:
            expected = case["expect_error"]
            with pytest.raises(ERROR_KINDS[expected["kind"]]) as err:
                call()
            assert err.value.exit_code == case["exit_code"]
            if "field" in expected:
                assert err.value.field == expected["field"]
