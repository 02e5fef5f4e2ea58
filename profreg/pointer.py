"""RFC 6901 JSON pointers: how every layer names a place in a document."""
from __future__ import annotations


def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_join(pointer: str, token: object) -> str:
    return f"{pointer}/{pointer_escape(str(token))}"


def pointer_split(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
