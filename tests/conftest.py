"""Shared test fixtures: where the conformance corpus is, and running the real CLI."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PROFREG_SHARED", ROOT.parent / "shared"))
CONFORMANCE = SHARED / "conformance"
VALIDATE_CASES = sorted(p.stem for p in (CONFORMANCE / "validate").glob("*.yaml"))


def profreg_executable() -> list[str]:
    """The installed console script next to this interpreter, else `python -m profreg`."""
    script = Path(sys.executable).with_name("profreg")
    if script.exists():
        return [str(script)]
    found = shutil.which("profreg")
    return [found] if found else [sys.executable, "-m", "profreg"]


def run_cli(*args: str, input: str | None = None, env: dict | None = None, cwd: str | Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `profreg ARGS` as a user would, in a separate process."""
    full_env = dict(os.environ)
    full_env.pop("PROFREG_STORE", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [*profreg_executable(), *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="session", autouse=True)
def _private_validation_cache(tmp_path_factory):
    """Keep the stores' validation cache (profreg/stores/validcache.py) out of the user's home."""
    os.environ["PROFREG_CACHE_DIR"] = str(tmp_path_factory.mktemp("profreg-cache"))
    yield


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    assert CONFORMANCE.is_dir(), f"conformance corpus not found at {CONFORMANCE}"
    return CONFORMANCE


# ---------------------------------------------------------------------------- PostgreSQL
# scripts/test runs pytest under scripts/with-postgres, which starts one private server for
# the whole run and exports its URL. Without it the PostgreSQL tests fail: never skipped.
PG_URL_ENV = "PROFREG_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.fail(f"{PG_URL_ENV} is not set: run the tests through scripts/test "
                    "(or scripts/with-postgres python -m pytest ...)", pytrace=False)
    return url


def pg_url_with(server_url: str, *, database: str | None = None, schema: str | None = None) -> str:
    """`server_url` with its database replaced and/or profreg's `schema` parameter added."""
    parts = urlsplit(server_url)
    path = f"/{database}" if database else parts.path
    query = "&".join(q for q in (parts.query, f"schema={schema}" if schema else "") if q)
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on the test server (its URL), dropped afterwards."""
    database = _unique("t_")
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield pg_url_with(server_url, database=database)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_test_database(pg_server_url) -> str:
    """URL of one database of the run that per-test schemas live in."""
    with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture
def pg_spec(pg_test_database) -> str:
    """A store spec for a fresh schema (profreg creates it at the first write), dropped
    afterwards; creating a schema costs far less than creating a database."""
    schema = _unique("t_")
    yield pg_url_with(pg_test_database, schema=schema)
    with psycopg.connect(pg_test_database, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_database_spec(pg_server_url) -> str:
    """A store spec for a fresh database of its own (tables in `public`), for what a
    schema does not isolate: NOTIFY is heard database-wide."""
    with fresh_database(pg_server_url) as url:
        yield url
