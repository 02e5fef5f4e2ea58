"""A YAML store write reads back only the entries it spliced (`splice.Record.read_back`).

Differential: every write of a corpus of layouts and edits (breaking ones too) gives the
same outcome and the same bytes with the read-back as with the whole reading it replaces;
what it records as the new reading is what a full `validate_text` / fresh open of the
written bytes finds; a refused write leaves the file byte-identical. And directly: whatever
`read_back` returns is exactly the data a whole parse of the spliced text gives (types and
key order), and it returns nothing for text the whole reading would refuse.
"""
from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from profreg.engine import parse, validate_text
from profreg.engine.detection import detect_form
from profreg.limits import Limits
from profreg.stores import WriteOptions, open_store
from profreg.stores.yamlfile import splice as yamlsplice
from profreg.stores.yamlfile.store import YamlFileStore



def profile_block(name: str) -> str:
    return (f"  {name}:\n    display_name: Agent {name}\n    runtime:\n      system_prompt: You are {name}.\n"
            "      tools: [calculator, search]\n    policy:\n      allow_overrides: true\n"
            "      allowed_override_keys: [system_prompt]\n")


LAYOUTS = {
    "plain": textwrap.dedent("""\
        slug: team
        default_profile_slug: a
        profiles:
          a:
            runtime:
              system_prompt: first
          b:
            display_name: B
          c:
            description: last one
        """),
    "hand-written": textwrap.dedent("""\
        # Team registry, edited by hand.
        slug: team   # the registry
        display_name: "Team registry"
        default_profile_slug: a

        metadata:
          version: 3
          tags: [team, 'hand-written']

        profiles:
          # the main agent
          a:
            display_name: 'Agent'
            runtime:
              system_prompt: >-
                You are a helpful
                assistant.
              tools: [calculator, search]   # flow sequence
              middlewares:
              - name: logging
                config: {level: info, sample: 3}
              - name: "agentmode"
          # a second one
          b:
            description: |
              Reviews things,
              carefully.
            runtime: {}
            metadata: {version: 2, tags: [review]}

          c:
            runtime:
              system_prompt: plain
        # a comment at the left edge
        """),
    "block scalars kept": textwrap.dedent("""\
        slug: team
        default_profile_slug: a
        profiles:
          a:
            runtime:
              system_prompt: |+
                keeps its breaks


          b:
            runtime:
              system_prompt: |
                clipped
                # content, not a comment

            # a comment inside b's lines
          # a comment at the keys' column
        # a comment at the left edge
              # a deeper comment
          c:
            description: >+
              folded, kept

        """),
    "blank lines and plain scalars": textwrap.dedent("""\
        slug: team

        default_profile_slug: a


        profiles:

          a:
            description: a plain
              scalar on two lines

          b:
            description: "a quoted
              scalar"

          c:
            description: x


        """),
    "indentless and four spaces": textwrap.dedent("""\
        slug: team
        default_profile_slug: b
        profiles:
            a:
                runtime:
                    tools:
                    - one
                    - two
            b:
                runtime:
                    middlewares:
                    -   name: log
            c:
                policy:
                    denied_override_keys:
                    - tools
        """),
    "quoted keys and an anchor": textwrap.dedent("""\
        slug: team
        default_profile_slug: a
        profiles:
          "a":
            runtime: &base
              tools: [x]
          'b':
            display_name: B
          c: {}
        """),
    "document markers": textwrap.dedent("""\
        %YAML 1.2
        ---
        slug: team
        default_profile_slug: a
        profiles:
          a:
            description: x
          b:
            description: y
        ...
        """),
    "no final line break": "slug: team\ndefault_profile_slug: a\nprofiles:\n  a:\n    runtime:\n      system_prompt: |+\n        x",
    "a tab in a comment": "slug: team\ndefault_profile_slug: a\nprofiles:\n  a: {}\t# tab\n  b:\n    description: y\n",
    "bundle": textwrap.dedent("""\
        # two registries
        registries:
          team:
            default_profile_slug: a
            profiles:
              a:
                runtime:
                  system_prompt: |
                    hello
              b:
                display_name: B
          # the other one
          other:
            slug: other
            display_name: Other
            default_profile_slug: x
            profiles:
              x:
                description: x
        """),
    "anchors, aliases and merge keys": textwrap.dedent("""\
        slug: team
        default_profile_slug: a
        profiles:
          a:
            display_name: A
            runtime:
              system_prompt: &prompt You are A.
              middlewares: &middlewares
              - name: logging
                config: &logcfg {level: info}
              tools: &tools [calculator, search]
            policy: &policy
              allow_overrides: true
              allowed_override_keys: [system_prompt]
          b:
            runtime:
              system_prompt: *prompt   # a comment with a * in it
              middlewares: *middlewares
              tools:
              - *prompt
              - search
            policy:
              <<: *policy
              read_only: false
          c: &c
            description: c's own
          d: *c
          e:
            runtime:
              middlewares:
              - name: log
                config:
                  *logcfg
              tools: *tools
        """),
    "a bundle sharing anchors": textwrap.dedent("""\
        registries:
          team:
            default_profile_slug: a
            profiles:
              a:
                runtime: &runtime
                  system_prompt: shared
                  tools: [x]
              b:
                display_name: B
                runtime: *runtime
              c:
                runtime:
                  tools: &tools [y, z]
          other:
            slug: other
            default_profile_slug: x
            profiles:
              x:
                runtime: *runtime
                policy: {allow_overrides: false}
              y:
                runtime: {tools: *tools}
        """),
    "many profiles": "slug: team\ndefault_profile_slug: p0\nprofiles:\n" + "".join(
        profile_block(f"p{i}") for i in range(30)),
}

SHARING_LAYOUTS = ("anchors, aliases and merge keys", "a bundle sharing anchors")

AWKWARD_TEXTS = [
    "plain", "two\nlines\n", "kept breaks\n\n\n", "no final break\nat all", " leading space\n", "---", "...",
    "--- not a marker\n...\n", "# not a comment", "%YAML", "key: value", "- item", "tab\tinside", "tab end\t",
    "é ü 中 \u2028 line separator", "trailing space \nline", "'quoted'", '"double"', "no", "0123", "", "[x]",
    "a" * 300, "\n", "\nleading break", "|", ">-",
]


def edits(rng_text: str) -> list:
    """(name, operation) pairs; an operation takes a store and the layout's profile keys."""
    return [
        ("update a prompt", lambda s, p: s.upsert_profile("team", {"slug": p[0], "runtime": {"system_prompt": rng_text}})),
        ("update the last profile", lambda s, p: s.upsert_profile(
            "team", {"slug": p[-1], "description": rng_text, "runtime": {"tools": ["t"]}})),
        ("update a middle profile", lambda s, p: s.upsert_profile(
            "team", {"slug": p[len(p) // 2], "display_name": "M", "runtime": {"system_prompt": rng_text}})),
        ("add a profile", lambda s, p: s.upsert_profile("team", {"slug": "new-one", "description": rng_text})),
        ("delete the first profile", lambda s, p: s.delete_profile("team", p[0], new_default=p[-1])),
        ("delete the last profile", lambda s, p: s.delete_profile("team", p[-1], new_default=p[0])),
        ("delete a middle profile", lambda s, p: s.delete_profile("team", p[len(p) // 2], new_default=p[0])),
        ("set the default", lambda s, p: s.set_default_profile("team", p[-1])),
        ("update the registry", lambda s, p: s.upsert_registry(
            {"slug": "team", "display_name": "T", "description": rng_text})),
        ("add a registry", lambda s, p: s.upsert_registry({"slug": "zeta", "description": rng_text})),
        # breaking: refused by the write's validation, file unchanged
        ("an empty tool name", lambda s, p: s.upsert_profile("team", {"slug": p[0], "runtime": {"tools": [" "]}})),
        ("a number as prompt", lambda s, p: s.upsert_profile("team", {"slug": p[0], "runtime": {"system_prompt": 5}})),
        ("an allowed and denied key", lambda s, p: s.upsert_profile("team", {"slug": p[0], "policy": {
            "allowed_override_keys": ["tools"], "denied_override_keys": ["tools"]}})),
        ("a secret-looking value", lambda s, p: s.upsert_profile("team", {"slug": p[0], "runtime": {
            "step_settings_patch": {"ai-chat": {"api_key": rng_text}}}})),
        ("an unknown field", lambda s, p: s.upsert_profile("team", {"slug": p[0], "bogus": rng_text})),
        ("a deep patch", lambda s, p: s.upsert_profile("team", {"slug": p[0], "runtime": {
            "step_settings_patch": {"ai-chat": nested(12, rng_text)}}})),
        ("many values", lambda s, p: s.upsert_profile("team", {"slug": p[0], "runtime": {
            "step_settings_patch": {"ai-chat": {f"k{i}": [rng_text, i] for i in range(40)}}}})),
    ]


def corpus_edits() -> list:
    """Every edit with every awkward text for the two that write text into a profile, the
    others each with a few of them."""
    count = len(AWKWARD_TEXTS)
    out = []
    for position in range(len(edits(""))):
        chosen = range(count) if position in (0, 1, 3) else (position % count, (position * 7 + 3) % count)
        for i in chosen:
            name, operation = edits(AWKWARD_TEXTS[i])[position]
            out.append((name, operation, AWKWARD_TEXTS[i]))
    return out


def nested(depth: int, leaf: object) -> object:
    value = leaf
    for i in range(depth):
        value = {f"level-{i}": value}
    return value


def profile_keys(text: str) -> list[str]:
    data = parse(text).data
    registry = data["registries"]["team"] if "registries" in data else data
    return list(registry["profiles"])


def outcome(store, operation, keys):
    try:
        operation(store, keys)
    except Exception as exc:  # the same refusal either way (the file's name aside)
        return f"{type(exc).__name__}: {exc}".replace(store.path, "FILE")
    return None


def ordered_json(value: object) -> str:
    return json.dumps(value)  # key order kept: the new reading must have the file's order


@pytest.fixture
def fixed_clock(monkeypatch):
    """Writes at one time (both stores stamp the same metadata), without fsync (durability is
    tested in test_store_yaml; here only what is written counts)."""
    from profreg.stores import writes
    from profreg.stores.yamlfile import files

    monkeypatch.setattr(writes, "now_ms", lambda: 1_700_000_000_000)
    monkeypatch.setattr(files.os, "fsync", lambda _fd: None)


@pytest.mark.parametrize(("cache", "limits"), [("off", "default"), ("compiled", "default"), ("off", "tight")])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_write_read_back_by_entries_is_the_write_read_whole(tmp_path, monkeypatch, fixed_clock, layout,
                                                                cache, limits):
    text = LAYOUTS[layout]
    assert validate_text(text).valid, "the corpus holds valid files"
    if limits == "tight":  # the deep and many-valued edits cross them; a whole reading refuses those
        nodes = parse(text).nodes
        monkeypatch.setenv("PROFREG_MAX_DEPTH", "9")
        monkeypatch.setenv("PROFREG_MAX_NODES", str(nodes + 60))
    monkeypatch.setenv("PROFREG_CACHE_DIR", "" if cache == "off" else str(tmp_path / "cache"))
    real_read_back = YamlFileStore._read_back
    read_back_used = []

    def spied(self, *args):
        written = real_read_back(self, *args)
        read_back_used.append(written is not None)
        return written

    keys = profile_keys(text)
    first_writes: list[bool] = []  # whether each edit's write was read back by entries
    for index, (name, operation, text_value) in enumerate(corpus_edits()):
        fast, whole = tmp_path / f"fast-{index}.yaml", tmp_path / f"whole-{index}.yaml"
        fast.write_bytes(text.encode())
        whole.write_bytes(text.encode())
        if cache == "compiled":
            open_store(str(fast)).close()  # records the compiled form: the next open reads it
        monkeypatch.setattr(YamlFileStore, "_read_back", lambda self, *args: None)
        whole_outcome = outcome(open_store(str(whole)), operation, keys)
        monkeypatch.setattr(YamlFileStore, "_read_back", spied)
        fast_store = open_store(str(fast))
        read_back_used.clear()
        fast_outcome = outcome(fast_store, operation, keys)
        first_writes.append(any(read_back_used))
        case = (layout, name, text_value)
        assert fast_outcome == whole_outcome, case
        assert fast.read_bytes() == whole.read_bytes(), case
        if fast_outcome is not None:
            assert fast.read_bytes() == text.encode(), case  # refused: not a byte changed
            continue
        written = fast.read_bytes()
        report = validate_text(written)
        assert report.valid and report.diagnostics == [], case
        monkeypatch.setenv("PROFREG_CACHE_DIR", "")  # a real parse of the written bytes
        copy = tmp_path / f"copy-{index}.yaml"
        copy.write_bytes(written)
        fresh = open_store(str(copy))
        assert ordered_json(fast_store.list_registries()) == ordered_json(fresh.list_registries()), case
        for registry in fresh.list_registries():
            assert ordered_json(fast_store.get_registry(registry["slug"])) == ordered_json(registry), case
        # and the store's next write, from what it recorded, is the same as a fresh store's
        again = WriteOptions(actor="second")
        fast_store.upsert_profile("team", {"slug": "after", "description": "x"}, again)
        fresh.upsert_profile("team", {"slug": "after", "description": "x"}, again)
        assert ordered_json(fast_store.list_registries()) == ordered_json(fresh.list_registries()), case
        assert fast.read_bytes() == copy.read_bytes(), case
        monkeypatch.setenv("PROFREG_CACHE_DIR", "" if cache == "off" else str(tmp_path / "cache"))
    if layout in ("no final line break", "a tab in a comment"):
        assert not any(first_writes), "such files are read whole"
    elif layout in SHARING_LAYOUTS:  # an anchored entry that changes takes the whole-document edit
        assert limits != "default" or any(first_writes), "writes beside aliases are read back by entries"
    elif limits == "default":
        assert sum(first_writes) > len(first_writes) / 2, "most writes are read back by entries"


# ---- read_back against a whole parse, on any text the splice makes ------------------------
scalars = st.one_of(
    st.sampled_from(AWKWARD_TEXTS), st.text(alphabet=" \n#-:|>'\"ab\t%.", max_size=12),
    st.integers(-3, 3), st.floats(allow_nan=False, width=32), st.booleans(), st.none(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["k", "no", "1", "a b", "-", "#"]), inner,
                                                 max_size=3)), max_leaves=8)
profiles = st.fixed_dictionaries({}, optional={
    "description": scalars, "display_name": scalars,
    "runtime": st.fixed_dictionaries({}, optional={"system_prompt": scalars, "tools": st.lists(scalars, max_size=3),
                                                   "step_settings_patch": st.dictionaries(st.just("ai-chat"), values)}),
    "extra": values,
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout=st.sampled_from(sorted(LAYOUTS)), target=st.integers(0, 40), profile=profiles,
       operation=st.sampled_from(["replace", "add", "remove", "registry"]), registry_value=scalars,
       max_depth=st.sampled_from([256, 6, 8]), node_room=st.sampled_from([None, 0, 8, 40]))
def test_read_back_is_the_whole_parse_of_the_spliced_text(layout, target, profile, operation, registry_value,
                                                           max_depth, node_room):
    text = LAYOUTS[layout]
    parsed = parse(text)
    limits = Limits(max_depth=max_depth, max_nodes=parsed.nodes + node_room if node_room is not None
                    else Limits().max_nodes)
    if parse(text, limits).diagnostics:
        return  # the store would not have opened it under these limits
    data, form = parsed.data, detect_form(parsed.data)
    registry = dict(data["registries"]["team"] if form == "bundle" else data)
    registry["slug"] = "team"
    registry["profiles"] = dict(registry["profiles"])
    names = list(registry["profiles"])
    name = names[target % len(names)]
    if operation == "replace":
        registry["profiles"][name] = profile
    elif operation == "add":
        registry["profiles"][f"new-{target}"] = profile
    elif operation == "remove" and len(names) > 1:
        del registry["profiles"][name]
    else:
        registry["description"] = registry_value
    record = yamlsplice.Record()
    try:
        spliced = yamlsplice.splice_registry(text, parsed.root, data, form, "team", registry, record=record)
    except yamlsplice.NotSpliceable:
        return
    read = record.read_back(limits, parsed.nodes)
    whole = parse(spliced, limits)
    if whole.fatal or whole.diagnostics:
        assert read is None, spliced
    elif read is not None:
        assert repr(read) == repr(whole.data), spliced  # values, types and key order


@pytest.mark.parametrize(("old", "new", "same"), [
    (True, 1, False), (1.0, 1, False), ([0], [False], False), ({"a": 1, "b": [2]}, {"b": [2], "a": 1}, True),
    ({"x": [1]}, {"x": [1]}, True), (-0.0, 0.0, False), ("1", 1, False),
])
def test_an_unchanged_value_is_equal_data_of_the_same_kinds(old, new, same):
    assert yamlsplice._same(old, new) is same


def test_data_sharing_objects_through_aliases_is_the_same_as_its_copy():
    shared = ["calculator", "search"]
    old = {"a": {"tools": shared}, "b": {"tools": shared}}
    assert yamlsplice._same(old, json.loads(json.dumps(old)))
