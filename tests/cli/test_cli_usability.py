"""What a new user trips over on the command line (issue 14): `--store` before the command,
"did you mean" for commands, not-found messages that say what exists, what every write
prints, and `profreg init`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.cli.cli_inprocess import fails as failing, ok
from tests.conftest import run_cli


def fails(code, *args):
    return failing(code, *args).err


@pytest.fixture(params=["yaml", "sqlite"])
def spec(request, tmp_path, monkeypatch):
    monkeypatch.delenv("PROFREG_STORE", raising=False)
    return str(tmp_path / ("s.yaml" if request.param == "yaml" else "s.db"))


# ------------------------------------------------------------------------------ --store
def test_store_before_the_command(spec):
    ok("--store", spec, "registry", "create", "big")
    ok("--store", spec, "profile", "create", "big/p")
    assert [r["slug"] for r in json.loads(ok("--store", spec, "list", "--format", "json").out)] == ["big"]
    assert json.loads(ok("--store", spec, "show", "big/p", "--format", "json").out)["slug"] == "p"
    assert "0 invalid" in ok("--store", spec, "validate").out  # validate with no path checks that store


def test_store_before_the_command_wins_over_the_environment_and_after_wins_over_before(spec, tmp_path,
                                                                                        monkeypatch):
    other = str(tmp_path / "other.yaml")
    ok("registry", "create", "here", "--store", spec)
    ok("registry", "create", "there", "--store", other)
    monkeypatch.setenv("PROFREG_STORE", other)
    assert [r["slug"] for r in json.loads(ok("list", "--format", "json").out)] == ["there"]
    assert [r["slug"] for r in json.loads(ok("--store", spec, "list", "--format", "json").out)] == ["here"]
    listed = ok("--store", spec, "list", "--format", "json", "--store", other).out
    assert [r["slug"] for r in json.loads(listed)] == ["there"]


def test_store_before_the_command_in_a_real_process(tmp_path):
    store = str(tmp_path / "x.db")
    assert run_cli("--store", store, "registry", "create", "big").returncode == 0
    listed = run_cli("--store", store, "list", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["slug"] == "big"


# ------------------------------------------------------------------------------ did you mean
@pytest.mark.parametrize("typo, meant", [("reslove", "resolve"), ("lsit", "list"), ("valdate", "validate"),
                                         ("regstry", "registry")])
def test_did_you_mean_for_top_level_commands(typo, meant):
    err = fails(2, typo)
    assert f"No such command '{typo}'" in err and f"'{meant}'" in err and "Did you mean" in err


# ------------------------------------------------------------------------------ not found
def test_not_found_says_what_exists(spec):
    ok("registry", "create", "big", "--store", spec)
    assert "registry 'default' not found; available: big" in fails(3, "show", "default", "--store", spec)
    assert "registry 'default' not found; available: big" in fails(3, "resolve", "agent", "--store", spec)
    assert "registry 'bgi' not found; available: big" in fails(3, "list", "bgi", "--store", spec)
    assert "registry 'big' has no profiles" in fails(3, "show", "big/p", "--store", spec)
    for name in ("writer", "reader", "agent"):
        ok("profile", "create", f"big/{name}", "--store", spec)
    err = fails(3, "show", "big/agnet", "--store", spec)
    assert "profile 'agnet' not found in registry 'big'; available: agent, reader, writer" in err
    err = fails(3, "resolve", "big/ghost", "--store", spec)
    assert "'big/ghost' not found" in err and "available: agent, reader, writer" in err
    assert "available: agent, reader, writer" in fails(3, "profile", "update", "big/ghost", "--store", spec)
    assert "available: agent, reader, writer" in fails(3, "profile", "delete", "big/ghost", "--store", spec)
    assert "available: agent, reader, writer" in fails(3, "set-default", "big/ghost", "--store", spec)
    assert "available: big" in fails(3, "registry", "delete", "nope", "--store", spec)


def test_an_empty_store_says_so(spec):
    ok("registry", "create", "big", "--store", spec)
    ok("registry", "delete", "big", "--store", spec)
    assert "the store holds no registries" in fails(3, "show", "default", "--store", spec)


def test_a_long_list_is_cut_and_close_matches_come_first(tmp_path):
    spec = str(tmp_path / "many.db")
    for i in range(30):
        ok("registry", "create", f"team-{i:02d}", "--store", spec)
    ok("registry", "create", "default-x", "--store", spec)
    err = fails(3, "show", "defaultx", "--store", spec)
    assert "available: default-x, team-00" in err and "(and 11 more)" in err


# ------------------------------------------------------------------------------ write messages
def test_every_write_says_what_it_did_and_the_new_version(spec):
    def said(*args):
        out = ok(*args, "--store", spec).out
        assert out.count("\n") == 1
        return out.strip()

    assert said("registry", "create", "r") == "created registry r (version 1)"
    assert said("profile", "create", "r/a") == "created profile r/a (version 1)"
    assert said("profile", "create", "r/b") == "created profile r/b (version 1)"
    assert said("profile", "update", "r/a", "--tool", "x") == "updated profile r/a (version 2)"
    assert said("set-default", "r/b") == "default profile of r is now b (registry version 5)"
    assert said("profile", "delete", "r/a") == "deleted profile r/a (registry version 6; default profile b)"
    assert said("registry", "delete", "r") == "deleted registry r (it was at version 6, with 1 profile)"


# ------------------------------------------------------------------------------ init
def test_init_writes_a_valid_commented_starter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = ok("init").out
    path = tmp_path / "profiles.yaml"
    assert "profiles.yaml" in out and path.is_file()
    text = path.read_text()
    assert text.startswith("# profreg\n") and text.count("#") > 10
    assert ok("validate", "profiles.yaml").out.strip().splitlines()[-1].startswith("1 file")
    data = yaml.safe_load(text)
    assert list(data["registries"]["default"]["profiles"]) == ["assistant"]  # one example profile
    resolved = json.loads(ok("resolve", "assistant", "--store", "profiles.yaml", "--set", "tools=[a]").out)
    assert resolved["effective_runtime"]["tools"] == ["a"]
    # writes through the store keep the starter's comments
    ok("profile", "create", "default/second", "--store", "profiles.yaml")
    after = path.read_text()
    assert all(line in after for line in text.splitlines() if line.strip().startswith("#"))


def test_init_refuses_an_existing_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("registries: {}\n")
    assert "already exists" in fails(2, "init", str(path))
    assert path.read_text() == "registries: {}\n"
    assert ".yaml or .yml" in fails(2, "init", str(tmp_path / "registry.txt"))
    assert not (tmp_path / "registry.txt").exists()


def test_deleting_a_hand_written_registry_says_what_it_held(tmp_path):
    path = tmp_path / "profiles.yaml"
    ok("init", str(path))
    out = ok("registry", "delete", "default", "--store", str(path)).out
    assert out == "deleted registry default (with 1 profile)\n"  # never written by profreg: no version


def test_init_into_a_folder_and_missing_parents(tmp_path):
    ok("init", str(tmp_path))
    assert (tmp_path / "profiles.yaml").is_file()
    ok("init", str(tmp_path / "new" / "dir" / "team.yaml"))
    assert (tmp_path / "new" / "dir" / "team.yaml").is_file()
    assert os.stat(tmp_path / "profiles.yaml").st_mode & 0o077 == 0  # private, as new stores are


# ------------------------------------------------------------------------------ a broken command module
@pytest.mark.parametrize("command, module", [("list", "profreg.commands.read"), ("validate", "profreg.commands.validate")])
def test_a_command_module_that_fails_to_import_is_named_in_one_line(command, module):
    # `None` in sys.modules makes the group's import of that module fail, as a broken install would
    code = (f"import sys; sys.modules[{module!r}] = None; from profreg.cli import main; "
            f"main([{command!r}, '--help'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"profreg: command {command!r} could not be loaded: importing {module} failed: ")
    assert "No such command" not in result.stderr and result.stdout == ""
