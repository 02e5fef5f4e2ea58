"""The Python API's figures (issue 11): `Client.resolve` latency on an unchanged store, and the
time to open a client on a large YAML store, against `profreg validate` of the same file.

Usage: python bench/bench_client.py [--calls N] [--profiles 10,10000] [--pg URL]
       scripts/with-postgres .venv/bin/python bench/bench_client.py   (PostgreSQL included:
       --pg defaults to the private server's $PROFREG_TEST_PG_URL)
Not a test: nothing here fails on a slow machine; it prints numbers and the targets.

- resolve p50/p95 (µs) without overrides (target ≤ 20 µs) and with overrides and base
  settings (target ≤ 100 µs), at each registry size, on YAML, SQLite (and PostgreSQL with
  --pg, a database the benchmark may fill).
- open: `connect()` + the first resolve, in a fresh process (imports not counted), cold
  (empty cache folder) and with the file's exact bytes seen before; next to the whole
  `profreg validate FILE` run. Targets: cold ≤ validate, seen before ≤ 0.2 s.
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

PROFILE = "agent-000001"
OVERRIDES = {"system_prompt": "Answer in French.", "tools": ["search"]}
BASE_SETTINGS = {"ai-chat": {"ai-max-tokens": 512, "ai-stream": True}, "http": {"timeout-s": 30}}

OPEN_SCRIPT = """
import sys, time
import profreg
start = time.perf_counter()
with profreg.connect(sys.argv[1]) as client:
    client.resolve(sys.argv[2])
    print(time.perf_counter() - start)
"""


def profreg_command() -> list[str]:
    script = Path(sys.executable).with_name("profreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "profreg"]


def latencies(call, calls: int) -> tuple[float, float]:
    """(p50, p95) in µs of `calls` calls, after a warm-up."""
    for _ in range(200):
        call()
    times = []
    clock = time.perf_counter
    for _ in range(calls):
        start = clock()
        call()
        times.append(clock() - start)
    times.sort()
    return times[len(times) // 2] * 1e6, times[int(len(times) * 0.95)] * 1e6


def bench_resolve(spec: str, calls: int) -> tuple[tuple[float, float], tuple[float, float]]:
    import profreg

    with profreg.connect(spec) as client:
        client.resolve(PROFILE)
        plain = latencies(lambda: client.resolve(PROFILE), calls)
        full = latencies(lambda: client.resolve(PROFILE, overrides=OVERRIDES, base_settings=BASE_SETTINGS), calls)
    return plain, full


def timed_process(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_open(path: Path, work: Path, repeat: int) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    opened: dict[str, list[float]] = {"validate (whole process)": [], "open, cold": [], "open, bytes seen before": []}
    for attempt in range(repeat):
        cache = work / f"cache-{attempt}"
        env["PROFREG_CACHE_DIR"] = str(cache)
        opened["validate (whole process)"].append(timed_process([*profreg_command(), "validate", str(path)],
                                                                {**env, "PROFREG_CACHE_DIR": ""}))
        for label in ("open, cold", "open, bytes seen before"):
            done = subprocess.run([sys.executable, "-c", OPEN_SCRIPT, str(path), PROFILE], env=env, check=True,
                                  capture_output=True, text=True)
            opened[label].append(float(done.stdout))
        shutil.rmtree(cache, ignore_errors=True)
    return {label: statistics.median(values) for label, values in opened.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--profiles", default="10,10000")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each open measurement")
    parser.add_argument("--pg", metavar="URL", default=os.environ.get("PROFREG_TEST_PG_URL"),
                        help="also a PostgreSQL store (its content is replaced); default $PROFREG_TEST_PG_URL")
    args = parser.parse_args()
    sizes = [int(n) for n in args.profiles.split(",")]

    work = Path(tempfile.mkdtemp(prefix="profreg-bench-client-"))
    os.environ["PROFREG_CACHE_DIR"] = str(work / "cache")
    try:
        from profreg.stores import open_store

        print(f"{sys.version.split()[0]} on {os.cpu_count()} cores; {args.calls} calls per figure\n")
        print(f"{'store':<22}{'plain p50':>11}{'p95':>9}{'overrides+base p50':>21}{'p95':>9}   (µs)")
        for size in sizes:
            yaml_path = work / f"store-{size}.yaml"
            yaml_path.write_text(document(size), encoding="utf-8")
            specs = {"YAML": str(yaml_path), "SQLite": str(work / f"store-{size}.db")}
            with open_store(str(yaml_path)) as source, open_store(specs["SQLite"]) as target:
                target.import_registries(source.list_registries(), replace=True)
            if args.pg:
                with open_store(str(yaml_path)) as source, open_store(args.pg) as target:
                    target.import_registries(source.list_registries(), replace=True)
                specs["PostgreSQL"] = args.pg
            for kind, spec in specs.items():
                (p50, p95), (full50, full95) = bench_resolve(spec, args.calls)
                print(f"{kind + f', {size} profiles':<22}{p50:>11.1f}{p95:>9.1f}{full50:>21.1f}{full95:>9.1f}")
        print("\ntargets: plain p50 <= 20 µs, overrides+base p50 <= 100 µs")

        largest = work / f"store-{max(sizes)}.yaml"
        print(f"\nopening a client on {max(sizes)} profiles (median of {args.repeat}, s):")
        opened = bench_open(largest, work, args.repeat)
        for label, seconds in opened.items():
            print(f"  {label:<26}{seconds:8.3f}")
        validate = opened["validate (whole process)"]
        print(f"  cold / validate = {opened['open, cold'] / validate:.2f} (target <= 1); "
              f"seen before = {opened['open, bytes seen before']:.3f} s (target <= 0.2 s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
