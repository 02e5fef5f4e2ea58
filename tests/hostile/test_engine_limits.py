"""Issue 13 items 1, 3, 4 and 7: integer literals past Python's limit, the node limit,
diagnostics per document and message size, and messages that never quote a secret — in
the library, the CLI (every input path) and the language server."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from profreg.engine import parse, validate_text
from profreg.limits import Limits, current_limits
from profreg.stores import open_store
from tests.cli.cli_inprocess import profreg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_lsp import StdioLspClient  # noqa: E402
from generate import document  # noqa: E402

LONG_INT = "9" * 5000
VALID = "slug: default\ndefault_profile_slug: a\nprofiles:\n  a: {}\n"
WITH_LONG_INT = f"slug: default\ndefault_profile_slug: a\nprofiles:\n  a:\n    runtime:\n      step_settings_patch:\n        s: {{n: {LONG_INT}}}\n"
# one invalid profile aliased under many keys and many registries: problems multiply
ALIASED = ("registries:\n  r0:\n    profiles: &ps\n      a: &p {slug: BAD, runtime: {tools: ['', '', 1, 2]}, x: 1}\n"
           + "".join(f"      p{i}: *p\n" for i in range(400)) + "".join(f"  r{i}: {{profiles: *ps}}\n" for i in range(1, 40)))


def _one_line_error(result, code: int, *words: str) -> None:
    assert result.code == code, result
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err
    for word in words:
        assert word in result.err, result.err


# ---------------------------------------------------------------- item 1: long integers
@pytest.mark.parametrize("literal", [LONG_INT, "-" + LONG_INT, "0x" + "f" * 5000, "0o" + "7" * 6000])
def test_an_integer_past_pythons_limit_is_a_limit_diagnostic(literal):
    (diagnostic,) = validate_text(f"slug: default\ndescription: {literal}\n").diagnostics
    assert diagnostic.code == "yaml-limit" and "quote it" in diagnostic.message
    assert (diagnostic.span.start_line, diagnostic.span.start_col) == (1, 13)


def test_a_quoted_long_number_is_text():
    assert parse(f'n: "{LONG_INT}"').data == {"n": LONG_INT}


def test_long_integers_on_every_cli_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(WITH_LONG_INT)
    store = tmp_path / "profiles.yaml"
    store.write_text(VALID)
    result = profreg("validate", str(bad), "--format", "json")
    assert result.code == 1 and json.loads(result.out)["files"][0]["diagnostics"][0]["code"] == "yaml-limit"
    _one_line_error(profreg("list", "--store", str(bad)), 6, "yaml-limit")
    _one_line_error(profreg("resolve", "a", "--store", str(bad)), 6, "yaml-limit")
    data_file = tmp_path / "data.yaml"
    data_file.write_text(f"n: {LONG_INT}\n")
    _one_line_error(profreg("resolve", "a", "--store", str(store), "--base", str(data_file)), 1, "digits")
    _one_line_error(profreg("resolve", "a", "--store", str(store), "--overrides", str(data_file)), 1, "digits")
    _one_line_error(profreg("profile", "create", "default/b", "--from-file", str(data_file), "--store", str(store)),
                    1, "digits")
    _one_line_error(profreg("resolve", "a", "--store", str(store), "--set", f"tools={LONG_INT}"), 2, "digits")


# ---------------------------------------------------------------- item 3: node count
def test_the_node_limit_stops_a_flat_list_before_it_is_built(monkeypatch):
    monkeypatch.setenv("PROFREG_MAX_NODES", "10000")
    (diagnostic,) = validate_text("[" + "1," * 50_000 + "1]").diagnostics
    assert diagnostic.code == "yaml-limit" and "node limit" in diagnostic.message
    tagged = "[" + "!!int 1," * 20_000 + "1]"  # explicit tags are counted too
    assert validate_text(tagged).diagnostics[0].code == "yaml-limit"


def test_the_default_limits_take_100000_profiles():
    """Measured on 1,000 generated profiles and scaled: every bound has room for 100,000."""
    limits = current_limits()
    text = document(1000)

    parsed = parse(text, Limits(max_nodes=10**9))
    nodes_for_1000 = _nodes(parsed.root)
    assert nodes_for_1000 * 100 < limits.max_nodes
    assert len(text.encode()) * 100 < limits.max_bytes
    assert limits.max_depth >= 100 and limits.max_diagnostics >= 100
    hundred_deep = "a: " + "[" * 100 + "]" * 100
    assert not parse(hundred_deep).diagnostics


def _nodes(root) -> int:
    stack, count = [root], 0
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node.value, list):
            for item in node.value:
                stack.extend(item if isinstance(item, tuple) else (item,))
    return count


# ---------------------------------------------------------------- item 4: diagnostics per document
def test_aliases_do_not_multiply_diagnostics_past_the_limit():
    report = validate_text(ALIASED)
    assert len(report.diagnostics) == current_limits().max_diagnostics + 1
    summary = report.diagnostics[0]
    assert summary.code == "too-many-problems" and "more problems not shown" in summary.message
    assert int(summary.message.split()[0]) > 50_000


def test_the_diagnostics_limit_is_configurable_and_cli_output_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFREG_MAX_DIAGNOSTICS", "5")
    path = tmp_path / "aliased.yaml"
    path.write_text(ALIASED)
    result = profreg("validate", str(path), "--format", "github")
    assert result.code == 1
    assert len(result.out.splitlines()) == 6 and "too-many-problems" in result.out


def test_messages_are_bounded(monkeypatch):
    key = "k" * 100_000
    report = validate_text(f"slug: default\n? {key}\n: 1\n? {key}\n: 2\n")  # explicit: keys past 1024 chars
    assert {d.code for d in report.diagnostics} >= {"schema", "yaml-duplicate-key"}
    assert all(len(d.message) <= current_limits().max_message_chars for d in report.diagnostics)


# ---------------------------------------------------------------- item 7: secrets in messages
SECRET = "sk-live-4f9a8b7c6d5e"
LEAKY = f"""slug: default
default_profile_slug: a
profiles:
  a:
    runtime:
      step_settings_patch:
        api_key: {SECRET}
        password: {{nested: {SECRET}}}
  b:
    policy: {{allow_overrides: true}}
    runtime:
      middlewares:
        - {{name: m, config: {{token: {SECRET}}}}}
      system_prompt: {{client_secret: {SECRET}}}
"""


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_validation_messages_never_quote_a_secret(tmp_path, fmt):
    path = tmp_path / "leaky.yaml"
    path.write_text(LEAKY)
    result = profreg("validate", str(path), "--format", fmt)
    assert result.code == 1
    assert SECRET not in result.out + result.err
    assert "api_key must be a mapping, not a string" in result.out


def test_store_errors_never_quote_a_secret(tmp_path):
    path = tmp_path / "profiles.yaml"
    path.write_text(LEAKY)
    for args in (("list",), ("show", "default"), ("resolve", "a")):
        result = profreg(*args, "--store", str(path))
        assert result.code == 6 and SECRET not in result.err, result


def test_a_secret_number_is_not_quoted_in_resolve_errors(tmp_path):
    path = tmp_path / "profiles.yaml"
    path.write_text("slug: default\ndefault_profile_slug: a\nprofiles:\n  a:\n    runtime:\n"
                    "      step_settings_patch: {s: {api_token: 123456789012345678}}\n")
    result = profreg("resolve", "a", "--store", str(path))
    assert result.code == 1 and "123456789012345678" not in result.err and "api_token" in result.err


# A value that is itself a profile, or a registry, stored under a secret-looking key: every
# message about it is made where it stands, never from the key-less per-profile pass.
UNDER_SECRET_KEYS = [
    f"slug: d\nprofiles:\n  api_key: {SECRET}\n",
    f"slug: d\nprofiles:\n  <<: {{api_key: {SECRET}}}\n",
    f"registries:\n  password:\n    slug: password\n    profiles:\n      p: {SECRET}\n",
    f"slug: d\ndefault_profile_slug: api_key\nprofiles:\n  api_key: {{slug: {SECRET}}}\n",
    f"slug: d\nprofiles:\n  auth-token:\n    policy: {{allowed_override_keys: [{SECRET}], "
    f"denied_override_keys: [{SECRET}]}}\n",
]


@pytest.mark.parametrize("text", UNDER_SECRET_KEYS)
def test_a_profile_under_a_secret_looking_key_is_not_quoted(text):
    report = validate_text(text)
    assert report.diagnostics and {d.code for d in report.diagnostics} - {"default-profile-required"}
    for diagnostic in report.diagnostics:
        assert SECRET not in diagnostic.message, diagnostic


# ---------------------------------------------------------------- the server
def test_the_server_reports_these_and_answers_the_next_request(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFREG_MAX_DIAGNOSTICS", "50")
    client = StdioLspClient([sys.executable, "-m", "profreg_lsp"])
    try:
        client.initialize(tmp_path.as_uri(), {"debounce_ms": 0})
        for name, text, check in (
            ("long-int", WITH_LONG_INT, lambda ds: [d["code"] for d in ds] == ["yaml-limit"]),
            ("aliased", ALIASED, lambda ds: len(ds) == 51 and ds[0]["code"] == "too-many-problems"),
            ("leaky", LEAKY, lambda ds: ds and all(SECRET not in d["message"] for d in ds)),
        ):
            uri = (tmp_path / f"{name}.yaml").as_uri()
            client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml",
                                                                    "version": 1, "text": text}})
            _, diagnostics = client.wait_diagnostics(uri, 0, version=1, timeout=60)
            assert check(diagnostics), (name, diagnostics[:3])
            assert all(len(d["message"]) <= 500 for d in diagnostics)
            assert client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                         "position": {"line": 0, "character": 0}}, timeout=30) \
                is not False
    finally:
        client.close()
    assert client.proc.returncode == 0
