"""`profreg validate`: output formats, directories, stores, exit codes (SPEC section 6)."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from profreg.engine import Diagnostic, Span
from profreg.reporters import CheckedFile, github_line, render_text, summary_line, text_line

from tests.conftest import run_cli

VALID = """\
slug: default
default_profile_slug: agent
profiles:
  agent:
    runtime:
      system_prompt: Hello.
"""

INVALID = """\
slug: default
default_profile_slug: Agent
profiles:
  agent:
    runtime:
      tools: calculator
"""

LEGACY = """\
default:
  ai-chat:
    ai-engine: gpt-4o-mini
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assert_clean_failure(proc, code: int) -> None:
    """An expected error: the exit code, one line on stderr, no traceback."""
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# -- text -------------------------------------------------------------------------------
def test_text_format_lines_and_summary(tmp_path):
    good = write(tmp_path / "good.yaml", VALID)
    bad = write(tmp_path / "bad.yaml", INVALID)
    proc = run_cli("validate", str(good), str(bad), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{bad}:2:23: error[schema] registry.default_profile_slug: the string 'Agent' is not a valid slug "
        "for default_profile_slug: use lower-case letters, digits, '.', '_' or '-', starting and ending "
        "with a letter or digit",
        f"{bad}:6:14: error[schema] registry.profiles[agent].runtime.tools: tools must be a list, "
        "not the string 'calculator'",
        "2 files checked: 1 invalid, 2 errors, 0 warnings",
    ]
    assert proc.stderr == ""


def test_valid_file_exits_0_with_summary_only(tmp_path):
    good = write(tmp_path / "good.yaml", VALID)
    proc = run_cli("validate", "good.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1 file checked: 0 invalid, 0 errors, 0 warnings\n"
    assert good.exists()


def test_warning_only_is_valid(tmp_path):
    write(tmp_path / "old.yaml", LEGACY)
    proc = run_cli("validate", "old.yaml", cwd=tmp_path)
    assert proc.returncode == 0
    first, summary = proc.stdout.splitlines()
    assert first.startswith("old.yaml:1:1: warning[legacy-format] ")  # no field: no "field: " part
    assert summary == "1 file checked: 0 invalid, 0 errors, 1 warning"


def test_columns_count_code_points_and_skip_the_bom(tmp_path):
    text = "slug: default\ndisplay_name: \"é😀\"\nmetadata: {version: -1}\n"
    write(tmp_path / "bom.yaml", b"\xef\xbb\xbf" + text.encode("utf-8"))
    write(tmp_path / "wide.yaml", "slug: default\nmetadata: {tags: [\"😀é\", 1]}\n")
    proc = run_cli("validate", "bom.yaml", "wide.yaml", "--format", "json", cwd=tmp_path)
    files = {f["path"]: f["diagnostics"] for f in json.loads(proc.stdout)["files"]}
    (bom,) = files["bom.yaml"]
    assert (bom["line"], bom["column"], bom["end_column"]) == (3, 21, 23)  # BOM not counted
    (wide,) = files["wide.yaml"]
    # `[` at column 17, "😀é" takes 4 code points + ", " -> the 1 is at column 25
    assert (wide["line"], wide["column"], wide["end_column"]) == (2, 25, 26)


def test_not_utf8_is_a_diagnostic(tmp_path):
    write(tmp_path / "latin1.yaml", "slug: default\ndisplay_name: café\n".encode("latin-1"))
    proc = run_cli("validate", "latin1.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("latin1.yaml:2:18: error[yaml-syntax] ")
    assert "not UTF-8" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_stdin(tmp_path):
    proc = run_cli("validate", "-", input=INVALID)
    assert proc.returncode == 1
    assert proc.stdout.startswith("<stdin>:2:23: error[schema] ")


# -- json -------------------------------------------------------------------------------
def test_json_format_shape(tmp_path):
    write(tmp_path / "a" / "bad.yaml", INVALID)
    write(tmp_path / "good.yaml", VALID)
    proc = run_cli("validate", "a/bad.yaml", "./good.yaml", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert list(out) == ["files"]
    assert [(f["path"], f["valid"]) for f in out["files"]] == [("a/bad.yaml", False), ("./good.yaml", True)]
    first = out["files"][0]["diagnostics"][0]
    assert first == {
        "severity": "error",
        "code": "schema",
        "keyword": "pattern",
        "message": first["message"],
        "field": "registry.default_profile_slug",
        "pointer": "/default_profile_slug",
        "line": 2,
        "column": 23,
        "end_line": 2,
        "end_column": 28,
    }
    assert out["files"][1]["diagnostics"] == []


# -- github -----------------------------------------------------------------------------
def test_github_format(tmp_path):
    write(tmp_path / "bad.yaml", INVALID)
    write(tmp_path / "old.yaml", LEGACY)
    proc = run_cli("validate", "bad.yaml", "old.yaml", "--format", "github", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        "::error file=bad.yaml,line=2,col=23,endLine=2,endColumn=28,title=schema::"
        "registry.default_profile_slug: the string 'Agent' is not a valid slug"
    )
    assert lines[2].startswith("::warning file=old.yaml,line=1,col=1,")
    assert "title=legacy-format::this file is in the legacy flat form" in lines[2]
    assert len(lines) == 3  # one command per diagnostic, no summary


def test_github_escaping():
    d = Diagnostic("info", "x,y", "100% sure\nsecond line", field="a:b", span=Span(0, 0, 0, 1))
    assert github_line("dir,1/f:1.yaml", d) == (
        "::notice file=dir%2C1/f%3A1.yaml,line=1,col=1,endLine=1,endColumn=2,title=x%2Cy::"
        "a:b: 100%25 sure%0Asecond line"
    )


def test_text_reporter_units():
    d = Diagnostic("error", "empty-name", "tool name must not be\nempty", field="", span=Span(4, 2, 4, 3))
    assert text_line("f.yaml", d) == "f.yaml:5:3: error[empty-name] tool name must not be empty"
    w = Diagnostic("warning", "legacy-format", "old")
    files = [CheckedFile("a", [d, d, w]), CheckedFile("b", [w]), CheckedFile("c", [])]
    assert summary_line(files) == "3 files checked: 1 invalid, 2 errors, 2 warnings"
    assert summary_line([CheckedFile("a", [Diagnostic("info", "i", "m")])]) == (
        "1 file checked: 0 invalid, 0 errors, 0 warnings, 1 info"
    )
    assert render_text([]) == "0 files checked: 0 invalid, 0 errors, 0 warnings\n"


# -- directories ------------------------------------------------------------------------
def test_directory_checks_registry_files_only(tmp_path):
    root = tmp_path / "repo"
    write(root / "registry.yaml", VALID)
    write(root / "teams" / "bad.yml", INVALID)
    write(root / "teams" / "old.yaml", LEGACY)
    write(root / "broken.yaml", "slug: default\nprofiles: [\n")  # does not parse: judged by a line scan
    write(root / "tagged.yaml", "# profreg\nfoo: 1\n")  # modeline
    write(root / "schema-line.yaml", "# yaml-language-server: $schema=../profile-registry.schema.json\n[]\n")
    write(root / "bad-bytes.yaml", b"slug: default\ndisplay_name: \xff\n")
    # not registries, or not entered:
    write(root / ".github" / "workflows" / "ci.yaml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n")
    write(root / "compose.yaml", "version: '3'\nservices:\n  web:\n    image: nginx\n")
    write(root / "deploy" / "stack.yml", "services:\n  web:\n    image: nginx\n")  # legacy-shaped Compose
    write(root / "ci-pr.yaml", "on:\n  pull_request: {branches: [main]}\njobs:\n  t:\n    runs-on: x\n")
    write(root / "empty.yaml", "")
    write(root / "comments.yaml", "# nothing yet\n")
    write(root / "node_modules" / "pkg" / "registry.yaml", INVALID)
    write(root / ".hidden" / "registry.yaml", INVALID)
    write(root / "notes.txt", INVALID)
    write(root / "list.yaml", "- slug: a\n")
    proc = run_cli("validate", "repo", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    checked = {f["path"]: f["valid"] for f in json.loads(proc.stdout)["files"]}
    assert checked == {
        "repo/bad-bytes.yaml": False,
        "repo/broken.yaml": False,
        "repo/registry.yaml": True,
        "repo/schema-line.yaml": False,
        "repo/tagged.yaml": False,
        "repo/teams/bad.yml": False,
        "repo/teams/old.yaml": True,
    }
    assert list(checked) == sorted(checked)  # a stable, sorted walk


def test_directory_without_registries(tmp_path):
    write(tmp_path / "ci.yaml", "on: push\n")
    proc = run_cli("validate", str(tmp_path))
    assert proc.returncode == 0
    assert proc.stdout == "0 files checked: 0 invalid, 0 errors, 0 warnings\n"


def test_explicit_file_is_checked_whatever_it_looks_like(tmp_path):
    write(tmp_path / "ci.yaml", "on: push\n")
    proc = run_cli("validate", "ci.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert "error[schema]" in proc.stdout


# -- usage and unreadable paths ---------------------------------------------------------
def test_missing_path_exits_2(tmp_path):
    write(tmp_path / "good.yaml", VALID)
    proc = run_cli("validate", "good.yaml", "missing.yaml", cwd=tmp_path)
    assert_clean_failure(proc, 2)
    assert "missing.yaml" in proc.stderr
    assert proc.stdout == ""


def test_no_path_and_no_store_exits_2():
    assert_clean_failure(run_cli("validate"), 2)


def test_bad_format_exits_2(tmp_path):
    write(tmp_path / "good.yaml", VALID)
    proc = run_cli("validate", "good.yaml", "--format", "xml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_unreadable_file_in_directory_exits_2_after_reporting_the_rest(tmp_path):
    write(tmp_path / "d" / "bad.yaml", INVALID)
    os.symlink(tmp_path / "gone.yaml", tmp_path / "d" / "dangling.yaml")
    proc = run_cli("validate", "d", cwd=tmp_path)
    assert_clean_failure(proc, 2)
    assert "dangling.yaml" in proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 file checked: 1 invalid, 2 errors, 0 warnings"


# -- stores -----------------------------------------------------------------------------
def _sqlite_store(path: Path, payloads: dict[str, str]) -> None:
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE profile_registries(slug TEXT PRIMARY KEY, payload_json TEXT NOT NULL,"
        " updated_at_ms INTEGER NOT NULL DEFAULT 0)"
    )
    db.executemany("INSERT INTO profile_registries(slug, payload_json) VALUES (?, ?)", payloads.items())
    db.commit()
    db.close()


def test_store_sqlite_reports_each_registry(tmp_path):
    good = {"slug": "default", "default_profile_slug": "agent", "profiles": {"agent": {"slug": "agent"}}}
    _sqlite_store(
        tmp_path / "reg.db",
        {
            "default": json.dumps(good),
            "team": json.dumps({"slug": "team"}),
            "broken": "{not json",
        },
    )
    proc = run_cli("validate", "--store", "reg.db", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    files = json.loads(proc.stdout)["files"]
    assert [(f["path"], f["valid"]) for f in files] == [
        ("reg.db[broken]", False),
        ("reg.db[default]", True),
        ("reg.db[team]", True),
    ]
    (corrupt,) = files[0]["diagnostics"]
    assert corrupt["code"] == "store-corrupt" and "broken" in corrupt["message"]


def test_store_from_environment(tmp_path):
    _sqlite_store(tmp_path / "reg.db", {"team": json.dumps({"slug": "team"})})
    proc = run_cli("validate", cwd=tmp_path, env={"PROFREG_STORE": "reg.db"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1 registry checked: 0 invalid, 0 errors, 0 warnings\n"  # registries, not files


def test_store_yaml_is_validated_as_its_file(tmp_path):
    write(tmp_path / "reg.yaml", INVALID)
    proc = run_cli("validate", "--store", "reg.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("reg.yaml:2:23: error[schema] ")


@pytest.mark.parametrize("spec", ["missing.db", "missing.yaml", "store.txt"])
def test_store_missing_or_unknown_exits_2(tmp_path, spec):
    proc = run_cli("validate", "--store", spec, cwd=tmp_path)
    assert_clean_failure(proc, 2)
    assert not (tmp_path / spec).exists()  # validating never creates a store


# -- hostile input end to end -----------------------------------------------------------
HOSTILE = {
    "deep-flow.yaml": b"slug: a\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep-block.yaml": b"slug: a\nx:\n" + b"".join(b"  " * (i + 1) + b"k:\n" for i in range(400)),
    "bomb.yaml": b"slug: a\na: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [".encode() + b",".join([f"*{chr(97 + i)}".encode()] * 10) + b"]\n"
        for i in range(8)
    ),
    "recursive.yaml": b"slug: a\nx: &r {a: *r, b: *r}\n",
    "nul.yaml": b"slug: a\x00\n",
    "cr-only.yaml": b"slug: a\rdefault_profile_slug: Bad\r",
    "separators.yaml": "slug: a\ndisplay_name: x\u2028y\x85z\ndefault_profile_slug: Bad\n".encode(),
    "two-docs.yaml": b"slug: a\n---\nslug: b\n",
    "bad-utf8.yaml": b"slug: \xc3\x28\n",
    "tags.yaml": b"slug: !!binary aGVsbG8=\n",
}


def test_hostile_files_give_diagnostics_not_tracebacks(tmp_path):
    for name, raw in HOSTILE.items():
        write(tmp_path / name, raw)
    proc = run_cli("validate", *sorted(HOSTILE), "--format", "json", cwd=tmp_path, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    files = {f["path"]: f for f in json.loads(proc.stdout)["files"]}
    assert set(files) == set(HOSTILE)
    # the expected code is among each file's diagnostics
    expected = {
        "bad-utf8.yaml": "yaml-syntax",
        "bomb.yaml": "yaml-limit",
        "cr-only.yaml": "schema",
        "deep-block.yaml": "yaml-limit",
        "deep-flow.yaml": "yaml-limit",
        "nul.yaml": "yaml-syntax",
        "recursive.yaml": "yaml-limit",
        "separators.yaml": "schema",
        "tags.yaml": "yaml-unsupported-tag",
        "two-docs.yaml": "yaml-multiple-documents",
    }
    for path, code in expected.items():
        assert code in [d["code"] for d in files[path]["diagnostics"]], (path, files[path])
    assert files["cr-only.yaml"]["diagnostics"][0]["line"] == 2
    assert files["separators.yaml"]["diagnostics"][0]["line"] == 3


def test_command_module_imports_nothing_heavy():
    """Start-up is benchmarked: loading the command must not load validators or parsers."""
    import subprocess
    import sys

    heavy = ("jsonschema", "jsonschema_rs", "yaml", "sqlite_utils", "ruamel", "pygls", "referencing")
    code = (
        "import sys, profreg.commands.validate, profreg.reporters\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_compose_file_named_explicitly_is_still_checked(tmp_path):
    write(tmp_path / "compose.yaml", "services:\n  web:\n    image: nginx\n")
    proc = run_cli("validate", "compose.yaml", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (checked,) = json.loads(proc.stdout)["files"]
    assert [d["code"] for d in checked["diagnostics"]] == ["legacy-format"]
