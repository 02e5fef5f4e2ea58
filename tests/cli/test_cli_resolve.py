"""`profreg resolve` beyond the corpus: --set values, files, formats, secret masking, addressing."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests.cli.cli_inprocess import profreg
from tests.service.resolve_corpus import corpus_store_path


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "registry.yaml"
    shutil.copy(corpus_store_path(), path)
    monkeypatch.setenv("PROFREG_STORE", str(path))
    return path


def resolve(*args):
    result = profreg("resolve", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_default_format_is_json_when_not_a_terminal(store):
    assert resolve()["profile"] == "agent"


@pytest.mark.parametrize(
    "setting, key, value",
    [
        ("tools=[a, b]", "tools", ["a", "b"]),
        ("system_prompt=Be brief.", "system_prompt", "Be brief."),
        ("systemPrompt=", "system_prompt", ""),
        ("system-prompt='0123'", "system_prompt", "0123"),
        ('tools=["x"]', "tools", ["x"]),
    ],
)
def test_set_values_are_yaml(store, setting, key, value):
    assert resolve("agent", "--set", setting)["effective_runtime"][key] == value


def test_set_merges_step_settings_patch(store):
    out = resolve("--set", "step_settings_patch={ai-chat: {ai-temperature: null, top-p: 0.9}}")
    assert out["effective_runtime"]["step_settings_patch"] == {"ai-chat": {"ai-engine": "gpt-4.1-mini", "top-p": 0.9}}


def test_a_key_from_the_overrides_file_and_set_is_given_twice(store, tmp_path):
    overrides = tmp_path / "o.yaml"
    overrides.write_text("systemPrompt: from file\ntools: [f]\n")
    result = profreg("resolve", "--overrides", str(overrides), "--set", "system_prompt=from set")
    assert result.code == 1 and "request_overrides.system_prompt: given twice" in result.err
    assert "--overrides" in result.err and "--set system_prompt" in result.err


def test_base_file_in_yaml(store, tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("ai-chat:\n  ai-max-tokens: 10\nother: {x: 1}\n")
    out = resolve("--base", str(base))
    assert out["effective_settings"] == {
        "ai-chat": {"ai-engine": "gpt-4.1-mini", "ai-temperature": 0.5, "ai-max-tokens": 10},
        "other": {"x": 1},
    }


def test_secrets_are_masked_but_fingerprinted_on_real_values(store):
    masked = resolve("keyed")
    shown = resolve("keyed", "--show-secrets")
    assert masked["effective_settings"]["ai-chat"]["openai-api-key"] == "***"
    assert masked["effective_runtime"]["step_settings_patch"]["ai-chat"]["openai-api-key"] == "***"
    assert shown["effective_settings"]["ai-chat"]["openai-api-key"] == "sk-test-1234567890"
    assert masked["fingerprint"] == shown["fingerprint"]
    # `keyed` has no policy, so it takes no overrides (SPEC 2); `agent` allows the settings patch
    secret = "step_settings_patch={ai-chat: {openai-api-key: sk-%s}}"
    one, other = resolve("agent", "--set", secret % "one"), resolve("agent", "--set", secret % "other")
    assert one["effective_settings"]["ai-chat"]["openai-api-key"] == "***"
    assert one["fingerprint"] != other["fingerprint"]
    for fmt in ("yaml", "text"):
        assert "sk-test" not in profreg("resolve", "keyed", "--format", fmt).out


def test_yaml_and_text_formats(store):
    as_json = resolve("agent")
    as_yaml = profreg("resolve", "agent", "--format", "yaml")
    assert as_yaml.code == 0 and yaml.safe_load(as_yaml.out) == as_json
    text = profreg("resolve", "agent", "--format", "text").out
    assert as_json["fingerprint"] in text and "ai-chat.ai-engine" in text


def test_addressing(store):
    assert resolve(" Team/Coder ")["profile"] == "coder"
    assert resolve("coder", "--registry", "TEAM")["registry"] == "team"
    assert resolve("--registry", "team")["profile"] == "coder"
    assert profreg("resolve", "team/coder", "--registry", "default").code == 2
    assert resolve("agent", "--runtime-key", " Session-1 ")["runtime_key"] == "session-1"


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (("--set", "tools"), 2, "KEY=VALUE"),
        (("--set", "=x"), 2, "KEY=VALUE"),
        (("--set", "tools=[a, b"), 2, "tools"),
        (("--set", "tools=a"), 1, "request_overrides.tools"),
        (("--set", "temperature=1"), 1, "request_overrides.temperature"),
        (("--set", "SystemPrompt=1"), 1, "request_overrides.system_prompt"),
        (("strict", "--set", "tools=[a]"), 4, "tools"),
        (("locked", "--set", "system_prompt=x"), 4, "locked"),
        (("keyed", "--set", "system_prompt=x"), 4, "keyed"),  # no policy: closed (SPEC 2)
        (("--runtime-key", "bad key!"), 1, "runtime_key"),
        (("--overrides", "/nonexistent/o.json"), 2, "o.json"),
        (("ghost",), 3, "ghost"),
        (("--registry", "nope"), 3, "nope"),
    ],
)
def test_errors(store, args, code, needle):
    result = profreg("resolve", *args)
    assert result.code == code, result.err
    assert result.out == ""
    assert len(result.err.splitlines()) == 1 and needle in result.err


def test_unparseable_overrides_file_names_the_position(store, tmp_path):
    overrides = tmp_path / "o.json"
    overrides.write_text('{"tools": [1,\n')
    result = profreg("resolve", "--overrides", str(overrides))
    assert result.code == 1 and f"{overrides}:" in result.err


def test_overrides_must_be_a_mapping(store, tmp_path):
    overrides = tmp_path / "o.json"
    overrides.write_text("[1, 2]")
    result = profreg("resolve", "--overrides", str(overrides))
    assert result.code == 1 and "request_overrides" in result.err


def test_legacy_store_resolves_under_the_registry_asked_for(tmp_path):
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("fast:\n  ai-chat:\n    ai-engine: mini\nslow:\n  ai-chat:\n    ai-engine: big\n")
    out = resolve("--store", str(legacy))
    assert (out["registry"], out["profile"]) == ("default", "fast")  # no `default`: first in order
    assert resolve("old/slow", "--store", str(legacy))["effective_settings"] == {"ai-chat": {"ai-engine": "big"}}


def test_same_result_from_sqlite_after_migrate(store, tmp_path):
    db = tmp_path / "copy.db"
    assert profreg("migrate", str(store), str(db)).code == 0
    for args in ((), ("team/coder",), ("agent", "--set", "tools=[x]")):
        assert resolve(*args, "--store", str(db)) == resolve(*args)


@pytest.mark.parametrize("kind", ["yaml", "sqlite"])
def test_resolve_loads_no_write_path_module(store, tmp_path, kind):
    """Start-up is benchmarked: a resolve imports neither sqlite-utils nor the writers' modules."""
    import subprocess
    import sys

    spec = str(store)
    if kind == "sqlite":
        spec = str(tmp_path / "copy.db")
        assert profreg("migrate", str(store), spec).code == 0  # migrated already: nothing pending
    # (not pathlib: an editable install's import hook loads it before profreg)
    write_only = ("sqlite_utils", "tempfile", "ruamel", "jsonschema", "pygls")
    code = (
        "import sys\nfrom profreg.cli import main\n"
        f"try:\n    main(['resolve', 'agent', '--store', {spec!r}])\nexcept SystemExit as exc:\n    assert not exc.code\n"
        f"print(','.join(m for m in {write_only!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["profile"] == "agent"
    assert done.stderr.strip() == ""
