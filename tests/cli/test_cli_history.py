"""`history`, `show R@N`, `show R/P@N`, `resolve R/P@N`, `diff`, `rollback` through the CLI
(in process: the real entry point), on SQLite and PostgreSQL (SPEC section 4, History); a
YAML store refuses them (exit 2)."""
from __future__ import annotations

import json

import jsonpatch
import pytest

from tests.cli.cli_inprocess import Result, fails, ok
from tests.conftest import run_cli

SECRET = "sk-live-0123456789"


def cli(store: str, *args: str, code: int = 0) -> Result:
    return fails(code, *args, "--store", store) if code else ok(*args, "--store", store)


def as_json(store: str, *args: str):
    return json.loads(cli(store, *args, "--format", "json").out)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> str:
    """A store whose registry `default` went through five versions:
    1 created; 2 agent v1 ("Be brief."); 3 agent v2 ("Be terse.", a secret setting);
    4 other v1; 5 default -> other."""
    spec = f"sqlite:{tmp_path / 'h.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_spec")
    settings = tmp_path / "agent.yaml"
    settings.write_text(f"runtime:\n  system_prompt: Be terse.\n  step_settings_patch:\n"
                        f"    llm:\n      api_key: {SECRET}\n      engine: o3\n", encoding="utf-8")
    cli(spec, "registry", "create", "default", "--actor", "alice")
    cli(spec, "profile", "create", "default/agent", "--system-prompt", "Be brief.", "--tool", "search",
        "--actor", "alice")
    cli(spec, "profile", "update", "default/agent", "--from-file", str(settings), "--actor", "bob", "--source", "api")
    cli(spec, "profile", "create", "default/other", "--actor", "carol")
    cli(spec, "set-default", "default/other", "--actor", "carol")
    return spec


def test_history_of_a_registry_newest_first_with_what_changed(store):
    entries = as_json(store, "history", "default")
    assert [e["version"] for e in entries] == [5, 4, 3, 2, 1]
    assert [e["updated_by"] for e in entries] == ["carol", "carol", "bob", "alice", "alice"]
    assert entries[2]["source"] == "api"
    assert entries[0]["changes"] == {"added": [], "removed": [], "changed": [], "registry_fields": ["default_profile_slug"]}
    assert entries[1]["changes"]["added"] == ["other"]
    assert entries[2]["changes"]["changed"] == ["agent"]
    assert all(e["updated_at_ms"] > 0 for e in entries)
    text = cli(store, "history", "default", "--format", "text").out
    assert "VERSION" in text.splitlines()[0] and "added other" in text and "changed agent" in text


def test_history_of_a_profile(store):
    entries = as_json(store, "history", "default/agent")
    assert [(e["version"], e["registry_version"], e["change"]) for e in entries] == [
        (2, 3, "changed"), (1, 2, "added")]
    assert entries[0]["fields"] == ["runtime"]
    everything = cli(store, "history", "default/agent", "--format", "text").out + json.dumps(entries)
    assert SECRET not in everything


def test_show_old_versions(store):
    registry = as_json(store, "show", "default@2")
    assert registry["metadata"]["version"] == 2 and list(registry["profiles"]) == ["agent"]
    profile = as_json(store, "show", "default/agent@1")
    assert profile["runtime"]["system_prompt"] == "Be brief." and profile["metadata"]["version"] == 1
    masked = as_json(store, "show", "default/agent@2")
    assert masked["runtime"]["step_settings_patch"]["llm"]["api_key"] == "***"
    cli(store, "show", "default@9", code=3)
    cli(store, "show", "default/agent@9", code=3)
    cli(store, "show", "default@x", code=2)


def test_resolve_an_old_version_gives_the_fingerprint_it_had(store, tmp_path):
    now = as_json(store, "resolve", "default/agent")
    old = as_json(store, "resolve", "default/agent@1")
    assert old["effective_runtime"]["system_prompt"] == "Be brief."
    assert old["metadata"]["profile.version"] == 1 and old["fingerprint"] != now["fingerprint"]
    # the fingerprint version 1 had when it was current
    fresh = f"sqlite:{tmp_path / 'then.db'}"
    cli(fresh, "registry", "create", "default")
    cli(fresh, "profile", "create", "default/agent", "--system-prompt", "Be brief.", "--tool", "search")
    assert as_json(fresh, "resolve", "default/agent")["fingerprint"] == old["fingerprint"]
    assert as_json(store, "resolve", "default/agent@2")["fingerprint"] == now["fingerprint"]


def test_diff_text_and_json_patch(store):
    patch = as_json(store, "diff", "default/agent@1", "default/agent@2", "--show-secrets")
    old, new = as_json(store, "show", "default/agent@1", "--show-secrets"), as_json(
        store, "show", "default/agent@2", "--show-secrets")
    assert jsonpatch.apply_patch(old, patch) == new  # an RFC 6902 patch from A to B
    masked = cli(store, "diff", "default/agent@1", "default/agent@2", "--format", "json").out
    text = cli(store, "diff", "default/agent@1", "default/agent@2", "--format", "text").out
    assert SECRET not in masked and SECRET not in text and "***" in masked
    assert text.splitlines()[:2] == ["--- default/agent@1", "+++ default/agent@2"]
    assert '~ /runtime/system_prompt: "Be brief." -> "Be terse."' in text
    registry_patch = as_json(store, "diff", "default@3", "default@4", "--show-secrets")
    assert {"op": "add", "path": "/profiles/other"} == {k: registry_patch[0][k] for k in ("op", "path")}
    assert as_json(store, "diff", "default@5", "default") == []  # without @: the current state
    cli(store, "diff", "default@1", "default/agent@1", code=2)


def test_rollback_a_profile(store):
    result = as_json(store, "rollback", "default/agent", "--to", "1")
    assert result == {"registry": "default", "profile": "agent", "rolled_back_to": 1, "version": 3}
    profile = as_json(store, "show", "default/agent", "--show-secrets")
    assert profile["runtime"] == {"system_prompt": "Be brief.", "tools": ["search"]}
    assert as_json(store, "history", "default")[0]["version"] == 6  # a new write: versions only grow
    cli(store, "rollback", "default/agent", "--to", "2", "--expected-version", "2", code=5)
    assert as_json(store, "rollback", "default/agent", "--to", "2", "--expected-version", "3")["version"] == 4


def test_rollback_a_registry(store):
    result = as_json(store, "rollback", "default", "--to", "2")
    assert result == {"registry": "default", "rolled_back_to": 2, "version": 6}
    registry = as_json(store, "show", "default")
    assert list(registry["profiles"]) == ["agent"] and registry["default_profile_slug"] == "agent"
    assert registry["profiles"]["agent"]["runtime"]["system_prompt"] == "Be brief."
    assert registry["profiles"]["agent"]["metadata"]["version"] == 3  # changed again: its version grows
    cli(store, "rollback", "default", "--to", "1", "--expected-version", "5", code=5)
    emptied = as_json(store, "rollback", "default", "--to", "1", "--expected-version", "6")
    assert emptied["version"] == 7 and as_json(store, "show", "default")["profiles"] == {}


def test_rollback_respects_read_only(store, tmp_path):
    locked = tmp_path / "locked.yaml"
    locked.write_text("policy:\n  read_only: true\n", encoding="utf-8")
    cli(store, "profile", "update", "default/other", "--from-file", str(locked))
    before = as_json(store, "show", "default")
    cli(store, "rollback", "default/other", "--to", "1", code=4)
    cli(store, "rollback", "default", "--to", "2", code=4)  # it would remove the read-only profile
    assert as_json(store, "show", "default") == before
    forced = as_json(store, "rollback", "default/other", "--to", "1", "--force", "--actor", "admin")
    assert forced["version"] == 3
    assert as_json(store, "history", "default")[0]["updated_by"] == "admin"


def test_a_yaml_store_says_its_history_is_the_files_version_control(tmp_path):
    path = tmp_path / "profiles.yaml"
    cli(str(path), "registry", "create", "default")
    cli(str(path), "profile", "create", "default/agent")
    for args in (["history", "default"], ["history", "default/agent"], ["show", "default@1"],
                 ["show", "default/agent@1"], ["resolve", "default/agent@1"],
                 ["diff", "default@1", "default"], ["rollback", "default/agent", "--to", "1"],
                 ["rollback", "default", "--to", "1"]):
        result = cli(str(path), *args, code=2)
        assert "version control" in result.err, args
    assert "version control" in cli(str(tmp_path / "missing.yaml"), "history", "default", code=2).err


def test_history_through_the_console_script(store):
    result = run_cli("history", "default", "--store", store, "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)[0]["version"] == 5
