"""SPEC 6: a read-only profile is changed or deleted only with --force; `registry delete` of a
registry holding read-only profiles needs --force too (else exit 4); a forced write is
recorded like any other. `registry update R [--display-name] [--description]`."""
from __future__ import annotations

import json

import pytest

from tests.cli.cli_inprocess import profreg


@pytest.fixture(params=["yaml", "db"])
def store(request, tmp_path):
    spec = str(tmp_path / f"s.{request.param}")
    for args in (("registry", "create", "default"), ("profile", "create", "default/agent"),
                 ("profile", "create", "default/locked", "--read-only", "--tool", "t")):
        result = profreg(*args, "--store", spec)
        assert result.code == 0, result
    return spec


def run(store, *args):
    return profreg(*args, "--store", store)


def show(store, target):
    result = run(store, "show", target, "--format", "json")
    assert result.code == 0, result
    return json.loads(result.out)


def test_read_only_profile_needs_force_to_change(store):
    before = show(store, "default")
    for args in (("profile", "update", "default/locked", "--display-name", "x"),
                 ("profile", "update", "default/locked", "--no-read-only"),
                 ("profile", "delete", "default/locked")):
        result = run(store, *args)
        assert result.code == 4, result
        assert "read-only" in result.err and "--force" in result.err and len(result.err.splitlines()) == 1
    assert show(store, "default") == before

    forced = run(store, "profile", "update", "default/locked", "--display-name", "Locked", "--force",
                 "--actor", "ops", "--source", "break-glass")
    assert forced.code == 0, forced
    profile = show(store, "default/locked")
    assert profile["display_name"] == "Locked" and profile["policy"]["read_only"] is True
    meta = profile["metadata"]
    # recorded like any other write
    assert (meta["version"], meta["updated_by"], meta["source"]) == (2, "ops", "break-glass")
    assert show(store, "default")["metadata"]["updated_by"] == "ops"


def test_unlock_then_plain_writes_work(store):
    assert run(store, "profile", "update", "default/locked", "--no-read-only", "--force").code == 0
    assert show(store, "default/locked")["policy"]["read_only"] is False
    assert run(store, "profile", "update", "default/locked", "--display-name", "y").code == 0
    assert run(store, "profile", "delete", "default/locked").code == 0


def test_forced_delete_of_a_read_only_profile(store):
    result = run(store, "profile", "delete", "default/locked", "--force", "--actor", "ops")
    assert result.code == 0, result
    registry = show(store, "default")
    assert "locked" not in registry["profiles"] and registry["metadata"]["updated_by"] == "ops"


def test_registry_delete_with_read_only_profiles_needs_force(store):
    result = run(store, "registry", "delete", "default")
    assert result.code == 4, result
    assert "locked" in result.err and "--force" in result.err
    assert show(store, "default")["profiles"]["locked"]
    assert run(store, "registry", "delete", "default", "--force").code == 0
    assert json.loads(run(store, "list").out) == []


def test_registry_without_read_only_profiles_deletes_without_force(store):
    assert run(store, "registry", "create", "plain").code == 0
    assert run(store, "profile", "create", "plain/p").code == 0
    assert run(store, "registry", "delete", "plain").code == 0


def test_registry_update(store):
    profiles_before = show(store, "default")["profiles"]
    result = run(store, "registry", "update", "Default", "--display-name", "Main", "--description", "All of it",
                 "--actor", "ann")
    assert result.code == 0, result
    assert "updated registry default" in result.out
    registry = show(store, "default")
    assert (registry["display_name"], registry["description"]) == ("Main", "All of it")
    assert registry["profiles"] == profiles_before and registry["default_profile_slug"] == "agent"
    assert registry["metadata"]["updated_by"] == "ann"
    version = registry["metadata"]["version"]
    # only what is given changes
    assert run(store, "registry", "update", "default", "--description", "Less").code == 0
    registry = show(store, "default")
    assert (registry["display_name"], registry["description"]) == ("Main", "Less")
    assert registry["metadata"]["version"] == version + 1
    # version check, not found, bad slug
    assert run(store, "registry", "update", "default", "--display-name", "x", "--expected-version", "1").code == 5
    assert run(store, "registry", "update", "ghost", "--display-name", "x").code == 3
    assert run(store, "registry", "update", "bad slug", "--display-name", "x").code == 1
