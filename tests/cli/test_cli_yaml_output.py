"""YAML output writes multi-line strings as literal blocks and always reads back equal;
`migrate` YAML -> YAML keeps comments where the form stays the same, and says so where not."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from profreg.yamldump import dump_yaml
from profreg.engine.reader import parse
from tests.cli.cli_inprocess import ok, profreg

PROMPT = "You are a careful engineer.\nExplain each change.\n\n- first\n- second\n"


@pytest.fixture
def store(tmp_path):
    spec = str(tmp_path / "s.db")
    ok("registry", "create", "default", "--store", spec)
    ok("profile", "create", "default/coder", "--system-prompt", PROMPT, "--store", spec)
    ok("profile", "update", "default/coder", "--store", spec, "--from-file", _policy_file(tmp_path))
    return spec


def _policy_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("policy: {allow_overrides: true}\n")
    return str(path)


def test_show_and_resolve_write_multi_line_strings_as_literal_blocks(store):
    shown = ok("show", "default/coder", "--format", "yaml", "--store", store).out
    assert "system_prompt: |\n    You are a careful engineer.\n    Explain each change.\n\n    - first\n" in shown
    assert parse(shown).data["runtime"]["system_prompt"] == PROMPT
    resolved = ok("resolve", "coder", "--format", "yaml", "--store", store,
                  "--set-string", "system_prompt=one\ntwo").out
    assert "system_prompt: |-\n    one\n    two\n" in resolved
    assert parse(resolved).data == json.loads(ok("resolve", "coder", "--format", "json", "--store", store,
                                                 "--set-string", "system_prompt=one\ntwo").out)


def test_migrate_to_yaml_writes_literal_blocks(store, tmp_path):
    dest = tmp_path / "out.yaml"
    ok("migrate", store, str(dest))
    assert "system_prompt: |\n" in dest.read_text()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
       .filter(lambda s: "\n" in s) | st.lists(st.text(max_size=8), min_size=2, max_size=5).map("\n".join))
def test_any_multi_line_string_reads_back_equal(text):
    assert parse(dump_yaml({"k": text})).data == {"k": text}


BUNDLE = """\
# profreg
# Team registries: kept by hand.
registries:
  # the main one
  default:
    default_profile_slug: agent
    profiles:
      agent:  # the everyday profile
        runtime:
          system_prompt: |
            Be brief.
            Be kind.
  # experiments, may go away
  lab:
    default_profile_slug: probe
    profiles:
      probe: {display_name: Probe}   # flow style stays flow style
"""

LEGACY = """\
# an old flat file
agent:
  ai-chat:
    ai-engine: gpt-4o
"""


def migrate(src, dest, *extra):
    result = profreg("migrate", str(src), str(dest), *extra)
    assert result.code == 0, result.err
    return result


def test_migrate_yaml_to_yaml_keeps_the_file_as_written(tmp_path):
    src, dest = tmp_path / "team.yaml", tmp_path / "copy.yaml"
    src.write_bytes(BUNDLE.replace("\n", "\r\n").encode())  # line endings kept too
    result = migrate(src, dest)
    assert dest.read_bytes() == src.read_bytes() and "note" not in result.err
    dry = profreg("migrate", str(src), str(tmp_path / "other.yaml"), "--dry-run")
    assert dry.code == 0 and "comments and layout kept" in dry.err


def test_migrate_one_registry_of_a_bundle_keeps_its_comments(tmp_path):
    src, dest = tmp_path / "team.yaml", tmp_path / "default-only.yaml"
    src.write_text(BUNDLE)
    migrate(src, dest, "--registry", "default")
    text = dest.read_text()
    assert "lab" not in text and "probe" not in text
    for kept in ("# Team registries: kept by hand.", "# the main one", "agent:  # the everyday profile",
                 "system_prompt: |\n            Be brief."):
        assert kept in text
    shown = profreg("show", "default", "--format", "json", "--store", str(dest))
    assert json.loads(shown.out)["profiles"]["agent"]["runtime"]["system_prompt"] == "Be brief.\nBe kind.\n"


def test_migrate_a_single_form_file_stays_single(tmp_path):
    src, dest = tmp_path / "one.yaml", tmp_path / "one-copy.yml"
    src.write_text("# mine\nslug: solo\ndefault_profile_slug: p\nprofiles:\n  p: {}  # empty profile\n")
    migrate(src, dest)
    assert dest.read_text() == src.read_text()


def test_migrate_from_legacy_says_it_drops_comments(tmp_path):
    src, dest = tmp_path / "old.yaml", tmp_path / "new.yaml"
    src.write_text(LEGACY)
    result = migrate(src, dest)
    assert "comments in" in result.err and "not carried over" in result.err
    assert "#" not in dest.read_text()
    src.write_text(LEGACY.split("\n", 1)[1])  # no comment: nothing to say
    assert "note" not in migrate(src, tmp_path / "new2.yaml").err
