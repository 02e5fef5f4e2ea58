"""The package root's API: the README example runs, every public name has a docstring, the
wheel ships `py.typed`, `import profreg` stays light, canonical JSON equals rfc8785's,
and the caches are bounded."""
from __future__ import annotations

import inspect
import re
import subprocess
import sys
import zipfile

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

import profreg
from profreg.client import Client
from profreg.frozen import FrozenDict, FrozenList, freeze
from profreg.resolve import canonical_json, fingerprint, full_runtime, resolve_profile, runtime_json
from profreg.stores.sqlite import SqliteStore

from tests.conftest import ROOT


def readme_api_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the README's Python API section has no python example"
    return found.group(1)


def test_the_readme_example_runs():
    done = subprocess.run([sys.executable, "-c", readme_api_example()], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("sha256:") and lines[1] == "['search']"
    assert "ai-max-tokens" in lines[2] and lines[3].startswith("refused:")


def _public_members(obj) -> list[tuple[str, object]]:
    return [(name, member) for name, member in vars(obj).items()
            if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))]


def test_every_public_name_has_a_docstring():
    missing = []
    for name in profreg.__all__:
        value = getattr(profreg, name)
        if name == "__version__" or name == "ChangeEvent":
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            missing += [f"{name}.{member}" for member, obj in _public_members(value) if not inspect.getdoc(obj)]
    assert not missing, missing
    assert Client.resolve.__doc__ and profreg.connect.__doc__


def test_the_wheel_ships_py_typed(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("profreg-*.whl"))
    assert "profreg/py.typed" in zipfile.ZipFile(wheel).namelist()


def test_import_profreg_does_not_load_the_api_until_used():
    code = ("import sys, profreg; loaded = [m for m in ('profreg.client', 'profreg.stores', 'profreg.resolve', "
            "'cachetools') if m in sys.modules]; assert not loaded, loaded; profreg.connect; "
            "assert 'profreg.client' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_canonical_json_is_rfc8785(value):
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # lone surrogates: both refuse (see the fingerprint tests)
    assert canonical_json(value) == expected
    assert canonical_json(freeze(value)) == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=4), st.dictionaries(st.text(), json_values, max_size=4),
       st.text(), st.lists(st.text(min_size=1).filter(str.strip), max_size=3))
def test_a_resolution_fingerprint_is_that_of_its_whole_payload(patch, base, prompt, tools):
    """The resolver puts the payload's canonical JSON together from parts (the runtime's
    encoded once per profile); the result must be the whole payload's, byte for byte."""
    profile = {"runtime": {"system_prompt": "Be brief.", "tools": ["search"], "step_settings_patch": patch,
                           "middlewares": [{"name": "log", "config": patch}]},
               "policy": {"allow_overrides": True}, "metadata": {"version": 3}}
    try:
        rfc8785.dumps([patch, base, prompt, tools])
    except rfc8785.CanonicalizationError:
        return  # lone surrogates: refused either way
    runtime = full_runtime(profile["runtime"])
    for overrides in (None, {"system_prompt": prompt, "tools": tools, "step_settings_patch": base}):
        for kwargs in ({}, {"runtime": runtime, "runtime_parts": runtime_json(runtime)}):
            result = resolve_profile({}, "default", profile, "agent", overrides=overrides, base_settings=base,
                                     **kwargs)
            payload = {"registry_slug": "default", "profile_slug": "agent", "profile_version": 3,
                       "runtime": result.effective_runtime, "settings": result.effective_settings}
            assert result.fingerprint == fingerprint(payload)


def test_frozen_values_compare_and_serialise_as_plain_ones():
    frozen = freeze({"a": [1, {"b": None}], "c": 0.5})
    assert isinstance(frozen, FrozenDict) and isinstance(frozen["a"], FrozenList)
    assert frozen == {"a": [1, {"b": None}], "c": 0.5}
    assert freeze(frozen) is frozen


def test_the_sqlite_store_cache_is_bounded_by_payload_size(tmp_path):
    path = str(tmp_path / "many.db")
    with SqliteStore(path) as writer:
        writer.import_registries([{"slug": f"r{i:03d}", "display_name": "x" * 500} for i in range(100)])
    with SqliteStore(path, cache_chars=10_000) as store:
        for _ in range(2):
            for i in range(100):
                store.get_registry(f"r{i:03d}")
        assert 0 < store._cache.currsize <= 10_000
        assert len(store._cache) < 100


def test_the_client_cache_is_bounded_and_keeps_the_registry_in_use(tmp_path):
    path = str(tmp_path / "many.db")
    profiles = {f"p{j}": {} for j in range(10)}
    with SqliteStore(path) as writer:
        writer.import_registries([{"slug": f"r{i:03d}", "profiles": profiles, "default_profile_slug": "p0"}
                                  for i in range(50)])
    with profreg.connect(path, max_cached_profiles=100) as client:
        for i in range(50):
            assert client.resolve(registry=f"r{i:03d}").profile == "p0"
        assert client._states.currsize <= 100
        assert client._last is not None and client._last[0] == "r049"
