"""The YAML file store, a small package:

- `store`: `YamlFileStore`, reading the file with the engine and writing it back;
- `files`: file identity, durable atomic replacement, the writers' lock;
- `splice`: fast exact edits that rewrite only the changed entries' lines;
- `roundtrip`: the whole-document ruamel round trip, when splicing does not apply.

Files whose contents validated before are not validated again (`profreg.stores.validcache`,
shared with the SQL stores).
"""
from __future__ import annotations

from .store import YamlFileStore

__all__ = ["YamlFileStore"]
