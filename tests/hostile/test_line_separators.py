"""Issue 13 item 10: text holding U+2028, U+2029 or U+0085 is written to a YAML store and
reads back the same (they are ordinary characters in YAML 1.2), so a SQLite store holding
such text migrates to YAML."""
from __future__ import annotations

import json

import pytest

from profreg.yamldump import dump_yaml
from profreg.stores import open_store
from profreg.engine import parse
from tests.cli.cli_inprocess import profreg

TEXTS = ["p\u2028q", "a\u2029b", "c\x85d", "multi\nline\u2028text\n", "\u2028", "tail\u2029"]
START = "# keep me\nslug: default\ndefault_profile_slug: a\nprofiles:\n  a: {description: plain}  # and me\n"


@pytest.mark.parametrize("text", TEXTS)
def test_a_store_write_round_trips_other_line_breaks(tmp_path, text):
    path = tmp_path / "profiles.yaml"
    path.write_text(START)
    with open_store(str(path)) as store:
        store.upsert_profile("default", {"slug": "b", "description": text,  # a new entry: spliced
                                         "runtime": {"step_settings_patch": {"s": {f"k{text}": text}}}})
        store.upsert_profile("default", {"slug": "a", "description": text})  # an edited one
        store.upsert_registry({"slug": "other", "description": text})  # single -> bundle: ruamel
    with open_store(str(path)) as store:
        assert store.get_profile("default", "a")["description"] == text
        b = store.get_profile("default", "b")
        assert b["description"] == text
        assert b["runtime"]["step_settings_patch"] == {"s": {f"k{text}": text}}
        assert store.get_registry("other")["description"] == text
    assert "# keep me" in path.read_text()


def test_sqlite_text_with_line_separators_migrates_to_yaml_and_back(tmp_path):
    db, yaml_file = str(tmp_path / "s.db"), str(tmp_path / "out.yaml")
    with open_store(db) as store:
        store.upsert_registry({"slug": "default", "description": "".join(TEXTS)})
        store.upsert_profile("default", {"slug": "a", "description": TEXTS[0], "display_name": TEXTS[2]})
    result = profreg("migrate", db, yaml_file)
    assert result.code == 0, result
    with open_store(yaml_file) as store:
        assert store.get_registry("default")["description"] == "".join(TEXTS)
        assert store.get_profile("default", "a")["display_name"] == TEXTS[2]
    back = str(tmp_path / "back.db")
    assert profreg("migrate", yaml_file, back).code == 0
    shown = json.loads(profreg("show", "default/a", "--store", back, "--format", "json").out)
    assert shown["description"] == TEXTS[0]


@pytest.mark.parametrize("text", TEXTS + ["9" * 5000, "0x" + "f" * 5000])
def test_yaml_output_reads_back_the_same(text):
    data = {"description": text, text: [text]}
    assert parse(dump_yaml(data)).data == data
