"""Every case of conformance/resolve through the library (Service.resolve).

Cases are read from cases.json at collection time, so a new case needs no code change.
The store named by cases.json is opened as the CLI would (`open_store`), and the same
registries are also run from a SQLite store and the memory store: resolution (and so the
fingerprint) must not depend on the backend.
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


@pytest.fixture(scope="module")
def corpus_in_sqlite(tmp_path_factory):
    """The corpus registries imported as they are (metadata kept) into a SQLite store."""
    path = tmp_path_factory.mktemp("resolve-corpus") / "registry.db"
    with open_store(str(path)) as store:
        for registry in registries_of(corpus_store_path()):
            store.import_registry(registry)
    return path


def _store(kind: str, sqlite_path):
    if kind == "file":
        return open_store(str(corpus_store_path()), must_exist=True)
    if kind == "sqlite":
        return open_store(str(sqlite_path), must_exist=True)
    return MemoryStore(registries_of(corpus_store_path()))


@pytest.mark.parametrize("backend", ["file", "sqlite", "memory"])
@pytest.mark.parametrize("name", resolve_case_ids())
def test_resolve_case_through_library(name, backend, corpus_in_sqlite):
    case = resolve_case(name)
    request = case["request"]
    with _store(backend, corpus_in_sqlite) as store:
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
