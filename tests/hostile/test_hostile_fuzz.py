"""The hostile-input suite's property tests (issue 13): generated documents built from
hostile pieces, and edit sequences sent to the server. Whatever the input: diagnostics,
never an exception; bounded counts and messages; no secret quoted; the server answers."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from profreg.engine import validate_text
from profreg.limits import current_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_lsp import StdioLspClient  # noqa: E402

SECRET = "sk-fuzz-0123456789"
SCALARS = ["1", "9" * 4400, "0x" + "f" * 4000, "-0", ".nan", "~", "''", '"\\L"', "\u2028", "yes", "!!int x",
           "!!binary aGk=", "!custom v", f"{{api_key: {SECRET}}}",
           f"{{password: [{SECRET}]}}", f"{{db: {{client_secret: {SECRET}}}}}", "&a x", "*a", "*missing", "[", "{", "'unterminated",
           "\x00", "\ufeff", "😀", "k: v", "- x", "<<: *a", "? k"]
KEYS = ["slug", "profiles", "default_profile_slug", "registries", "runtime", "api_key", "password",
        "step_settings_patch", "tools", "<<", "a", "A B", "0123", "k" * 300]


def _node(draw, depth: int) -> str:
    kind = draw(st.sampled_from(["scalar", "map", "seq", "alias-map"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        return draw(st.sampled_from(SCALARS))
    if kind == "seq":
        items = draw(st.lists(st.deferred(lambda: st.just(None)), max_size=4))
        return "[" + ", ".join(_node(draw, depth + 1) for _ in items) + "]"
    pairs = draw(st.lists(st.sampled_from(KEYS), max_size=4))
    body = ", ".join(f"{key}: {_node(draw, depth + 1)}" for key in pairs)
    return ("&a " if kind == "alias-map" else "") + "{" + body + "}"


@st.composite
def documents(draw) -> str:
    head = draw(st.sampled_from(["slug: default\nprofiles:\n", "registries:\n  r:\n    profiles:\n", ""]))
    lines = [f"  {draw(st.sampled_from(KEYS))}: {_node(draw, 0)}" for _ in range(draw(st.integers(0, 6)))]
    tail = draw(st.sampled_from(["", "default_profile_slug: a\n", "---\nx: 1\n", "\t", "x: " + "[" * 300]))
    return head + "\n".join(lines) + "\n" + tail


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_any_document_gives_bounded_diagnostics_and_no_secret(text):
    limits = current_limits()
    report = validate_text(text)
    assert len(report.diagnostics) <= limits.max_diagnostics + 1
    for diagnostic in report.diagnostics:
        assert len(diagnostic.message) <= limits.max_message_chars
        assert SECRET not in diagnostic.message  # it only ever sits under a secret-looking key


HOSTILE_FRAGMENTS = ["9" * 4400, "&b [*b]", "[" * 400, "*a", "&a {x: 1}", "<<: *a", "\u2028", "\x00", "!!int q",
                     "api_key: {x: 1}\n", "\n  p: *a\n" * 30, "? " + "k" * 2000 + "\n: 1\n"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(HOSTILE_FRAGMENTS)), min_size=1, max_size=8))
def test_hostile_edit_sequences_leave_a_live_server(tmp_path_factory, steps):
    client = _server(tmp_path_factory)
    uri = (client.root / f"doc-{len(client.diagnostics)}.yaml").as_uri()
    text = "slug: default\ndefault_profile_slug: a\nprofiles:\n  a: &a {description: x}\n"
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                            "text": text}})
    version = 1
    for where, fragment in steps:
        lines = text.split("\n")
        line = int(where * (len(lines) - 1))
        version += 1
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 0},
                                          "end": {"line": line, "character": 0}}, "text": fragment}]})
        lines[line] = fragment + lines[line]
        text = "\n".join(lines)
    _, diagnostics = client.wait_diagnostics(uri, 0, version=version, timeout=60)
    assert len(diagnostics) <= current_limits().max_diagnostics + 1
    assert client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                      "position": {"line": 1, "character": 0}}, timeout=30) is not False
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


_client: StdioLspClient | None = None


def _server(tmp_path_factory) -> StdioLspClient:
    global _client
    if _client is None or _client.proc.poll() is not None:
        root = tmp_path_factory.mktemp("hostile-lsp")
        _client = StdioLspClient([sys.executable, "-m", "profreg_lsp"])
        _client.initialize(root.as_uri(), {"debounce_ms": 0})
        _client.root = root
    return _client


def teardown_module(module) -> None:
    if _client is not None:
        assert _client.proc.poll() is None, "the server died"
        _client.close()
