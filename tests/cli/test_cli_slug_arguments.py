"""SPEC 6: slug arguments are trimmed, lower-cased and checked before anything is looked up.

An argument that is not a valid slug is a validation error naming `registry.slug` or
`profile.slug` (exit 1), not a "not found" (exit 3).
"""
from __future__ import annotations

import pytest

from tests.cli.cli_inprocess import profreg


@pytest.fixture(params=["yaml", "db"])
def store(request, tmp_path):
    spec = str(tmp_path / f"s.{request.param}")
    for args in (("registry", "create", "default"), ("profile", "create", "default/agent")):
        assert profreg(*args, "--store", spec).code == 0
    return spec


@pytest.mark.parametrize(
    "args, field",
    [
        (("resolve", "bad slug"), "profile.slug"),
        (("resolve", "default/-agent"), "profile.slug"),
        (("resolve", "agent", "--registry", "no such!"), "registry.slug"),
        (("resolve", "bad reg/agent"), "registry.slug"),
        (("show", "bad slug"), "registry.slug"),
        (("show", "default/bad slug"), "profile.slug"),
        (("show", "a/b/c"), "registry.slug"),
        (("list", "x" * 129), "registry.slug"),
        (("profile", "update", "default/bad slug", "--display-name", "x"), "profile.slug"),
        (("profile", "delete", "default/bad slug"), "profile.slug"),
        (("profile", "delete", "default/agent", "--new-default", "bad slug"), "profile.slug"),
        (("profile", "create", "default/"), "profile.slug"),
        (("set-default", "default/bad slug"), "profile.slug"),
        (("set-default", "Bad_Reg!/agent"), "registry.slug"),
        (("registry", "delete", "bad slug"), "registry.slug"),
    ],
)
def test_bad_slug_argument_is_a_validation_error(store, args, field):
    result = profreg(*args, "--store", store)
    assert result.code == 1, result
    assert result.out == ""
    assert len(result.err.splitlines()) == 1 and field in result.err and "not a valid slug" in result.err


def test_arguments_are_canonicalised_before_the_check(store):
    assert profreg("show", " Default/AGENT ", "--store", store, "--format", "json").code == 0
    assert profreg("resolve", "DEFAULT/Agent", "--store", store).code == 0
