"""The data of the latest validation of a document, looked up by registry.

Hover, completion and quick fixes show what the text holds (display names, tools, the
settings to resolve); they read it here, from the current text's analysis (the one the
diagnostics are published from; analysed first if an edit has not been published yet).
"""
from __future__ import annotations

from typing import Any

from .diagnostics import analyse
from .documents import Document


def registry_data(doc: Document, registry_name: str) -> dict[str, Any] | None:
    """The registry's data (the whole document for the single form), if the text had it."""
    data = analyse(doc).source.data
    if not isinstance(data, dict):
        return None
    if "registries" in data:
        regs = data.get("registries")
        data = regs.get(registry_name) if isinstance(regs, dict) else None
    return data if isinstance(data, dict) else None


def profiles_data(doc: Document, registry_name: str) -> dict[str, Any]:
    """Profile slug -> profile data of a registry (empty when the text had none)."""
    data = registry_data(doc, registry_name)
    profiles = data.get("profiles") if data is not None else None
    return profiles if isinstance(profiles, dict) else {}
