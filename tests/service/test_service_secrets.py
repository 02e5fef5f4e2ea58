"""Masking of secret-looking values in output."""
from __future__ import annotations

import pytest

from profreg.secrets import MASK, is_secret_key, mask_secrets


@pytest.mark.parametrize(
    "key",
    ["openai-api-key", "API_KEY", "apiKey", "api key", "authToken", "access_token", "client-secret",
     "DB_PASSWORD", "credentials", "aws.credential"],
)
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["ai-engine", "api", "key", "name", "tools", "pass", 3])
def test_ordinary_keys(key):
    assert not is_secret_key(key)


def test_mask_secrets_masks_nested_values_and_keeps_keys():
    data = {
        "ai-chat": {"openai-api-key": "sk-1", "ai-engine": "gpt", "ai-max-tokens": 100},
        "list": [{"password": "p"}, {"secret": {"nested": "x"}}],
        "empty-token": "",
        "none-token": None,
        "db_password": 1234,
        "token_limit": 10.5,
        "auth_token": 77,
        "use_api_key": True,
    }
    masked = mask_secrets(data)
    assert masked == {
        "ai-chat": {"openai-api-key": MASK, "ai-engine": "gpt", "ai-max-tokens": 100},
        "list": [{"password": MASK}, {"secret": MASK}],
        "empty-token": "",
        "none-token": None,
        "db_password": MASK,  # a number under `password` is still a secret
        "token_limit": 10.5,  # a number whose only marker is `token` is a count
        "auth_token": MASK,  # a number under a secret key that is no count: masked
        "use_api_key": MASK,
    }
    assert data["ai-chat"]["openai-api-key"] == "sk-1"  # the input is left alone
