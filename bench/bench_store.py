"""Store operations as the store grows: SQLite and PostgreSQL with 10, 1,000 and 100,000
registries.

    python bench/bench_store.py [--sizes 10,1000,100000] [--repeat 100] [--dir DIR] [--postgres URL]
    scripts/with-postgres .venv/bin/python bench/bench_store.py   # a private server for it

For each size it builds a database (Go row layout, `executemany` in one transaction; for
PostgreSQL one schema per size in the database of `--postgres URL`, default
$PROFREG_TEST_PG_URL, filled with COPY), then times each operation in OPERATIONS: open the
store, do the operation on one registry in the middle, close. It prints the median per size
and the ratio time(largest) / time(smallest) for each backend (target: <= 1.5, SPEC section
10: "opening a store of 100,000 registries and resolving one profile costs about the same as
with 10"). Without a PostgreSQL URL the PostgreSQL figures are left out, saying so.

It also times one profile update in YAML files of 100 and 1,000 profiles (`--yaml-sizes`):
a YAML write re-reads and rewrites the whole file, so it grows with the file; and
`profreg migrate` of a bundle YAML file of 2,000 registries into a new SQLite store
(`--migrate-registries`): the bulk import is one transaction (it used to be one per
registry, 13.5 s for 2,000), compared with registry-by-registry `import_registry`.

Other benchmarks can add operations: `OPERATIONS["resolve"] = lambda store, slug: ...`
then call `main()`; or import `build_database` and `measure`. Sizes are measured
interleaved (round-robin) so that load on the machine affects every size alike.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from profreg.stores import Store, open_store

PROFILE = {
    "display_name": "Agent",
    "runtime": {
        "system_prompt": "You are a helpful assistant. Be brief and precise.",
        "middlewares": [{"name": "logging", "config": {"level": "info"}}],
        "tools": ["calculator", "search"],
        "step_settings_patch": {"ai-chat": {"ai-engine": "gpt-4o-mini", "ai-temperature": 0.2}},
    },
    "policy": {"allow_overrides": True, "allowed_override_keys": ["system_prompt", "tools"]},
    "metadata": {"version": 1, "created_at_ms": 1700000000000, "updated_at_ms": 1700000000000},
}


def registry_payload(slug: str) -> str:
    return json.dumps({
        "slug": slug,
        "display_name": f"Registry {slug}",
        "default_profile_slug": "agent",
        "profiles": {"agent": {"slug": "agent", **PROFILE}, "reviewer": {"slug": "reviewer", **PROFILE}},
        "metadata": {"version": 1, "created_at_ms": 1700000000000, "updated_at_ms": 1700000000000},
    })


def registry_slug(index: int) -> str:
    return f"registry-{index:06d}"


def build_database(path: Path, count: int) -> None:
    """A SQLite store of `count` registries, written in one transaction."""
    path.unlink(missing_ok=True)
    template = registry_payload("@SLUG@")
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE profile_registries (slug TEXT PRIMARY KEY, payload_json TEXT NOT NULL, "
        "updated_at_ms INTEGER NOT NULL DEFAULT 0)"
    )
    with conn:
        conn.executemany(
            "INSERT INTO profile_registries (slug, payload_json, updated_at_ms) VALUES (?, ?, ?)",
            ((registry_slug(i), template.replace("@SLUG@", registry_slug(i)), 1700000000000) for i in range(count)),
        )
    conn.close()
    open_store(f"sqlite:{path}").close()  # apply the migrations once, outside the timings


def build_postgres(url: str, count: int) -> str:
    """A PostgreSQL store of `count` registries in schema `bench_COUNT` of `url`'s database
    (replaced if there); its spec."""
    import psycopg
    from psycopg import sql

    from profreg.stores.pgspec import split_spec

    schema = f"bench_{count}"
    spec = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    conninfo = split_spec(spec)[0]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    with open_store(spec) as store:
        store.import_registries([])  # creates the schema and tables (the migrations)
    template = registry_payload("@SLUG@")
    table = sql.Identifier(schema, "profile_registries")
    with psycopg.connect(conninfo) as conn:
        with conn.cursor() as cursor, cursor.copy(
            sql.SQL("COPY {} (slug, payload_json, updated_at_ms) FROM STDIN").format(table)
        ) as copy:
            for i in range(count):
                copy.write_row((registry_slug(i), template.replace("@SLUG@", registry_slug(i)), 1700000000000))
        conn.execute(sql.SQL("ANALYZE {}").format(table))
    return spec


def get_profile(store: Store, slug: str) -> object:
    """Resolution's store work: the registry, then one profile of it."""
    store.get_registry(slug)
    return store.get_profile(slug, "agent")


def upsert_profile(store: Store, slug: str) -> object:
    """A write: one immediate transaction on one row."""
    return store.upsert_profile(slug, {"slug": "agent", **PROFILE})


OPERATIONS: dict[str, Callable[[Store, str], object]] = {
    "open+get_profile": get_profile,
    "open+upsert_profile": upsert_profile,
}


def time_once(spec: str, count: int, operation: Callable[[Store, str], object]) -> float:
    """Seconds to open the store, run `operation` on a middle registry, and close."""
    slug = registry_slug(count // 2)
    start = time.perf_counter()
    with open_store(spec) as store:
        operation(store, slug)
    return time.perf_counter() - start


def measure(specs: dict[int, str], operation: Callable[[Store, str], object], repeat: int) -> dict[int, float]:
    """Median time per size; sizes are interleaved so machine load affects them alike.
    `specs`: store spec per size (a `Path` is a SQLite file)."""
    samples: dict[int, list[float]] = {count: [] for count in specs}
    for _ in range(repeat):
        for count, spec in specs.items():
            samples[count].append(time_once(f"sqlite:{spec}" if isinstance(spec, Path) else spec, count, operation))
    return {count: statistics.median(times) for count, times in samples.items()}


def report(backend: str, specs: dict[int, str], repeat: int) -> None:
    """The medians and the ratio of every operation on one backend's stores."""
    sizes = sorted(specs)
    for operation in OPERATIONS.values():  # warm-up: imports, validator, caches
        measure(specs, operation, 3)
    for name, operation in OPERATIONS.items():
        medians = measure(specs, operation, repeat)
        label = f"{backend} {name}"
        for count, seconds in medians.items():
            print(f"{label:<31} {count:>7} registries: {seconds * 1000:8.3f} ms (median of {repeat})")
        ratio = medians[max(sizes)] / medians[min(sizes)]
        verdict = "ok" if ratio <= 1.5 else "over target"
        print(f"{label:<31} time({max(sizes)})/time({min(sizes)}) = {ratio:.2f}  (target <= 1.5: {verdict})")


def yaml_write_times(directory: Path, sizes: list[int], repeat: int) -> dict[int, float]:
    """Median seconds of one profile update in a YAML file of N profiles (bench/generate.py
    layout), the store already open: the cost of keeping a hand-edited file's layout."""
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import document

    medians = {}
    for count in sizes:
        path = directory / f"profiles-{count}.yaml"
        path.write_text(document(count))
        with open_store(f"yaml:{path}") as store:
            target = f"agent-{count // 2:06d}"
            times = []
            for index in range(repeat):
                profile = store.get_profile("default", target)
                profile["display_name"] = f"Agent {index}"
                start = time.perf_counter()
                store.upsert_profile("default", profile)
                times.append(time.perf_counter() - start)
        medians[count] = statistics.median(times)
    return medians


def migrate_times(directory: Path, count: int) -> dict[str, float]:
    """Seconds to migrate a bundle YAML file of `count` registries into a new SQLite store
    (mostly reading and validating the YAML), and, for the same registries already in memory,
    to store them with one `import_registries` (one transaction) or one `import_registry`
    (one transaction, one fsync) each."""
    from profreg.migrate import migrate

    registries = [json.loads(registry_payload(registry_slug(i))) for i in range(count)]
    with open_store(f"sqlite:{directory / 'bundle-source.db'}") as source:
        source.import_registries(registries)
    bundle = directory / "bundle.yaml"
    migrate(f"sqlite:{directory / 'bundle-source.db'}", f"yaml:{bundle}", force=True)
    times = {}
    start = time.perf_counter()
    migrate(f"yaml:{bundle}", f"sqlite:{directory / 'migrated.db'}")
    times["migrate yaml->sqlite"] = time.perf_counter() - start
    with open_store(f"sqlite:{directory / 'bulk.db'}") as target:
        start = time.perf_counter()
        target.import_registries(registries)
        times["import_registries"] = time.perf_counter() - start
    with open_store(f"sqlite:{directory / 'one-by-one.db'}") as target:
        start = time.perf_counter()
        for registry in registries:
            target.import_registry(registry)
        times["import_registry x N"] = time.perf_counter() - start
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,100000")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--dir", default=None, help="where to build the databases (default: a temp dir)")
    parser.add_argument("--yaml-sizes", default="100,1000",
                        help="profiles per YAML file for the YAML write timing ('' to skip)")
    parser.add_argument("--migrate-registries", type=int, default=2000,
                        help="registries in the YAML file migrated to SQLite (0 to skip)")
    parser.add_argument("--postgres", default=os.environ.get("PROFREG_TEST_PG_URL", ""), metavar="URL",
                        help="a PostgreSQL database to build the PostgreSQL stores in (default: "
                             "$PROFREG_TEST_PG_URL, set by scripts/with-postgres; '' to skip)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        paths = {}
        for count in sizes:
            paths[count] = Path(tmp) / f"store-{count}.db"
            start = time.perf_counter()
            build_database(paths[count], count)
            size_mb = paths[count].stat().st_size / 1e6
            print(f"built {count:>7} registries in {time.perf_counter() - start:6.2f}s ({size_mb:.1f} MB)")
        report("sqlite", paths, args.repeat)
        if args.postgres:
            specs = {}
            for count in sizes:
                start = time.perf_counter()
                specs[count] = build_postgres(args.postgres, count)
                print(f"built {count:>7} registries in {time.perf_counter() - start:6.2f}s (PostgreSQL)")
            report("postgres", specs, args.repeat)
        else:
            print("postgres: left out (no --postgres URL; run under scripts/with-postgres)")
        yaml_sizes = [int(s) for s in args.yaml_sizes.split(",") if s]
        if yaml_sizes:
            for count, seconds in yaml_write_times(Path(tmp), yaml_sizes, 5).items():
                print(f"{'yaml upsert_profile':<20} {count:>7} profiles:   {seconds * 1000:8.1f} ms (median of 5)")
        if args.migrate_registries:
            for name, seconds in migrate_times(Path(tmp), args.migrate_registries).items():
                print(f"{name:<20} {args.migrate_registries:>7} registries: {seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
