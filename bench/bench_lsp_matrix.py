"""The language server on every registry shape a person edits (issue 12): a matrix benchmark.

Cells: forms (single, bundle of three registries) x states (valid and one cell per problem
family, see bench/shapes.py) x styles (block; anchors, aliases, merge keys and flow values)
x sizes (100, 1,000, 10,000 profiles). One server process per cell, over stdio, with the
default typing debounce. Measured per cell:

- open: didOpen until the first publishDiagnostics;
- edit->diagnostics in a profile: a profile's `display_name` value changed back and forth;
- edit->diagnostics in the registry's own fields: the last character of
  `default_profile_slug` deleted and typed again, or, where the registry has no
  `default_profile_slug`, the whole `default_profile_slug: agent-000000` line typed and
  deleted again one key at a time (half-typed lines included);
- completion on a blank line inside a profile's `policy:` and hover on `system_prompt`;
- peak resident memory (VmHWM) of the server process.

Usage: python bench/bench_lsp_matrix.py [--sizes 100,1000,10000] [--samples 20]
       [--forms single,bundle] [--states valid,...] [--styles block,shared] [--json out.json]
Prints one row per cell, then per size the worst cell of each figure, the valid document's
figures and the ratio of the worst edit p95 to the valid one's, against the issue's targets.
"""
from __future__ import annotations

import argparse
import itertools
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lsp import ROOT, StdioLspClient, ms, print_table  # noqa: E402
from shapes import FORMS, STATES, STYLES, Shape, registry  # noqa: E402

# The targets: edit->diagnostics p95 per size (ms), open at 10,000 (ms),
# completion/hover p95 at 10,000 (ms), peak memory per size (MB), worst/valid edit ratio.
EDIT_P95_MS = {1000: 60.0, 10000: 300.0}
OPEN_MS = {10000: 1500.0}
REQUEST_P95_MS = {10000: 20.0}
PEAK_MB = {100: 50.0, 10000: 250.0}
MAX_RATIO_TO_VALID = 2.0


def _change(client: StdioLspClient, uri: str, version: int, edit: tuple[int, int, int, int, str]) -> float:
    """Apply one edit; seconds until the diagnostics of that version arrive."""
    l0, c0, l1, c1, text = edit
    before = client.diagnostics_count(uri)
    t0 = time.perf_counter()
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}},
                            "text": text}]})
    at, _ = client.wait_diagnostics(uri, before, version=version)
    return at - t0


def _timed_request(client: StdioLspClient, method: str, params: dict, out: dict) -> tuple[float, Any]:
    t0 = time.perf_counter()
    try:
        result = client.request(method, params)
    except RuntimeError as exc:  # an error answer is a result too
        out.setdefault("errors", []).append(str(exc)[:200])
        result = None
    return time.perf_counter() - t0, result


def run_cell(command: list[str], n: int, form: str, state: str, style: str, samples: int, workdir: Path,
             pause: float = 0.12) -> dict:
    shape: Shape = registry(n, form, state, style)
    path = workdir / f"{form}-{state}-{style}-{n}.yaml"
    path.write_text(shape.text, encoding="utf-8")
    uri = path.as_uri()
    out: dict[str, Any] = {"profiles": n, "form": form, "state": state, "style": style}
    client = StdioLspClient(command, cwd=str(ROOT))
    try:
        client.initialize(workdir.as_uri())
        t0 = time.perf_counter()
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": shape.text}})
        at, diagnostics = client.wait_diagnostics(uri, 0, version=1)
        out["open_s"] = at - t0
        out["diagnostics"] = len(diagnostics)
        version = 1
        line, col, value = shape.profile_edit_line, shape.profile_edit_col, shape.profile_edit_value
        out["profile_edit_s"] = []
        for i in range(samples):
            old, new = (value, value + "x") if i % 2 == 0 else (value + "x", value)
            version += 1
            time.sleep(pause)
            out["profile_edit_s"].append(_change(client, uri, version, (line, col, line, col + len(old), new)))
        if samples % 2:  # leave the profile as it was
            version += 1
            _change(client, uri, version, (line, col, line, col + len(value) + 1, value))
        out["registry_edit_s"] = []
        edits = shape.registry_edits
        for i in range(samples):
            version += 1
            time.sleep(pause)
            out["registry_edit_s"].append(_change(client, uri, version, edits[i % len(edits)]))
        done = samples % len(edits)
        if done:  # finish the cycle so the completion and hover lines are where they were
            for edit in edits[done:]:
                version += 1
                _change(client, uri, version, edit)
        version += 1
        blank = " " * shape.completion_col + "\n"
        _change(client, uri, version, (shape.completion_line, 0, shape.completion_line, 0, blank))
        out["completion_s"], items = [], []
        for _ in range(samples):
            time.sleep(pause / 3)
            took, result = _timed_request(client, "textDocument/completion", {
                "textDocument": {"uri": uri},
                "position": {"line": shape.completion_line, "character": shape.completion_col}}, out)
            out["completion_s"].append(took)
            items.append(len(result.get("items", []) if isinstance(result, dict) else (result or [])))
        out["completion_items"] = min(items)
        hover_line = shape.hover_line + (1 if shape.hover_line >= shape.completion_line else 0)
        out["hover_s"], answered = [], 0
        for _ in range(samples):
            time.sleep(pause / 3)
            took, result = _timed_request(client, "textDocument/hover", {
                "textDocument": {"uri": uri}, "position": {"line": hover_line, "character": shape.hover_col}}, out)
            out["hover_s"].append(took)
            answered += bool(result)
        out["hover_answered"] = answered
        out["peak_kb"] = client.peak_memory_kb()
    finally:
        client.close()
    return out


def summarize(r: dict) -> dict:
    return {
        "profiles": r["profiles"], "cell": f"{r['form']}/{r['state']}/{r['style']}", "state": r["state"],
        "diagnostics": r["diagnostics"], "open_ms": r["open_s"] * 1000,
        "profile_p50": ms(r, "profile_edit_s", 0.5), "profile_p95": ms(r, "profile_edit_s", 0.95),
        "registry_p50": ms(r, "registry_edit_s", 0.5), "registry_p95": ms(r, "registry_edit_s", 0.95),
        "completion_p95": ms(r, "completion_s", 0.95), "completion_items": r["completion_items"],
        "hover_p95": ms(r, "hover_s", 0.95), "hover_answered": f"{r['hover_answered']}/{len(r['hover_s'])}",
        "peak_mb": r["peak_kb"] / 1024, "errors": sorted(set(r.get("errors", []))),
    }


HEADER = ("profiles", "cell", "diags", "open ms", "profile edit p50", "p95", "registry edit p50", "p95",
          "completion p95", "items", "hover p95", "hovers", "peak MB")


def row(s: dict) -> str:
    return (f"| {s['profiles']} | {s['cell']} | {s['diagnostics']} | {s['open_ms']:.0f} | {s['profile_p50']:.1f} | "
            f"{s['profile_p95']:.1f} | {s['registry_p50']:.1f} | {s['registry_p95']:.1f} | "
            f"{s['completion_p95']:.1f} | {s['completion_items']} | {s['hover_p95']:.1f} | {s['hover_answered']} | "
            f"{s['peak_mb']:.0f} |")


def worst_lines(rows: list[dict], n: int) -> list[str]:
    cells = [s for s in rows if s["profiles"] == n]
    if not cells:
        return []

    def worst(key: str) -> dict:
        return max(cells, key=lambda s: s[key])

    def edit_p95(s: dict) -> float:
        return max(s["profile_p95"], s["registry_p95"])

    out = [f"{n} profiles ({len(cells)} cells):"]
    w = max(cells, key=edit_p95)
    target = EDIT_P95_MS.get(n)
    verdict = "" if target is None else f" (target <= {target:.0f}: {'holds' if edit_p95(w) <= target else 'MISSED'})"
    out.append(f"  worst edit->diagnostics p95 {edit_p95(w):.1f} ms in {w['cell']}{verdict}")
    valid = [s for s in cells if s["state"] == "valid"]
    if valid:
        base = max(edit_p95(s) for s in valid)
        ratio = edit_p95(w) / base if base else float("nan")
        out.append(f"  valid documents' edit p95 {base:.1f} ms; worst / valid {ratio:.2f} "
                   f"(target <= {MAX_RATIO_TO_VALID:.0f}: {'holds' if ratio <= MAX_RATIO_TO_VALID else 'MISSED'})")
    for key, label, targets in (("open_ms", "open", OPEN_MS), ("completion_p95", "completion p95", REQUEST_P95_MS),
                                ("hover_p95", "hover p95", REQUEST_P95_MS), ("peak_mb", "peak memory", PEAK_MB)):
        w = worst(key)
        unit = "MB" if key == "peak_mb" else "ms"
        target = targets.get(n)
        verdict = "" if target is None else (
            f" (target <= {target:.0f}: {'holds' if w[key] <= target else 'MISSED'})")
        out.append(f"  worst {label} {w[key]:.1f} {unit} in {w['cell']}{verdict}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--states", default=",".join(STATES))
    parser.add_argument("--styles", default=",".join(STYLES))
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--server", default=f"{sys.executable} -m profreg_lsp",
                        help="the server command line (default: this Python's `-m profreg_lsp`)")
    args = parser.parse_args()
    command = shlex.split(args.server)
    sizes = [int(s) for s in args.sizes.split(",")]
    raw, rows = [], []
    print("| " + " | ".join(HEADER) + " |", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-lsp-matrix-") as tmp:
        cells = itertools.product(sizes, args.forms.split(","), args.states.split(","), args.styles.split(","))
        for n, form, state, style in cells:
            raw.append(run_cell(command, n, form, state, style, args.samples, Path(tmp)))
            rows.append(summarize(raw[-1]))
            print(row(rows[-1]), file=sys.stderr, flush=True)  # progress, in case a later cell fails
            if args.json:
                args.json.write_text(json.dumps(raw, indent=1))
    print_table(HEADER, [row(s) for s in rows])
    errors = [f"{s['profiles']} {s['cell']} answered with an error: {e}" for s in rows for e in s["errors"]]
    if errors:
        print("\n".join(errors))
    for n in sizes:
        print("\n".join(worst_lines(rows, n)))


if __name__ == "__main__":
    main()
