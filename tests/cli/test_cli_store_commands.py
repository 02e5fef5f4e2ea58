"""`registry`, `profile`, `set-default`, `list`, `show` on YAML and SQLite stores."""
from __future__ import annotations

import json
import os
import sqlite3

import pytest

from tests.cli.cli_inprocess import fails, ok, profreg

from profreg.commands._writeoptions import default_actor


@pytest.fixture(params=["yaml", "sqlite"])
def store(request, tmp_path, monkeypatch):
    """A fresh store spec; also the PROFREG_STORE of the test."""
    spec = str(tmp_path / ("s.yaml" if request.param == "yaml" else "s.db"))
    monkeypatch.setenv("PROFREG_STORE", spec)
    return spec


def show(target, *extra):
    return json.loads(ok("show", target, "--format", "json", *extra).out)


def test_create_update_delete_round(store):
    ok("registry", "create", "default", "--display-name", "Default")
    fails(5, "registry", "create", "default")
    ok("profile", "create", "agent", "--system-prompt", "Hi", "--tool", "calc", "--tool", "search",
       "--actor", "ann", "--source", "test")
    fails(5, "profile", "create", "default/agent")

    profile = show("default/agent")
    assert profile["runtime"] == {"system_prompt": "Hi", "tools": ["calc", "search"]}
    meta = profile["metadata"]
    assert (meta["version"], meta["created_by"], meta["updated_by"], meta["source"]) == (1, "ann", "ann", "test")
    registry = show("default")
    assert registry["default_profile_slug"] == "agent"  # the first profile becomes the default

    # update keeps what is not given; the version goes up even without a change
    ok("profile", "update", " Default/AGENT ", "--display-name", "Agent", "--actor", "bob")
    assert show("default/agent")["metadata"]["updated_by"] == "bob"
    ok("profile", "update", "default/agent")
    profile = show("default/agent")
    assert profile["display_name"] == "Agent" and profile["runtime"]["tools"] == ["calc", "search"]
    assert profile["metadata"]["version"] == 3
    assert profile["metadata"]["updated_by"] == default_actor()  # the login name
    assert profile["metadata"]["source"] == "cli" and profile["metadata"]["created_by"] == "ann"

    ok("profile", "create", "default/other")
    fails(1, "profile", "delete", "default/agent")  # the default, others remain
    ok("profile", "delete", "default/agent", "--new-default", "other")
    assert show("default")["default_profile_slug"] == "other"
    ok("profile", "delete", "other")
    assert show("default")["profiles"] == {}
    ok("registry", "delete", "default")
    fails(3, "show", "default")


def test_expected_version_is_checked_against_the_right_object(store):
    ok("registry", "create", "r")
    ok("profile", "create", "r/p", "--expected-version", "1")  # registry version 1
    fails(5, "profile", "create", "r/q", "--expected-version", "1")  # registry is at 2 now
    ok("profile", "create", "r/q", "--expected-version", "2")
    fails(5, "profile", "update", "r/p", "--expected-version", "2")  # profile p is at 1
    ok("profile", "update", "r/p", "--expected-version", "1")
    registry_version = show("r")["metadata"]["version"]
    fails(5, "set-default", "r/q", "--expected-version", str(registry_version + 1))
    ok("set-default", "r/q", "--expected-version", str(registry_version))
    fails(5, "profile", "delete", "r/p", "--expected-version", "1")
    ok("profile", "delete", "r/p", "--expected-version", "2")
    fails(5, "registry", "delete", "r", "--expected-version", "1")
    ok("registry", "delete", "r", "--expected-version", "0")  # 0: no check


def test_read_only_profile_is_a_policy_violation(store, tmp_path):
    ok("registry", "create", "default")
    spec = tmp_path / "locked.json"
    spec.write_text(json.dumps({"policy": {"read_only": True}, "runtime": {"tools": ["t"]}}))
    ok("profile", "create", "locked", "--from-file", str(spec))
    fails(4, "profile", "update", "locked", "--display-name", "x")
    fails(4, "profile", "delete", "locked")
    assert "display_name" not in show("default/locked")


def test_from_file_yaml_with_options_on_top(store, tmp_path):
    ok("registry", "create", "default")
    spec = tmp_path / "p.yaml"
    spec.write_text("display_name: From file\nruntime:\n  system_prompt: file\n  tools: [a]\n"
                    "metadata:\n  tags: [t1]\n  version: 99\n")
    ok("profile", "create", "p", "--from-file", str(spec), "--system-prompt", "option")
    profile = show("default/p")
    assert profile["display_name"] == "From file"
    assert profile["runtime"] == {"system_prompt": "option", "tools": ["a"]}
    assert profile["metadata"]["tags"] == ["t1"] and profile["metadata"]["version"] == 1  # managed: ignored

    spec.write_text("runtime:\n  tools: [b]\nmetadata:\n  tags: [t2]\n")
    ok("profile", "update", "p", "--from-file", str(spec))
    profile = show("default/p")
    assert profile["runtime"] == {"system_prompt": "option", "tools": ["b"]}
    assert profile["metadata"]["tags"] == ["t2"]


@pytest.mark.parametrize(
    "content, code, needle",
    [
        ("runtime:\n  tools: [1]\n", 1, "runtime.tools[0]"),
        ("runtim: {}\n", 1, "runtim"),
        ("slug: other\n", 1, "slug"),
        ("a: [\n", 1, ":1:"),
    ],
)
def test_from_file_is_validated(store, tmp_path, content, code, needle):
    ok("registry", "create", "default")
    spec = tmp_path / "bad.yaml"
    spec.write_text(content)
    result = fails(code, "profile", "create", "p", "--from-file", str(spec))
    assert needle in result.err
    assert show("default")["profiles"] == {}


def test_missing_from_file_is_a_usage_error(store, tmp_path):
    ok("registry", "create", "default")
    fails(2, "profile", "create", "p", "--from-file", str(tmp_path / "nope.yaml"))


def test_invalid_write_is_refused_with_the_field(store):
    ok("registry", "create", "default")
    result = fails(1, "profile", "create", "p", "--tool", " ")
    assert "tools[0]" in result.err
    fails(1, "registry", "create", "Bad_Slug!")


def test_not_found(store):
    ok("registry", "create", "default")
    fails(3, "profile", "create", "nope/p")
    fails(3, "profile", "update", "ghost")
    fails(3, "set-default", "ghost")
    fails(3, "show", "default/ghost")
    fails(3, "list", "nope")


def test_bad_addresses_are_validation_errors(store):
    # SPEC 6: a slug argument is checked before the lookup; a bad one names its field (exit 1)
    assert "registry.slug" in fails(1, "show", "a/b/c").err
    assert "profile.slug" in fails(1, "profile", "create", "r/").err


def test_list_formats(store):
    ok("registry", "create", "b-reg", "--display-name", "B")
    ok("registry", "create", "a-reg")
    ok("profile", "create", "a-reg/z", "--display-name", "Zed")
    ok("profile", "create", "a-reg/y", "--from-file", os.devnull)
    # not a terminal: JSON by default
    assert json.loads(ok("list").out) == [
        {"slug": "a-reg", "display_name": "", "default_profile_slug": "z", "profile_count": 2},
        {"slug": "b-reg", "display_name": "B", "default_profile_slug": "", "profile_count": 0},
    ]
    assert json.loads(ok("list", "A-Reg").out) == [
        {"slug": "y", "display_name": "", "version": 1, "read_only": False},
        {"slug": "z", "display_name": "Zed", "version": 1, "read_only": False},
    ]
    text = ok("list", "--format", "text").out.splitlines()
    assert text[0].split() == ["SLUG", "DISPLAY_NAME", "DEFAULT_PROFILE_SLUG", "PROFILE_COUNT"]
    assert text[1].split() == ["a-reg", "-", "z", "2"]
    import yaml

    assert yaml.safe_load(ok("list", "a-reg", "--format", "yaml").out)[1]["display_name"] == "Zed"


def test_show_masks_secrets_unless_asked(store, tmp_path):
    ok("registry", "create", "default")
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"runtime": {"step_settings_patch": {"ai": {"api-key": "sk-9", "engine": "e"}}}}))
    ok("profile", "create", "p", "--from-file", str(spec))
    assert show("default/p")["runtime"]["step_settings_patch"]["ai"] == {"api-key": "***", "engine": "e"}
    assert show("default/p", "--show-secrets")["runtime"]["step_settings_patch"]["ai"]["api-key"] == "sk-9"
    assert "sk-9" not in ok("show", "default", "--format", "yaml").out


def test_store_option_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFREG_STORE", str(tmp_path / "env.yaml"))
    ok("registry", "create", "from-option", "--store", str(tmp_path / "opt.yaml"))
    assert (tmp_path / "opt.yaml").exists() and not (tmp_path / "env.yaml").exists()


def test_no_store_is_a_usage_error_and_a_missing_one_is_empty(tmp_path, monkeypatch):
    monkeypatch.delenv("PROFREG_STORE", raising=False)
    fails(2, "list")
    fails(2, "list", "--store", str(tmp_path / "file.txt"))
    assert json.loads(ok("list", "--store", str(tmp_path / "missing.yaml")).out) == []  # SPEC 4
    assert "does not exist" in fails(3, "resolve", "--store", str(tmp_path / "missing.db")).err
    assert list(tmp_path.iterdir()) == []  # reads create nothing


def test_corrupt_sqlite_row_lists_the_rest_and_exits_6(tmp_path):
    db = str(tmp_path / "s.db")
    ok("registry", "create", "good", "--store", db)
    ok("registry", "create", "bad", "--store", db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE profile_registries SET payload_json = '{not json' WHERE slug = 'bad'")
    result = profreg("list", "--store", db)
    assert result.code == 6
    assert [row["slug"] for row in json.loads(result.out)] == ["good"]
    assert "bad" in result.err and "Traceback" not in result.err
    fails(6, "show", "bad", "--store", db)
    ok("show", "good", "--store", db)


def test_legacy_yaml_store_is_read_but_not_written(tmp_path):
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("default:\n  ai-chat:\n    ai-engine: gpt\n")
    assert json.loads(ok("list", "--store", str(legacy)).out)[0]["slug"] == "default"
    result = fails(6, "profile", "create", "p", "--store", str(legacy))
    assert "migrate" in result.err
