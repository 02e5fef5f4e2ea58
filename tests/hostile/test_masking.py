"""Secret masking as SPEC 6 lists it, wherever profile content is printed (issue 13 item 7,
issue 14's masking point): show, resolve, migrate --dry-run, messages and the server's hover."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from profreg.secrets import MASK, is_secret_key, mask_secrets, mask_text
from tests.cli.cli_inprocess import profreg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_lsp import StdioLspClient  # noqa: E402

URL = "postgres://app:s3cr3t-pw@db.internal:5432/main"
SECRETS = ("sk-live-123", "hunter2", "s3cr3t-pw", "PRIVATE-PEM", "Bearer abc", "sess=42", "987654321")

REGISTRY = f"""slug: default
default_profile_slug: agent
profiles:
  agent:
    display_name: Agent
    description: "talks to {URL}"
    runtime:
      system_prompt: "Use {URL} for data."
      middlewares:
        - name: http
          config: {{authorization: "Bearer abc", cookie: "sess=42", timeout: 3}}
      step_settings_patch:
        ai-chat:
          openai-api-key: sk-live-123
          db_passwd: hunter2
          private_key: PRIVATE-PEM
          api_token: 987654321
          max_tokens: 4096
          dsn: "{URL}"
"""


@pytest.mark.parametrize("key", ["passwd", "DB_PASSWD", "private_key", "privateKey", "private-key", "Authorization",
                                 "cookie", "Set-Cookie", "api key", "x-api-key", "refresh_token"])
def test_every_marker_of_spec_6_is_secret(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key, shown", [("api_token", False), ("token", False), ("github_token", False),
                                        ("max_tokens", True), ("token_limit", True), ("num_tokens", True),
                                        ("ai-max-tokens", True), ("db_password", False)])
def test_numbers_under_secret_keys_are_masked_unless_they_are_token_counts(key, shown):
    assert (mask_secrets({key: 1234})[key] == 1234) is shown


@pytest.mark.parametrize("text, masked", [
    (URL, "postgres://app:***@db.internal:5432/main"),
    ("see https://u:p%40ss@host/x and redis://:pw@cache:6379", "see https://u:***@host/x and redis://:***@cache:6379"),
    ("https://host/path?user:x@y", "https://host/path?user:x@y"),  # no userinfo: nothing to hide
    ("mailto:a@b", "mailto:a@b"),
])
def test_a_url_password_is_masked_in_any_string(text, masked):
    assert mask_text(text) == masked
    assert mask_secrets({"description": text, "list": [text]}) == {"description": masked, "list": [masked]}


def test_masking_has_no_recursion_limit():
    value: object = {"password": "x"}
    for _ in range(20_000):
        value = {"k": value}
    masked = mask_secrets(value)
    for _ in range(20_000):
        masked = masked["k"]
    assert masked == {"password": MASK}


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "profiles.yaml"
    path.write_text(REGISTRY)
    return str(path)


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.mark.parametrize("args", [("show", "default"), ("show", "default/agent", "--format", "json"),
                                  ("show", "default/agent", "--format", "yaml"), ("resolve", "agent"),
                                  ("resolve", "agent", "--format", "text"), ("resolve", "agent", "--format", "yaml")])
def test_show_and_resolve_mask(store, args):
    result = profreg(*args, "--store", store)
    assert result.code == 0, result
    _assert_no_secret(result.out + result.err)
    assert "4096" in result.out and "db.internal" in result.out


def test_migrate_dry_run_masks_unless_show_secrets(store, tmp_path):
    for dest in (tmp_path / "out.yaml", tmp_path / "out.db"):
        result = profreg("migrate", store, str(dest), "--dry-run")
        assert result.code == 0, result
        _assert_no_secret(result.out + result.err)
        assert "***" in result.out and not dest.exists()
        shown = profreg("migrate", store, str(dest), "--dry-run", "--show-secrets")
        assert all(secret in shown.out for secret in ("sk-live-123", "s3cr3t-pw", "987654321"))
    # the real migration copies the real values
    assert profreg("migrate", store, str(tmp_path / "real.db")).code == 0
    real = profreg("show", "default/agent", "--store", str(tmp_path / "real.db"), "--show-secrets", "--format", "json")
    assert json.loads(real.out)["runtime"]["step_settings_patch"]["ai-chat"]["openai-api-key"] == "sk-live-123"


def test_the_server_hover_masks_the_profile_summary(tmp_path):
    client = StdioLspClient([sys.executable, "-m", "profreg_lsp"])
    try:
        client.initialize(tmp_path.as_uri(), {"debounce_ms": 0})
        uri = (tmp_path / "profiles.yaml").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": REGISTRY}})
        client.wait_diagnostics(uri, 0, version=1)
        hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                      "position": {"line": 1, "character": 24}})
        text = hover["contents"]["value"]
        assert "Profile `agent`" in text and "db.internal" in text
        _assert_no_secret(text)
    finally:
        client.close()
