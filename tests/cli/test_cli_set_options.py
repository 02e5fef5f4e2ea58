"""`resolve --set`, `--set-string`, dotted keys, the quoting hint and keys given twice (SPEC 6)."""
from __future__ import annotations

import json

import pytest

from tests.cli.cli_inprocess import profreg

STORE = """\
registries:
  default:
    default_profile_slug: open
    profiles:
      open:
        runtime:
          system_prompt: Base.
          step_settings_patch:
            ai-chat: {ai-engine: gpt-4o, ai-temperature: 0.5}
        policy:
          allow_overrides: true
"""


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    path = tmp_path / "profiles.yaml"
    path.write_text(STORE)
    monkeypatch.setenv("PROFREG_STORE", str(path))
    return path


def runtime(*args):
    result = profreg("resolve", "open", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)["effective_runtime"]


def fails(code, *args):
    result = profreg("resolve", "open", *args)
    assert result.code == code, (result.out, result.err)
    assert result.out == "" and len(result.err.splitlines()) == 1, result.err
    return result.err


@pytest.mark.parametrize("typed", ["x: y", "[a, b]", "42", "true", "Note: be brief - 1) a, 2) b", "", "'q'"])
def test_set_string_takes_the_value_as_typed(typed):
    assert runtime("--set-string", f"system_prompt={typed}")["system_prompt"] == typed


def test_set_string_key_spellings_are_canonical():
    assert runtime("--set-string", "systemPrompt=a: b")["system_prompt"] == "a: b"


def test_dotted_key_sets_inside_the_settings_patch():
    out = runtime("--set", "step_settings_patch.ai-chat.ai-engine=o3")
    assert out["step_settings_patch"] == {"ai-chat": {"ai-engine": "o3", "ai-temperature": 0.5}}


def test_dotted_keys_combine_and_take_yaml_or_strings():
    out = runtime("--set", "stepSettingsPatch.ai-chat.ai-temperature=0.9",
                  "--set", "step_settings_patch.ai-chat.max-tokens=100",
                  "--set-string", "step_settings_patch.other.mode=1e3")
    assert out["step_settings_patch"] == {
        "ai-chat": {"ai-engine": "gpt-4o", "ai-temperature": 0.9, "max-tokens": 100},
        "other": {"mode": "1e3"},
    }


def test_dotted_null_removes_a_setting():
    out = runtime("--set", "step_settings_patch.ai-chat.ai-temperature=null")
    assert out["step_settings_patch"] == {"ai-chat": {"ai-engine": "gpt-4o"}}


def test_the_resolved_patch_matches_the_service_with_the_nested_mapping(store):
    from profreg.service import Service
    from profreg.stores import open_store

    with open_store(str(store), must_exist=True) as opened:
        expected = Service(opened).resolve(
            "default", "open", overrides={"step_settings_patch": {"ai-chat": {"ai-engine": "o3"}}}
        ).to_json()
    result = profreg("resolve", "open", "--format", "json", "--set", "step_settings_patch.ai-chat.ai-engine=o3")
    assert json.loads(result.out)["fingerprint"] == expected["fingerprint"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--set", "system_prompt=x: y"), "--set-string system_prompt="),
        (("--set", "system_prompt=42"), "a number"),
        (("--set", "system_prompt=[a]"), "quote it"),
        (("--set", "tools=search"), "tools=[a, b]"),
        (("--set", "step_settings_patch=5"), "step_settings_patch.SECTION.KEY=VALUE"),
    ],
)
def test_a_value_yaml_reads_as_the_wrong_type_gets_a_hint(args, needle):
    err = fails(1, *args)
    assert "request_overrides." in err and "YAML" in err and needle in err


def test_no_hint_for_set_string_or_a_typo():
    assert "YAML" not in fails(1, "--set", "temperature=1")
    assert "YAML" not in fails(1, "--set", "tools=[1]")  # a problem inside the list


@pytest.mark.parametrize(
    "args, field",
    [
        (("--set", "system_prompt=a", "--set", "system_prompt=b"), "request_overrides.system_prompt"),
        (("--set", "systemPrompt=a", "--set", "system_prompt=b"), "request_overrides.system_prompt"),
        (("--set", "system-prompt=a", "--set-string", "SystemPrompt=b"), "request_overrides.system_prompt"),
        (("--set", "tools=[a]", "--set", " tools =[b]"), "request_overrides.tools"),
        (("--set", "step_settings_patch={}", "--set", "step_settings_patch.a.b=1"),
         "request_overrides.step_settings_patch"),
        (("--set", "step_settings_patch.a.b=1", "--set-string", "stepSettingsPatch.a.b=2"),
         "request_overrides.step_settings_patch.a.b"),
        (("--set", "step_settings_patch.a=1", "--set", "step_settings_patch.a.b=2"),
         "request_overrides.step_settings_patch.a"),
    ],
)
def test_the_same_key_twice_under_any_spelling_is_an_error(args, field):
    err = fails(1, *args)
    assert f"{field}: given twice" in err


def test_the_same_key_in_the_overrides_file_and_set_string(tmp_path):
    overrides = tmp_path / "o.json"
    overrides.write_text('{"system-prompt": "a"}')
    err = fails(1, "--overrides", str(overrides), "--set-string", "systemPrompt=b")
    assert "request_overrides.system_prompt: given twice" in err and "o.json" in err


def test_dotted_keys_elsewhere_and_empty_parts():
    assert "only step_settings_patch takes a dotted key" in fails(1, "--set", "system_prompt.x=1")
    assert "empty part" in fails(2, "--set", "step_settings_patch..x=1")
    assert "request_overrides.temprature" in fails(1, "--set", "temprature.x=1")  # typo named as a typo
    assert "KEY=VALUE" in fails(2, "--set-string", "system_prompt")
