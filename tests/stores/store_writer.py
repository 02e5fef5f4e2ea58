"""A writer process for the reliability tests: `python store_writer.py SPEC PROFILE COUNT [mixed]`.

Opens the store, prints "ready", then upserts PROFILE COUNT times (COUNT 0: until killed).
Each write sets the profile's system prompt to the version it will have, so a reader can
check that what it finds is a committed state: prompt == str(profile version).
With `mixed`, the COUNT writes cycle through every kind of registry mutation on profiles
named PROFILE-N (create, update, set-default to `base`, delete): each adds exactly 1 to the
registry version.
"""
from __future__ import annotations

import sys

from profreg.errors import NotFoundError
from profreg.stores import WriteOptions, open_store


def write_once(store, profile: str) -> None:
    """Upsert `profile` with its system prompt set to the version it is going to have."""
    try:
        current = store.get_profile("default", profile)["metadata"]["version"]
    except NotFoundError:
        current = 0
    store.upsert_profile(
        "default",
        {"slug": profile, "runtime": {"system_prompt": str(current + 1)}},
        WriteOptions(actor=f"writer-{profile}", source="test"),
    )


def mixed_write(store, profile: str, step: int) -> None:
    """Write number `step` of the mixed cycle (every one a registry mutation)."""
    name = f"{profile}-{step // 4}"
    options = WriteOptions(actor=f"writer-{profile}", source="test")
    kind = step % 4
    if kind == 0:
        store.upsert_profile("default", {"slug": name, "runtime": {"tools": ["a"]}}, options)
    elif kind == 1:
        store.upsert_profile("default", {"slug": name, "runtime": {"system_prompt": "updated"}}, options)
    elif kind == 2:
        store.set_default_profile("default", "base", options)
    else:
        store.delete_profile("default", name, options)


def main(spec: str, profile: str, count: int, mode: str = "same") -> None:
    store = open_store(spec)
    # Warm up the lazy imports (validators, ruamel) so the kill window covers real writes.
    from profreg.stores.yamlfile import roundtrip as yamledit, splice as yamlsplice  # noqa: F401
    from profreg.engine import validate_registry

    validate_registry({"slug": "warm-up", "profiles": {"a": {}}, "default_profile_slug": "a"})
    print("ready", flush=True)
    done = 0
    while count == 0 or done < count:
        if mode == "mixed":
            mixed_write(store, profile, done)
        else:
            write_once(store, profile)
        done += 1
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:5])
