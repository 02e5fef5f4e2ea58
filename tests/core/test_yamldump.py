"""`dump_yaml` emits plain data as events straight from the objects: the text must be what
PyYAML's representer and serializer make of the same data with the same dumper."""
from __future__ import annotations

import random

import yaml

from profreg.engine import parse
from profreg.yamldump import dump_yaml
from profreg.yamlemit import _Yaml12SafeDumper

STRINGS = ["", "a", "yes", "on", "1e3", "0o17", "<<", "null", "~", "true", "x: y", "- a", "#c", "a\nb",
           "a\nb\n", "a \n", "\tx", "é", "\u2028x", "a\rb", "x\x85y", "12", "1_000", ".inf", "0x1f", "'q'",
           '"d"', "a" * 150, "long words " * 20, " lead", "trail ", "&a", "*b", "{a}", "[b]", "---", "x\x00y"]
NUMBERS = [0, -7, 10**20, 0.0, -0.0, 1.5, 1e17, -1e-300, float("inf"), float("-inf"), float("nan"), 1 / 3]


def through_the_representer(data):
    return yaml.dump(data, Dumper=_Yaml12SafeDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def value(rnd: random.Random, depth: int):
    roll = rnd.random()
    if depth > 4 or roll < 0.5:
        return rnd.choice(STRINGS + NUMBERS + [True, False, None])
    if roll < 0.75:
        return {rnd.choice(STRINGS + [1, True, None, 1.5]): value(rnd, depth + 1) for _ in range(rnd.randrange(5))}
    return [value(rnd, depth + 1) for _ in range(rnd.randrange(5))]


def test_random_plain_data_dumps_as_through_the_representer():
    rnd = random.Random(7)
    for _ in range(1500):
        data = value(rnd, 0)
        assert dump_yaml(data) == through_the_representer(data), data


def test_shared_containers_get_the_same_anchors_and_aliases():
    shared = {"ai-chat": {"ai-engine": "o3"}}
    tools = ["search"]
    data = {"a": {"runtime": {"step_settings_patch": shared, "tools": tools}},
            "b": {"runtime": {"step_settings_patch": shared, "tools": tools}}, "c": [tools, [tools]]}
    text = dump_yaml(data)
    assert text == through_the_representer(data)
    assert "&id001" in text and "*id002" in text
    assert parse(text).data == data


def test_other_types_take_the_representers_path():
    data = {"a": {1, 2}, "b": b"x", "c": ["y"]}
    assert dump_yaml(data) == through_the_representer(data)
    assert "!!set" in dump_yaml(data)
