"""The JSON Schema, loaded once from the installed package (the file in schema/).

The wheel ships schema/ as the package `profreg.schemas`; when profreg is imported from
a source checkout instead (tests run from the repo root), the same file is read from
schema/ beside the package. Either way there is one file and no copy.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

SCHEMA_FILENAME = "profile-registry.schema.json"
_HERE = os.path.dirname(os.path.abspath(__file__))
# Installed: site-packages/profreg/schemas/; source checkout: <repo>/schema/.
# Plain paths rather than importlib.resources: the CLI's start-up time is measured.
_CANDIDATES = (
    os.path.join(_HERE, "schemas", SCHEMA_FILENAME),
    os.path.join(os.path.dirname(_HERE), "schema", SCHEMA_FILENAME),
)


def schema_path() -> str:
    for candidate in _CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"{SCHEMA_FILENAME} is missing from the profreg installation")


def schema_text() -> str:
    with open(schema_path(), encoding="utf-8") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(schema_text())


def schema_id() -> str:
    return load_schema()["$id"]
