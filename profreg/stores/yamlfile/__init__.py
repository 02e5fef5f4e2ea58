"""The YAML file store, a small package:

- `store`: `YamlFileStore`, reading the file with the engine and writing it back;
- `files`: file identity, durable atomic replacement, the writers' lock;
- `splice`: fast exact edits that rewrite only the changed entries' lines;
- `roundtrip`: the whole-document ruamel round trip, when splicing does not apply;
- `validcache`: remembers file contents that validated, so unchanged files are not
  validated again.
"""
from __future__ import annotations

from .store import YamlFileStore

__all__ = ["YamlFileStore"]
