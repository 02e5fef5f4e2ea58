"""The JSON Schema, loaded once from the installed package (the file in schema/).

The wheel ships schema/ as the package `profreg.schemas`; when profreg is imported from
a source checkout instead (tests run from the repo root), the same file is read from
schema/ beside the package. Either way there is one file and no copy.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_FILENAME = "profile-registry.schema.json"


def schema_text() -> str:
    try:
        return resources.files("profreg.schemas").joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return (Path(__file__).resolve().parent.parent / "schema" / SCHEMA_FILENAME).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(schema_text())


def schema_id() -> str:
    return load_schema()["$id"]
