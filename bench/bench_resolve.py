"""Whole-process time of `profreg resolve` against `python -c "import yaml"`.

SPEC section 10 measures command start-up against the bare interpreter; the target is
`profreg resolve` <= 3x `python -c "import yaml"` on a small registry. This script runs both
(and a few reference commands) many times, interleaved, hyperfine-style, and prints the
ratio of medians. It also shows where a resolve spends its time: the imports (from
`python -X importtime`) and, in-process, opening the store (which validates a YAML file),
resolving and printing.

Large stores (issue 11; default 10,000 and 38,000 profiles, about 5 and 20 MB): `profreg
resolve` with the validation cache cold and warm, and `profile update` with it warm and
off, against `profreg validate` of the same file (targets: resolve cold <= 1x validate at
10,000 and <= 1.5x at the largest, warm <= 0.3 s; update <= 2x validate at the largest),
with each one's peak resident memory.

Usage: python bench/bench_resolve.py [--runs N] [--profiles N] [--large-stores N,N | 0]
Not a test: nothing here fails on a slow machine; it prints numbers.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import document  # noqa: E402  (bench/generate.py)

TARGET_RATIO = 3.0


def profreg_command() -> list[str]:
    script = Path(sys.executable).with_name("profreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "profreg"]


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    # Installed packages have compiled bytecode; measure that, not source compilation.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PROFREG_STORE", None)
    return env


def time_runs(commands: dict[str, list[str]], runs: int, env: dict[str, str], cwd: str) -> dict[str, list[float]]:
    """Run every command `runs` times, interleaved (so load changes hit all alike)."""
    for argv in commands.values():  # warm-up: page cache, bytecode
        for _ in range(3):
            subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times[name].append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed ({done.returncode}): {done.stderr.decode()[:400]}")
    return times


def import_breakdown(argv: list[str], env: dict[str, str], cwd: str, top: int = 12) -> list[tuple[str, float]]:
    """Top-level imports of one run by cumulative time (ms), from -X importtime."""
    if argv[0] != sys.executable:
        argv = [sys.executable, "-m", "profreg", *argv[1:]]
    else:
        argv = argv[:]
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=cwd,
                          capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("  ") or not cumulative.strip().isdigit():
            continue  # nested import: counted in its parent
        rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def in_process_phases(store: str, profile: str, repeat: int = 5) -> dict[str, float]:
    """ms per phase when the modules are already imported: open (parse + validate), resolve, JSON."""
    import json

    from profreg.service import Service
    from profreg.stores import open_store

    phases = {"open store (read + validate)": [], "resolve (incl. fingerprint)": [], "json output": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        opened = open_store(store, must_exist=True)
        t1 = time.perf_counter()
        result = Service(opened).resolve(profile=profile).to_json()
        t2 = time.perf_counter()
        json.dumps(result, indent=2, ensure_ascii=False)
        t3 = time.perf_counter()
        opened.close()
        for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2)):
            phases[name].append(value)
    return {name: statistics.median(values) * 1000 for name, values in phases.items()}


def run_measured(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one whole process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode})")
    return wall, usage.ru_maxrss / 1024  # kilobytes on Linux


def large_store_figures(sizes: list[int], runs: int, env: dict[str, str], work: str) -> None:
    """validate / resolve cold / resolve warm / profile update on large YAML stores (median s):
    `update` with the validation cache warm (after the resolves), `update off` with it off
    (the open validates the whole file first); peak resident memory of validate and update."""
    profreg = profreg_command()
    print("\nlarge YAML stores (median of", runs, "runs, whole process, s; peak resident MB):")
    print(f"  {'profiles':>9} {'MB':>6} {'validate':>9} {'resolve cold':>13} {'warm':>7} {'update':>8}"
          f" {'update off':>11} {'cold/validate':>14} {'update/validate':>16} {'off/validate':>13}"
          f" {'validate MB':>12} {'update MB':>10} {'off MB':>7}")
    for size in sizes:
        path = Path(work, f"store-{size}.yaml")
        path.write_text(document(size), encoding="utf-8")
        figures: dict[str, list[float]] = {"validate": [], "cold": [], "warm": [], "update": [], "off": []}
        peaks: dict[str, list[float]] = {name: [] for name in figures}
        for attempt in range(runs):
            cache = Path(work, f"cache-{size}-{attempt}")
            run_env = {**env, "PROFREG_CACHE_DIR": str(cache)}
            off_env = {**env, "PROFREG_CACHE_DIR": ""}
            steps = (
                ("validate", [*profreg, "validate", str(path)], off_env),
                ("cold", [*profreg, "resolve", "agent-000001", "--store", str(path), "--format", "json"], run_env),
                ("warm", [*profreg, "resolve", "agent-000001", "--store", str(path), "--format", "json"], run_env),
                ("update", [*profreg, "profile", "update", "default/agent-000002", "--system-prompt",
                            f"run {attempt}", "--store", str(path)], run_env),
                ("off", [*profreg, "profile", "update", "default/agent-000003", "--system-prompt",
                         f"run {attempt}", "--store", str(path)], off_env),
            )
            for name, argv, step_env in steps:
                wall, peak = run_measured(argv, step_env, work)
                figures[name].append(wall)
                peaks[name].append(peak)
            shutil.rmtree(cache, ignore_errors=True)
        med = {name: statistics.median(values) for name, values in figures.items()}
        top = {name: max(values) for name, values in peaks.items()}
        print(f"  {size:>9} {path.stat().st_size / 1e6:>6.1f} {med['validate']:>9.2f} {med['cold']:>13.2f}"
              f" {med['warm']:>7.2f} {med['update']:>8.2f} {med['off']:>11.2f} {med['cold'] / med['validate']:>14.2f}"
              f" {med['update'] / med['validate']:>16.2f} {med['off'] / med['validate']:>13.2f}"
              f" {top['validate']:>12.0f} {top['update']:>10.0f} {top['off']:>7.0f}")


def describe(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"median {statistics.median(ms):7.1f} ms   min {min(ms):7.1f}   "
            f"mean {statistics.fmean(ms):7.1f} ± {statistics.pstdev(ms):5.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profiles", type=int, default=10, help="profiles in the benchmark registry")
    parser.add_argument("--large", type=int, default=1000, help="profiles in the large registry (0: skip)")
    parser.add_argument("--large-stores", default="10000,38000",
                        help="profile counts of the large-store figures, comma-separated (0: skip)")
    parser.add_argument("--large-runs", type=int, default=1, help="runs of each large-store figure")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="profreg-bench-resolve-")
    try:
        small = Path(work, "small.yaml")
        small.write_text(document(args.profiles), encoding="utf-8")
        env = bench_env()
        profreg = profreg_command()
        subprocess.run([*profreg, "migrate", str(small), str(Path(work, "small.db"))], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        resolve = [*profreg, "resolve", "agent-000001", "--format", "json"]
        commands = {
            'python -c "import yaml"': [sys.executable, "-c", "import yaml"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "profreg --version": [*profreg, "--version"],
            f"profreg resolve (YAML, {args.profiles} profiles)": [*resolve, "--store", str(small)],
            f"profreg resolve (SQLite, {args.profiles} profiles)": [*resolve, "--store", str(Path(work, "small.db"))],
        }
        if args.large:
            large = Path(work, "large.yaml")
            large.write_text(document(args.large), encoding="utf-8")
            commands[f"profreg resolve (YAML, {args.large} profiles)"] = [*resolve, "--store", str(large)]

        print(f"{sys.version.split()[0]} on {os.cpu_count()} cores; {args.runs} runs each, interleaved\n")
        times = time_runs(commands, args.runs, env, work)
        width = max(map(len, commands))
        baseline = statistics.median(times['python -c "import yaml"'])
        for name, values in times.items():
            ratio = statistics.median(values) / baseline
            print(f"{name:<{width}}  {describe(values)}   {ratio:4.2f}x import yaml")

        key = f"profreg resolve (YAML, {args.profiles} profiles)"
        ratio = statistics.median(times[key]) / baseline
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        print(f"\nratio profreg resolve / import yaml: {ratio:.2f}x ({verdict} the <= {TARGET_RATIO:.0f}x target)")

        print("\nwhere a resolve's imports go (top-level, cumulative ms, one run):")
        for name, ms in import_breakdown(commands[key], env, work):
            print(f"  {ms:7.1f}  {name}")
        print("\nin-process phases, modules already imported (median ms):")
        for label, store in (("YAML small", small), ("SQLite small", Path(work, "small.db"))) + (
            (("YAML large", Path(work, "large.yaml")),) if args.large else ()
        ):
            phases = in_process_phases(str(store), "agent-000001")
            print(f"  {label:<13}" + "   ".join(f"{name}: {ms:6.2f}" for name, ms in phases.items()))
        sizes = [int(n) for n in args.large_stores.split(",") if int(n) > 0]
        if sizes:
            large_store_figures(sizes, args.large_runs, env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
