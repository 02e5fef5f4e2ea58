"""`profreg validate` on what a new user points it at (issue 14, SPEC 3 and 6):

- a root that is not a mapping is one diagnostic, not two;
- in a directory, a file named like a registry is checked even if it does not parse, is
  empty or binary;
- a named file that cannot be read does not stop the others (stderr, exit 2 after them);
- nothing checked is a warning on stderr;
- `--store` counts registries, not files.
"""
from __future__ import annotations

import json

import pytest

from profreg.engine import validate_profile, validate_registry, validate_text
from tests.cli.cli_inprocess import profreg
from tests.unprivileged import run_as_user


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", "[1, 2]\n"])
def test_a_root_that_is_not_a_mapping_is_reported_once(tmp_path, text):
    diags = validate_text(text.encode()).diagnostics
    assert [(d.code, d.keyword, d.pointer) for d in diags] == [("schema", "type", "")]
    path = tmp_path / "r.yaml"
    path.write_text(text)
    result = profreg("validate", str(path), "--format", "json")
    assert result.code == 1
    assert len(json.loads(result.out)["files"][0]["diagnostics"]) == 1


def test_objects_that_are_not_mappings_are_reported_once():
    assert len(validate_registry(["x"])) == 1
    assert len(validate_profile("x")) == 1


def test_directory_checks_registry_named_files_whatever_they_hold(tmp_path):
    (tmp_path / "profiles.yaml").write_bytes(b"")
    (tmp_path / "team-registry.yml").write_bytes(b"\x00\x01\xff\xfe binary")
    (tmp_path / "registries.yaml").write_text("- not: [closed\n")
    (tmp_path / "notes.yaml").write_text("- just a list\n")  # not named like one, not shaped like one
    result = profreg("validate", str(tmp_path), "--format", "json")
    assert result.code == 1, result
    files = {f["path"].rsplit("/", 1)[-1]: f for f in json.loads(result.out)["files"]}
    assert set(files) == {"profiles.yaml", "team-registry.yml", "registries.yaml"}
    assert files["profiles.yaml"]["diagnostics"][0]["code"] == "empty-document"
    assert files["team-registry.yml"]["diagnostics"][0]["code"] == "yaml-syntax"
    assert files["registries.yaml"]["diagnostics"][0]["code"] == "yaml-syntax"


def test_unreadable_named_file_does_not_stop_the_others(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("slug: default\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: [\n")
    locked = tmp_path / "locked.yaml"
    locked.write_text("slug: default\n")
    locked.chmod(0o000)
    tmp_path.chmod(0o755)
    result = run_as_user("validate", str(locked), str(good), str(bad))
    assert result.returncode == 2, result
    assert "bad.yaml:2:1: error[yaml-syntax]" in result.stdout  # the others were reported first
    assert result.stdout.splitlines()[-1] == "2 files checked: 1 invalid, 1 error, 0 warnings"
    assert len(result.stderr.splitlines()) == 1 and "locked.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_checked_is_a_warning(tmp_path):
    (tmp_path / "ci.yaml").write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n")
    result = profreg("validate", str(tmp_path))
    assert result.code == 0
    assert result.out.splitlines()[-1].startswith("0 files checked")
    assert "warning" in result.err and "0 files checked" in result.err


def test_store_counts_registries(tmp_path):
    db, yml = str(tmp_path / "s.db"), str(tmp_path / "s.yaml")
    for store in (db, yml):
        for slug in ("a", "b", "c"):
            assert profreg("registry", "create", slug, "--store", store).code == 0
        result = profreg("validate", "--store", store)
        assert result.code == 0, result
        assert result.out.splitlines()[-1] == "3 registries checked: 0 invalid, 0 errors, 0 warnings"
    broken = tmp_path / "broken.yaml"
    broken.write_text("registries:\n  a: {}\n  b: {default_profile_slug: Q}\n  c: {}\n")
    result = profreg("validate", "--store", str(broken), str(tmp_path / "s.yaml"))
    assert result.out.splitlines()[-1] == "1 file and 3 registries checked: 1 invalid, 1 error, 0 warnings"
