"""The Python API's figures (issue 11): `Client.resolve` latency on an unchanged store, and the
time to open a client on a large YAML store, against `profreg validate` of the same file, on
every shape a store holds (bench/shapes.py), reporting the worst cell of each figure.

Usage: python bench/bench_client.py [--calls N] [--profiles 10,10000] [--shapes FORM/STYLE,...]
           [--states STATE,...] [--pg URL]
       scripts/with-postgres .venv/bin/python bench/bench_client.py   (PostgreSQL included:
       --pg defaults to the private server's $PROFREG_TEST_PG_URL)
Not a test: nothing here fails on a slow machine; it prints numbers and the targets.

Shapes: single form (one registry) and bundle form (three registries, and on SQLite and
PostgreSQL three registries imported from it), each in block style and in shared style
(anchors, aliases and merge keys shared across profiles, flow-style values). The profile
resolved is the middle one, in the registry holding it.

- resolve p50/p95 (µs) without overrides (target ≤ 20 µs) and with overrides and base
  settings (target ≤ 100 µs), with N profiles in the registry resolved (a bundle holds
  3 × N), on YAML, SQLite (and PostgreSQL with --pg, a database the benchmark may fill).
- resolve while the YAML file on disk is broken (the client serves the last good registry):
  the first call after each break (it reads the file and fails) and then p50 (target ≤ 20 µs,
  the same as an unchanged store), for each --broken-while-open state.
- open: `connect()` + the first resolve, in a fresh process (imports not counted), on a
  file of --open-profiles profiles in each shape, cold (empty cache folder) and with the
  file's exact bytes seen before; next to the whole `profreg validate FILE` run. Targets:
  cold ≤ validate, seen before ≤ 0.2 s. On each broken --states file the time to the error,
  against `profreg validate` of the same broken file (target ≤ 1×).
"""
from __future__ import annotations

import argparse
import logging
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
from shapes import (  # noqa: E402
    BASE_SETTINGS, BROKEN_STATES, BUNDLE_REGISTRIES, FORMS, OVERRIDES, STYLES, parse_broken_states, parse_shapes,
    profile_key, registry, registry_holding,
)
from worst import Figure, print_worst  # noqa: E402


OPEN_SCRIPT = """
import sys, time
import profreg
start = time.perf_counter()
try:
    with profreg.connect(sys.argv[1], registry=sys.argv[3]) as client:
        client.resolve(sys.argv[2])
    outcome = "ok"
except profreg.errors.ProfregError as exc:
    outcome = type(exc).__name__
print(time.perf_counter() - start, outcome)
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


def resolve_figures(client, profile: str, calls: int) -> tuple[tuple[float, float], tuple[float, float]]:
    client.resolve(profile)
    plain = latencies(lambda: client.resolve(profile), calls)
    full = latencies(lambda: client.resolve(profile, overrides=OVERRIDES, base_settings=BASE_SETTINGS), calls)
    return plain, full


def shape_text(n: int, form: str, style: str, state: str = "valid") -> str:
    return registry(n, form, state, style).text


def target(n: int, form: str) -> tuple[str, str]:
    """(registry, profile) resolved in a document of `n` profiles: the middle profile."""
    return registry_holding(n // 2, n, form), profile_key(n // 2)


def broken_while_open(client, path: Path, n: int, form: str, style: str, states: list[str], profile: str,
                      calls: int) -> list[tuple[str, float, float]]:
    """(state, first call s, p50 µs) of resolves after the file is saved broken in each state."""
    served = client.resolve(profile)
    rows = []
    for state in states:
        path.write_text(shape_text(n, form, style, state), encoding="utf-8")
        start = time.perf_counter()
        first = client.resolve(profile)
        first_s = time.perf_counter() - start
        if client.last_error is None or first.to_json() != served.to_json():
            raise SystemExit(f"{form}/{style} broken ({state}): the client did not keep the last good registry")
        rows.append((state, first_s, latencies(lambda: client.resolve(profile), calls)[0]))
    return rows


def timed_process(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def open_once(path: Path, profile: str, registry_slug: str, env: dict[str, str]) -> tuple[float, str]:
    done = subprocess.run([sys.executable, "-c", OPEN_SCRIPT, str(path), profile, registry_slug], env=env,
                          check=True, capture_output=True, text=True)
    seconds, outcome = done.stdout.split()
    return float(seconds), outcome


def bench_open(path: Path, work: Path, repeat: int, profile: str, registry_slug: str,
               broken: bool) -> dict[str, float]:
    """Median seconds of validate (whole process) and of the opens; a broken file: time to the error."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    labels = ("open, error",) if broken else ("open, cold", "open, bytes seen before")
    opened: dict[str, list[float]] = {"validate": [], **{label: [] for label in labels}}
    for attempt in range(repeat):
        cache = work / f"cache-open-{attempt}"
        env["PROFREG_CACHE_DIR"] = str(cache)
        opened["validate"].append(timed_process([*profreg_command(), "validate", str(path)],
                                                {**env, "PROFREG_CACHE_DIR": ""}))
        for label in labels:
            seconds, outcome = open_once(path, profile, registry_slug, env)
            if (outcome == "ok") == broken:
                raise SystemExit(f"{path.name}: the open ended {outcome}")
            opened[label].append(seconds)
        shutil.rmtree(cache, ignore_errors=True)
    return {label: statistics.median(values) for label, values in opened.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--profiles", default="10,10000", help="profiles per registry resolved, comma-separated")
    parser.add_argument("--shapes", default=",".join(f"{f}/{s}" for f in FORMS for s in STYLES),
                        help="FORM/STYLE pairs, comma-separated (default: all four)")
    parser.add_argument("--states", default=",".join(BROKEN_STATES),
                        help="broken states whose open is timed to the error (default: all; '' none)")
    parser.add_argument("--broken-while-open", default="half-typed,schema-type",
                        help="states the YAML file is saved in under an open client ('' none)")
    parser.add_argument("--open-profiles", type=int, default=0,
                        help="profiles in the whole file of the open figures (default: the largest --profiles)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each open measurement of a valid file")
    parser.add_argument("--broken-repeat", type=int, default=1, help="runs of each open of a broken file")
    parser.add_argument("--pg", metavar="URL", default=os.environ.get("PROFREG_TEST_PG_URL"),
                        help="also a PostgreSQL store (its content is replaced); default $PROFREG_TEST_PG_URL")
    args = parser.parse_args()
    sizes = [int(n) for n in args.profiles.split(",")]
    shapes = parse_shapes(args.shapes)
    states = parse_broken_states(args.states, "--states")
    while_open = parse_broken_states(args.broken_while_open, "--broken-while-open")
    open_size = args.open_profiles or max(sizes)

    work = Path(tempfile.mkdtemp(prefix="profreg-bench-client-"))
    os.environ["PROFREG_CACHE_DIR"] = str(work / "cache")
    logging.getLogger("profreg").setLevel(logging.ERROR)  # the last-good warnings, checked instead
    plain_fig, full_fig = Figure("resolve p50, plain", " µs", 1), Figure("resolve p50, overrides+base", " µs", 1)
    broken_fig = Figure("resolve p50, file broken (last good served)", " µs", 1)
    cold_fig, seen_fig = Figure("open cold / validate"), Figure("open, bytes seen before", " s", 3)
    error_fig = Figure("open of a broken file, time to the error / validate")
    try:
        import profreg
        from profreg.stores import open_store

        print(f"{sys.version.split()[0]} on {os.cpu_count()} cores; {args.calls} calls per figure; "
              f"load average {os.getloadavg()[0]:.1f}\n")
        print(f"{'store':<34}{'plain p50':>11}{'p95':>9}{'overrides+base p50':>21}{'p95':>9}   (µs)")
        broken_rows = []
        for size in sizes:
            for form, style in shapes:
                n = size * (BUNDLE_REGISTRIES if form == "bundle" else 1)
                registry_slug, profile = target(n, form)
                yaml_path = work / f"store-{size}-{form}-{style}.yaml"
                yaml_path.write_text(shape_text(n, form, style), encoding="utf-8")
                specs = {"SQLite": str(work / f"store-{size}-{form}-{style}.db")}
                if args.pg:
                    specs["PostgreSQL"] = args.pg
                for spec in specs.values():
                    with open_store(str(yaml_path)) as source, open_store(spec) as copy:
                        copy.import_registries(source.list_registries(), replace=True)
                specs["YAML"] = str(yaml_path)
                for kind, spec in specs.items():
                    with profreg.connect(spec, registry=registry_slug) as client:
                        (p50, p95), (full50, full95) = resolve_figures(client, profile, args.calls)
                        if kind == "YAML" and while_open:
                            rows = broken_while_open(client, yaml_path, n, form, style, while_open, profile,
                                                     min(args.calls, 5000))
                            broken_rows += [(f"{form}/{style}, {size}, {state}", *row) for state, *row in rows]
                    cell = f"{kind} {form}/{style}, {size}"
                    plain_fig.add(cell, p50, 20)
                    full_fig.add(cell, full50, 100)
                    print(f"{cell:<34}{p50:>11.1f}{p95:>9.1f}{full50:>21.1f}{full95:>9.1f}")
                yaml_path.unlink()
        print("\ntargets: plain p50 <= 20 µs, overrides+base p50 <= 100 µs")

        if broken_rows:
            print("\nresolve while the YAML file is broken (last good registry served):")
            print(f"  {'shape, profiles, state':<44}{'first call s':>13}{'then p50 µs':>13}")
            for cell, first_s, p50 in broken_rows:
                broken_fig.add(cell, p50, 20)
                print(f"  {cell:<44}{first_s:>13.3f}{p50:>13.1f}")

        print(f"\nopening a client on {open_size} profiles (median of {args.repeat}; broken files: "
              f"{args.broken_repeat}; s):")
        print(f"  {'shape, state':<46}{'validate':>9}{'open cold':>11}{'seen before':>13}{'error':>8}"
              f"{'cold/validate':>15}{'error/validate':>16}")
        for form, style in shapes:
            registry_slug, profile = target(open_size, form)
            for state in ("valid", *states):
                path = work / f"open-{form}-{style}-{state}.yaml"
                path.write_text(shape_text(open_size, form, style, state), encoding="utf-8")
                broken = state != "valid"
                opened = bench_open(path, work, args.broken_repeat if broken else args.repeat, profile,
                                    registry_slug, broken)
                path.unlink()
                cell = f"{form}/{style}, {state}"
                validate = opened["validate"]
                if broken:
                    error_fig.add(cell, opened["open, error"] / validate, 1)
                    print(f"  {cell:<46}{validate:>9.3f}{'':>11}{'':>13}{opened['open, error']:>8.3f}{'':>15}"
                          f"{opened['open, error'] / validate:>16.2f}")
                else:
                    cold_fig.add(cell, opened["open, cold"] / validate, 1)
                    seen_fig.add(cell, opened["open, bytes seen before"], 0.2)
                    print(f"  {cell:<46}{validate:>9.3f}{opened['open, cold']:>11.3f}"
                          f"{opened['open, bytes seen before']:>13.3f}{'':>8}{opened['open, cold'] / validate:>15.2f}")
        print_worst(f"load average {os.getloadavg()[0]:.1f}",
                    [plain_fig, full_fig, broken_fig, cold_fig, seen_fig, error_fig])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
