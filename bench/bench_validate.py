"""Benchmark: `profreg validate` against the tools a user would otherwise run.

Generates registries of 1,000 and 10,000 profiles (bench/generate.py, ~18 lines each)
into a temporary directory and times, side by side in one run, each as a separate
process on the same file:

- `profreg validate FILE`                    (both layers: schema + invariants, with ranges)
- `check-jsonschema --schemafile SCHEMA FILE` (schema layer only)
- `ajv validate --spec=draft2020 -s SCHEMA -d FILE`  (Node; ajv-cli reads the YAML itself)
- `python -c "yaml.load(open(FILE,'rb'), Loader=yaml.CSafeLoader)"`  (the parse floor)
- start-up: `profreg --version` against `python -c "import yaml"`.

Each time is the best of N wall-clock runs (`time.perf_counter` around the subprocess);
CPU time (user+sys of the child) is shown beside it because a busy machine inflates
wall time. check-jsonschema runs once at 10,000 profiles (it takes minutes).

Targets (SPEC section 10, the issue): profreg <= 0.1x check-jsonschema at 10,000 profiles,
<= 1x the parse floor, start-up <= 2x the bare `import yaml`.

Reproduce:  .venv/bin/python bench/bench_validate.py   (after scripts/test has set up
the venv and tests/node); options: --sizes 1000,10000 --repeat 5
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "profile-registry.schema.json"
AJV = ROOT / "tests" / "node" / "node_modules" / ".bin" / "ajv"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import document  # noqa: E402

PARSE_FLOOR = "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)"


@dataclass
class Timing:
    wall: float  # best wall-clock seconds
    cpu: float  # child user+sys seconds of that run
    ok: bool  # exit status as expected
    note: str = ""


def tool(name: str) -> str | None:
    """A console script next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def run_once(cmd: list[str]) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = (proc.stderr or proc.stdout).strip().splitlines()
    return wall, cpu, proc.returncode, output[-1] if output else ""


def best_of(cmd: list[str], repeat: int) -> Timing:
    runs = [run_once(cmd) for _ in range(repeat)]
    wall, cpu, code, last = min(runs, key=lambda r: r[0])
    return Timing(wall, cpu, code == 0, "" if code == 0 else f"exit {code}: {last[:80]}")


def ajv_command(path: Path) -> tuple[list[str], str]:
    """ajv-cli with its default options; --strict=false only if those reject the schema."""
    base = [str(AJV), "validate", "--spec=draft2020", "-s", str(SCHEMA), "-d", str(path)]
    probe = subprocess.run(base, capture_output=True, text=True)
    if probe.returncode == 0:
        return base, "default options, reads the YAML itself"
    return [*base, "--strict=false"], "--strict=false, reads the YAML itself"


def fmt(t: Timing | None) -> str:
    if t is None:
        return "n/a"
    mark = "" if t.ok else f" (FAILED: {t.note})"
    return f"{t.wall:.2f} s (cpu {t.cpu:.2f}){mark}"


def ratio(a: Timing | None, b: Timing | None) -> str:
    if a is None or b is None or b.wall == 0:
        return "n/a"
    return f"{a.wall / b.wall:.3f}x (cpu {a.cpu / b.cpu:.3f}x)" if b.cpu else f"{a.wall / b.wall:.3f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="profile counts (comma-separated)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    profreg = tool("profreg")
    checker = tool("check-jsonschema")
    if profreg is None:
        sys.exit("profreg is not installed in this interpreter's environment")
    results: dict[int, dict[str, Timing | None]] = {}
    ajv_mode = "not installed"
    with tempfile.TemporaryDirectory(prefix="profreg-bench-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"registry-{n}.yaml"
            path.write_text(document(n), encoding="utf-8")
            lines = path.read_text(encoding="utf-8").count("\n")
            repeat = args.repeat if n <= 1000 else max(1, args.repeat // 2 + 1)
            row: dict[str, Timing | None] = {"lines": lines}  # type: ignore[dict-item]
            print(f"# {n} profiles ({lines} lines, {path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
            row["profreg"] = best_of([profreg, "validate", str(path)], repeat)
            row["floor"] = best_of([sys.executable, "-c", PARSE_FLOOR, str(path)], repeat)
            if AJV.exists():
                cmd, ajv_mode = ajv_command(path)
                row["ajv"] = best_of(cmd, repeat)
            else:
                row["ajv"] = None
            if checker:
                row["check-jsonschema"] = best_of(
                    [checker, "--schemafile", str(SCHEMA), str(path)], 1 if n >= 10000 else min(repeat, 3)
                )
            else:
                row["check-jsonschema"] = None
            results[n] = row
    startup_repeat = max(args.repeat * 2, 5)
    startup = best_of([profreg, "--version"], startup_repeat)
    bare = best_of([sys.executable, "-c", "import yaml"], startup_repeat)

    print(f"## profreg validate benchmark ({platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})\n")
    header = "| tool | " + " | ".join(f"{n:,} profiles ({results[n]['lines']:,} lines)" for n in sizes) + " |"
    print(header)
    print("|" + " --- |" * (len(sizes) + 1))
    names = [
        ("profreg", "`profreg validate` (schema + invariants)"),
        ("check-jsonschema", "`check-jsonschema --schemafile`"),
        ("ajv", f"`ajv validate` (ajv-cli, {ajv_mode})"),
        ("floor", "`yaml.load(CSafeLoader)` (parse floor)"),
    ]
    for key, label in names:
        print(f"| {label} | " + " | ".join(fmt(results[n][key]) for n in sizes) + " |")
    print()
    print("| ratio | target | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("| --- | --- |" + " --- |" * len(sizes))
    print("| profreg / check-jsonschema | <= 0.1x at 10,000 | "
          + " | ".join(ratio(results[n]["profreg"], results[n]["check-jsonschema"]) for n in sizes) + " |")
    print("| profreg / parse floor | <= 1x | "
          + " | ".join(ratio(results[n]["profreg"], results[n]["floor"]) for n in sizes) + " |")
    print("| profreg / ajv | (info) | "
          + " | ".join(ratio(results[n]["profreg"], results[n]["ajv"]) for n in sizes) + " |")
    print()
    print("| start-up | time | ratio | target |")
    print("| --- | --- | --- | --- |")
    print(f"| `profreg --version` | {fmt(startup)} | {ratio(startup, bare)} | <= 2x |")
    print(f"| `python -c \"import yaml\"` | {fmt(bare)} | 1x | |")
    print()
    print(f"Best of {args.repeat} wall-clock runs at <= 1,000 profiles, {max(1, args.repeat // 2 + 1)} above; "
          "check-jsonschema once at >= 10,000. CPU = user+sys of the child process.")
    print(f"Reproduce: `{Path(sys.executable).name} bench/bench_validate.py --sizes {args.sizes} --repeat {args.repeat}`")


if __name__ == "__main__":
    main()
