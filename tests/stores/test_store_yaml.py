"""The YAML file store: files, layout preservation, locking and change detection."""
from __future__ import annotations

import difflib
import random
import os
import stat
import textwrap

import pytest

from profreg.errors import StoreError, UsageError
from profreg.stores import WriteOptions, open_store
from profreg.engine import validate_text

HAND_WRITTEN = textwrap.dedent("""\
    # Team registry, edited by hand.
    # Keep this header.
    slug: team   # the registry
    display_name: "Team registry"
    description: 'Profiles for the team: quoted, "nested" and plain.'
    default_profile_slug: agent

    metadata:
      version: 3
      created_at_ms: 1700000000000
      updated_at_ms: 1700000000000
      tags: [team, 'hand-written']

    profiles:
      # the main agent
      agent:
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
          step_settings_patch:
            ai-chat:
              ai-engine: "gpt-4o-mini"
              ai-temperature: 0.50
              ai-max-tokens: 0x400
        policy:
          allow_overrides: true
          allowed_override_keys: [system_prompt, tools]

      # a second one
      reviewer:
        description: |
          Reviews things,
          carefully.
        runtime: {}
        metadata: {version: 2, tags: [review]}
    """)


# Anchors, aliases and merge keys shared across profiles, in the places a person puts them.
SHARED = textwrap.dedent("""\
    # Team registry, edited by hand.
    # Keep this header.
    slug: team
    default_profile_slug: agent
    profiles:
      agent:
        display_name: Agent
        runtime:
          system_prompt: &prompt You are a helpful assistant.
          middlewares: &middlewares
          - name: logging
            config: &logcfg {level: info, sample: 3}
          - name: agentmode
          tools: &tools [calculator, search]
        policy: &policy
          allow_overrides: true
          allowed_override_keys: [system_prompt, tools]
      reviewer:
        display_name: Reviewer   # a comment with a * in it
        runtime:
          system_prompt: *prompt
          middlewares: *middlewares
          tools:
          - *prompt
          - shell
        policy:
          <<: *policy
          read_only: false
      copy: &copy
        description: the copied one
        runtime: {tools: [*prompt, calc]}
      twin: *copy
      last:
        runtime:
          middlewares:
          - name: log
            config:
              *logcfg
          tools: *tools
    """)


def removed_lines(old: str, new: str) -> list[str]:
    """Lines of `old` that do not survive byte-for-byte (in order) in `new`."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out = []
    for op, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            out.extend(a[i1:i2])
    return out


@pytest.fixture(params=["splice", "round-trip"])
def edit_path(request, monkeypatch):
    """Run a test through each way the store edits text: entry splicing (the fast path) and
    the whole-document ruamel round trip (its fallback)."""
    from profreg.stores.yamlfile import roundtrip as yamledit, splice as yamlsplice

    if request.param == "round-trip":
        def refuse(*_args, **_kwargs):
            raise yamlsplice.NotSpliceable("test: take the whole-document path")

        monkeypatch.setattr(yamlsplice, "splice_registry", refuse)
    else:
        class NoRoundTrip:
            def __init__(self, *_args, **_kwargs):
                raise AssertionError("the splice path should have applied")

        monkeypatch.setattr(yamledit, "RoundTripDocument", NoRoundTrip)
    return request.param


@pytest.fixture
def hand_file(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(HAND_WRITTEN)
    return path


def test_missing_file_is_an_empty_store_created_private_on_first_write(tmp_path):
    path = tmp_path / "new.yaml"
    store = open_store(str(path))
    assert store.list_registries() == []
    assert not path.exists(), "opening creates nothing"
    store.upsert_registry({"slug": "default"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert validate_text(path.read_bytes()).valid


def test_existing_mode_is_kept(hand_file, edit_path):
    os.chmod(hand_file, 0o644)
    open_store(str(hand_file)).upsert_profile("team", {"slug": "writer"})
    assert stat.S_IMODE(hand_file.stat().st_mode) == 0o644


def test_open_store_with_must_exist_refuses_a_missing_file(tmp_path):
    with pytest.raises(UsageError):
        open_store(str(tmp_path / "missing.yaml"), must_exist=True)


@pytest.mark.parametrize(
    "text, position",
    [
        ("slug: team\nprofiles:\n  agent: [unclosed\n", ":4:1:"),
        ("slug: team\ndefault_profile_slug: nobody\n", ":2:23:"),
        ("slug: team\nslug: again\n", ":2:1:"),
    ],
)
def test_invalid_file_fails_to_open_with_file_line_col_and_is_never_overwritten(tmp_path, text, position):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(StoreError) as raised:
        open_store(str(path))
    assert f"{path}{position}" in str(raised.value)
    assert raised.value.exit_code == 6
    assert path.read_text() == text


def test_a_file_broken_after_opening_is_not_overwritten(hand_file):
    store = open_store(str(hand_file))
    broken = HAND_WRITTEN.replace("default_profile_slug: agent", "default_profile_slug: [")
    hand_file.write_text(broken)
    with pytest.raises(StoreError) as raised:
        store.upsert_profile("team", {"slug": "writer"})
    assert str(hand_file) in str(raised.value)
    assert hand_file.read_text() == broken


def test_adding_a_profile_keeps_every_untouched_line(hand_file, edit_path):
    open_store(str(hand_file)).upsert_profile(
        "team", {"slug": "writer", "runtime": {"system_prompt": "Line one\nLine two", "tools": ["a"]}},
        WriteOptions(actor="bob", source="cli"),
    )
    new = hand_file.read_text()
    assert removed_lines(HAND_WRITTEN, new) == [
        "  version: 3\n",
        "  updated_at_ms: 1700000000000\n",
    ]
    report = validate_text(new)
    assert report.valid
    assert report.data["profiles"]["writer"]["runtime"]["system_prompt"] == "Line one\nLine two"
    assert report.data["metadata"]["version"] == 4
    # the new profile follows the file's layout (sequences not indented under their key)
    assert "    runtime:\n      system_prompt: |-\n        Line one\n        Line two\n      tools:\n      - a\n" in new


def test_editing_one_profile_leaves_the_other_byte_for_byte(hand_file, edit_path):
    store = open_store(str(hand_file))
    agent = store.get_profile("team", "agent")
    agent["runtime"]["step_settings_patch"]["ai-chat"]["ai-engine"] = "gpt-5"
    store.upsert_profile("team", agent)
    new = hand_file.read_text()
    removed = removed_lines(HAND_WRITTEN, new)
    assert removed == [
        "  version: 3\n",
        "  updated_at_ms: 1700000000000\n",
        '          ai-engine: "gpt-4o-mini"\n',
    ]
    assert '          ai-engine: "gpt-5"\n' in new, "the edited scalar keeps its quoting style"
    assert "    metadata: {version: 2, tags: [review]}\n" in new
    assert store.get_profile("team", "reviewer")["description"] == "Reviews things,\ncarefully.\n"


def test_deleting_a_profile_removes_only_its_lines(hand_file, edit_path):
    store = open_store(str(hand_file))
    store.delete_profile("team", "reviewer")
    removed = removed_lines(HAND_WRITTEN, hand_file.read_text())
    assert "  reviewer:\n" in removed and "    runtime: {}\n" in removed
    assert not any("agent" in line or "#" in line for line in removed if "a second one" not in line)
    assert validate_text(hand_file.read_bytes()).valid


def test_indentation_is_detected_from_the_file(tmp_path, edit_path):
    text = textwrap.dedent("""\
        registries:
            main:
                default_profile_slug: a
                profiles:
                    a:
                        runtime:
                            tools:
                                - x
        """)
    path = tmp_path / "four.yaml"
    path.write_text(text)
    open_store(str(path)).upsert_profile("main", {"slug": "b", "runtime": {"tools": ["y", "z"]}})
    new = path.read_text()
    assert new.startswith(text.rsplit("registries", 1)[0])
    assert removed_lines(text, new) == []
    assert "            b:\n                runtime:\n                    tools:\n                        - y\n" in new


def test_a_single_file_gaining_a_second_registry_becomes_a_bundle(hand_file):
    store = open_store(str(hand_file))
    store.upsert_registry({"slug": "other", "display_name": "Other"})
    new = hand_file.read_text()
    report = validate_text(new)
    assert report.valid and report.form == "bundle"
    assert sorted(report.data["registries"]) == ["other", "team"]
    assert new.startswith("# Team registry, edited by hand.\n# Keep this header.\nregistries:\n  team:\n")
    assert "      # the main agent\n" in new.splitlines(keepends=True), "comments move with their lines"
    reopened = open_store(str(hand_file))
    assert reopened.get_profile("team", "agent")["runtime"]["tools"] == ["calculator", "search"]
    assert reopened.get_registry("other")["display_name"] == "Other"


def test_deleting_the_only_registry_of_a_single_file_leaves_an_empty_bundle(hand_file):
    store = open_store(str(hand_file))
    store.delete_registry("team")
    assert store.list_registries() == []
    assert open_store(str(hand_file)).list_registries() == []


def test_comment_only_file_is_an_empty_store_and_keeps_its_comments(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# registries go here\n")
    store = open_store(str(path))
    assert store.list_registries() == []
    store.upsert_registry({"slug": "default"})
    text = path.read_text()
    assert text.startswith("# registries go here\n") and validate_text(text).valid


def test_crlf_line_endings_are_kept(tmp_path, edit_path):
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"slug: team\r\n# note\r\nprofiles:\r\n  a: {}\r\ndefault_profile_slug: a\r\n")
    open_store(str(path)).upsert_profile("team", {"slug": "b"})
    raw = path.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") and b"# note\r\n" in raw


def test_legacy_file_is_read_but_not_written(tmp_path):
    text = "default:\n  ai-chat:\n    engine: a\nfast:\n  ai-chat:\n    engine: b\n"
    path = tmp_path / "legacy.yaml"
    path.write_text(text)
    store = open_store(str(path))
    registry = store.get_registry("default")
    assert registry["default_profile_slug"] == "default"
    assert registry["profiles"]["fast"]["runtime"]["step_settings_patch"] == {"ai-chat": {"engine": "b"}}
    with pytest.raises(StoreError) as raised:
        store.upsert_profile("default", {"slug": "new"})
    assert "profreg migrate" in str(raised.value)
    assert path.read_text() == text
    named = open_store(str(path), legacy_registry="old")
    assert [r["slug"] for r in named.list_registries()] == ["old"]


def test_a_hand_edit_after_opening_is_not_lost(hand_file, edit_path):
    store = open_store(str(hand_file))
    store.get_registry("team")
    edited = HAND_WRITTEN + "  added-by-hand:\n    display_name: By hand\n"
    hand_file.write_text(edited)
    store.upsert_profile("team", {"slug": "writer"})
    text = hand_file.read_text()
    assert "  added-by-hand:\n    display_name: By hand\n" in text
    assert sorted(store.get_registry("team")["profiles"]) == ["added-by-hand", "agent", "reviewer", "writer"]


def test_two_stores_on_one_file_see_each_others_writes(tmp_path):
    path = str(tmp_path / "shared.yaml")
    first, second = open_store(path), open_store(path)
    first.upsert_registry({"slug": "default"})
    second.upsert_profile("default", {"slug": "a"})
    first.upsert_profile("default", {"slug": "b"})
    assert sorted(second.get_registry("default")["profiles"]) == ["a", "b"]
    assert second.get_registry("default")["metadata"]["version"] == 3


def test_no_temporary_files_are_left_behind(hand_file):
    store = open_store(str(hand_file))
    store.upsert_profile("team", {"slug": "writer"})
    with pytest.raises(Exception):
        store.upsert_profile("team", {"slug": "bad", "runtime": {"tools": [""]}})
    leftovers = sorted(p.name for p in hand_file.parent.iterdir())
    assert leftovers == ["team.yaml"]  # no temporary file, no lock file


def test_writes_follow_a_symlink(tmp_path, hand_file):
    link = tmp_path / "link.yaml"
    link.symlink_to(hand_file)
    open_store(str(link)).upsert_profile("team", {"slug": "writer"})
    assert link.is_symlink()
    assert "writer" in open_store(str(hand_file)).get_registry("team")["profiles"]


def test_aliases_are_not_edited_through(tmp_path):
    text = textwrap.dedent("""\
        slug: team
        default_profile_slug: a
        profiles:
          a:
            runtime: &shared
              tools: [x]
          b:
            runtime: *shared
        """)
    path = tmp_path / "alias.yaml"
    path.write_text(text)
    store = open_store(str(path))
    store.upsert_profile("team", {"slug": "a", "runtime": {"tools": ["y"]}})
    assert store.get_profile("team", "a")["runtime"]["tools"] == ["y"]
    assert store.get_profile("team", "b")["runtime"]["tools"] == ["x"]
    assert open_store(str(path)).get_profile("team", "b")["runtime"]["tools"] == ["x"]


def test_a_field_changed_beside_aliases_rewrites_that_field_only(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    store = open_store(str(path))
    changes = [  # (profile, field, value, the one line it replaces)
        ("reviewer", ("runtime", "system_prompt"), "Review it.", "      system_prompt: *prompt\n"),
        ("agent", ("display_name",), "Main", "    display_name: Agent\n"),
        ("last", ("runtime", "tools"), ["shell"], "      tools: *tools\n"),
    ]
    stamps = ("version:", "updated_at_ms:")  # the registry's metadata, new on each write
    for slug, field, value, line in changes:
        profile = store.get_profile("team", slug)
        if len(field) == 2:
            profile["runtime"] = {**profile["runtime"], field[1]: value}
        else:
            profile[field[0]] = value
        before = path.read_text()
        store.upsert_profile("team", profile)
        removed = [old for old in removed_lines(before, path.read_text()) if not old.strip().startswith(stamps)]
        assert removed == [line], path.read_text()
    fresh = open_store(str(path))
    assert fresh.get_registry("team") == store.get_registry("team")
    assert fresh.get_profile("team", "reviewer")["runtime"]["system_prompt"] == "Review it."
    # the anchors' other aliases still read the anchors' text: it is not rewritten
    assert fresh.get_profile("team", "reviewer")["runtime"]["tools"] == ["You are a helpful assistant.", "shell"]
    assert fresh.get_profile("team", "agent")["display_name"] == "Main"
    assert fresh.get_profile("team", "last")["runtime"]["tools"] == ["shell"]
    assert fresh.get_profile("team", "reviewer")["policy"]["allowed_override_keys"] == ["system_prompt", "tools"]


def test_an_anchored_value_that_changes_leaves_its_aliases_as_they_were(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    store = open_store(str(path))
    profile = store.get_profile("team", "agent")
    profile["runtime"] = {**profile["runtime"], "system_prompt": "Help.", "tools": ["calculator"]}
    profile["policy"] = {**profile["policy"], "allow_overrides": False}  # the source of a merge key
    store.upsert_profile("team", profile)
    fresh = open_store(str(path))
    assert fresh.get_registry("team") == store.get_registry("team")
    assert fresh.get_profile("team", "agent")["runtime"]["system_prompt"] == "Help."
    reviewer = fresh.get_profile("team", "reviewer")
    assert reviewer["runtime"]["system_prompt"] == "You are a helpful assistant."
    assert reviewer["policy"]["allow_overrides"] is True
    assert fresh.get_profile("team", "agent")["policy"]["allow_overrides"] is False
    assert fresh.get_profile("team", "last")["runtime"]["tools"] == ["calculator", "search"]


# ---- differential: the YAML store against the memory store ----------------------------------
SEEDS = [int(s) for s in os.environ.get("PROFREG_STORE_SEEDS", "1,2,3").split(",")]
AWKWARD_STRINGS = ["no", "on", "0123", "true", "null", "1.5", "a: b", "# not a comment", "multi\nline\n",
                   "trailing space ", "'quoted'", '"double"', "é ü 中", "", "-", "[x]", "{y}"]


def random_value(rng, depth=0):
    kinds = ["str", "int", "float", "bool", "null", "list", "map"] if depth < 2 else ["str", "int", "bool"]
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(AWKWARD_STRINGS + ["plain", "x"])
    if kind == "int":
        return rng.choice([0, 1, -7, 1024])
    if kind == "float":
        return rng.choice([0.5, 2.0, -1.25])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "null":
        return None
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randint(0, 3))}


def random_profile(rng, slug):
    profile = {"slug": slug}
    if rng.random() < 0.5:
        profile["display_name"] = rng.choice(AWKWARD_STRINGS[:-5] + ["Agent"]) or "Agent"
    runtime = {}
    if rng.random() < 0.5:
        runtime["system_prompt"] = rng.choice(AWKWARD_STRINGS)
    if rng.random() < 0.5:
        runtime["tools"] = rng.sample(["search", "shell", "calc", "no", "0123"], rng.randint(0, 3))
    if rng.random() < 0.4:
        runtime["middlewares"] = [{"name": "log", "config": random_value(rng)}]
    if rng.random() < 0.5:
        runtime["step_settings_patch"] = {"ai-chat": {"engine": random_value(rng, 1), "t": random_value(rng, 2)}}
    if runtime or rng.random() < 0.2:
        profile["runtime"] = runtime
    if rng.random() < 0.3:
        profile["policy"] = {"read_only": rng.choice([True, False])}
    if rng.random() < 0.3:
        profile["metadata"] = {"tags": rng.sample(["a", "b", "yes"], rng.randint(0, 2))}
    return profile


def random_operation(rng, reference):
    registries = {r["slug"]: r for r in reference.list_registries()}
    choice = rng.random()
    if not registries or choice < 0.1:
        slug = rng.choice(["team", "other", "no", "0123"])
        fields = {"display_name": "R " + slug} if rng.random() < 0.5 else {}
        return "upsert_registry", ({"slug": slug, **fields},), {}
    slug = rng.choice(sorted(registries))
    profiles = sorted(registries[slug]["profiles"])
    if choice < 0.55 or not profiles:
        name = rng.choice(profiles + ["p1", "p2", "p3", "on", "007"])
        return "upsert_profile", (slug, random_profile(rng, name)), {}
    if choice < 0.75:
        victim = rng.choice(profiles)
        others = [p for p in profiles if p != victim]
        new_default = rng.choice(others) if others and rng.random() < 0.7 else None
        return "delete_profile", (slug, victim), {"new_default": new_default}
    if choice < 0.9:
        return "set_default_profile", (slug, rng.choice(profiles)), {}
    if choice < 0.95:
        return "upsert_registry", ({"slug": slug, "description": rng.choice(AWKWARD_STRINGS)},), {}
    return "delete_registry", (slug,), {}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("whole_document", [False, True], ids=["auto", "round-trip"])
@pytest.mark.parametrize("start", ["hand-written", "shared"])
def test_random_writes_match_the_memory_store(tmp_path, monkeypatch, whole_document, seed, start):
    from profreg.stores import writes as mutations
    from profreg.stores.yamlfile import splice as yamlsplice

    spliced: list[str | None] = []
    if whole_document:
        def refuse(*_args, **_kwargs):
            raise yamlsplice.NotSpliceable("test: take the whole-document path")

        monkeypatch.setattr(yamlsplice, "splice_registry", refuse)
    else:  # record what splicing produced: when it applies, its text must be what is written
        real_splice = yamlsplice.splice_registry

        def recording(*args, **kwargs):
            spliced.append(None)
            spliced[-1] = real_splice(*args, **kwargs)
            return spliced[-1]

        monkeypatch.setattr(yamlsplice, "splice_registry", recording)

    monkeypatch.setattr(mutations, "now_ms", lambda: 1_700_000_000_000)
    path = tmp_path / "team.yaml"
    path.write_text(HAND_WRITTEN if start == "hand-written" else SHARED)
    store = open_store(str(path))
    reference = open_store("memory:")
    for registry in store.list_registries():
        reference.import_registry(registry)
    rng = random.Random(seed)
    used_splice = 0
    for _step in range(40):
        name, args, kwargs = random_operation(rng, reference)
        outcomes = []
        for target in (reference, store):
            try:
                getattr(target, name)(*args, **kwargs)
                outcomes.append(None)
            except Exception as exc:  # the same refusal from both
                outcomes.append(type(exc).__name__)
        assert outcomes[0] == outcomes[1], (name, args, kwargs, outcomes)
        if outcomes[1] is None and spliced and spliced[-1] is not None:
            assert path.read_text() == spliced[-1], "spliced text was rejected by the read-back check"
            used_splice += 1
        spliced.clear()
        assert validate_text(path.read_bytes()).valid
        assert open_store(str(path)).list_registries() == reference.list_registries(), (name, args, kwargs)
    assert "# Keep this header.\n" in path.read_text()
    assert whole_document or used_splice > 10, "most writes should take the splice path"


def test_writes_are_fsynced_and_renamed_into_place(hand_file, monkeypatch):
    from profreg.stores.yamlfile import files as yamlfile

    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", "directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def replace(source, target):
        if os.path.realpath(target) == os.path.realpath(hand_file):  # not the cache's own files
            calls.append(("replace", "same directory" if os.path.dirname(source) == os.path.dirname(target) else "elsewhere"))
        real_replace(source, target)

    monkeypatch.setattr(yamlfile.os, "fsync", fsync)
    monkeypatch.setattr(yamlfile.os, "replace", replace)
    open_store(str(hand_file)).upsert_profile("team", {"slug": "writer"})
    assert calls == [("fsync", "file"), ("replace", "same directory"), ("fsync", "directory")]


def test_a_held_lock_makes_writes_fail_with_a_store_error(hand_file, monkeypatch):
    from profreg.stores.yamlfile import files as yamlfile

    monkeypatch.setattr(yamlfile, "LOCK_TIMEOUT_S", 0.2)
    with yamlfile.file_lock(os.path.realpath(hand_file)):  # as another process's writer holds it
        store = open_store(str(hand_file))
        assert store.get_registry("team")["slug"] == "team", "reads do not wait for the lock"
        with pytest.raises(StoreError) as raised:
            store.upsert_profile("team", {"slug": "writer"})
        assert "locked" in str(raised.value)
    assert hand_file.read_text() == HAND_WRITTEN
    store.upsert_profile("team", {"slug": "writer"})
