"""The invariant layer: what a schema cannot say (SPEC section 3), as pure functions.

Each takes loaded data, the pointer it sits at and `rejected` (whether the schema layer
already rejected the value at a pointer, which is then not judged again) and returns the
problems found.
"""
from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Any, Callable, Iterable

from ..model import OVERRIDE_LIST_FIELDS
from ..pointer import pointer_join
from ..secrets import is_secret_key, under_secret_key
from .report import Problem

Rejected = Callable[[str], bool]


def blank(value: Any) -> bool:
    """An empty or whitespace-only string (names, tools and override keys must not be)."""
    return isinstance(value, str) and not value.strip()


def registry_invariants(reg: dict, prefix: str, bundle_key: str | None, rejected: Rejected) -> list[Problem]:
    """Slugs equal their keys; the default profile is set and names a profile."""
    found: list[Problem] = []
    if bundle_key is not None and "slug" in reg:
        slug_ptr = pointer_join(prefix, "slug")
        if isinstance(reg["slug"], str) and reg["slug"] != bundle_key and not rejected(slug_ptr):
            found.append(
                Problem(
                    "registry-slug-mismatch",
                    f"registry slug {reg['slug']!r} differs from its key {bundle_key!r} under registries",
                    slug_ptr,
                    field="registry.slug",
                )
            )
    profiles = reg.get("profiles")
    if profiles is None:
        profiles = {}
    if not isinstance(profiles, dict):
        return found
    # profile-level invariants need the key, which a cached per-profile pass lacks
    base = pointer_join(prefix, "profiles")
    secret_base = None  # whether `base` passes a secret-looking key: asked at the first mismatch
    for slug, profile in profiles.items():
        if isinstance(profile, dict) and "slug" in profile:
            value = profile["slug"]
            if not isinstance(value, str) or value == slug:
                continue  # the pointer is built only for a mismatch: this runs for every profile
            ptr = pointer_join(pointer_join(base, slug), "slug")
            if not rejected(ptr):
                if secret_base is None:
                    secret_base = under_secret_key(base)
                # `ptr` passes a secret-looking key where `base` or the slug is one (`slug` is none)
                quoted = _SECRET_VALUE if secret_base or is_secret_key(slug) else repr(value)
                found.append(
                    Problem(
                        "profile-slug-mismatch",
                        f"profile slug {quoted} differs from its key {slug!r} under profiles",
                        ptr,
                    )
                )
    dps_ptr = pointer_join(prefix, "default_profile_slug")
    if rejected(dps_ptr):
        return found
    dps = reg.get("default_profile_slug")
    if dps is None or dps == "":
        if profiles:
            present = "default_profile_slug" in reg
            found.append(
                Problem(
                    "default-profile-required",
                    "default_profile_slug must name one of the registry's profiles"
                    + (f" (for example {next(iter(profiles))!r})" if profiles else ""),
                    dps_ptr if present else prefix,
                    target="key" if present else "object",
                    field="registry.default_profile_slug",
                    severity="error",
                )
            )
    elif isinstance(dps, str) and dps not in profiles:
        close = _closest(dps, tuple(profiles))
        hint = f"; did you mean {close[0]!r}?" if close else (
            "; the registry has no profiles" if not profiles else ""
        )
        found.append(
            Problem(
                "default-profile-unknown",
                f"default_profile_slug {dps!r} names no profile of this registry{hint}",
                dps_ptr,
            )
        )
    return found


@lru_cache(maxsize=16)
def _closest(word: str, candidates: tuple[str, ...]) -> list[str]:
    """The profile key closest to a default that names none (the same question comes back
    on every edit of a document while its default is wrong)."""
    return closest_match(word, candidates)


def closest_match(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> list[str]:
    """`difflib.get_close_matches(word, candidates, n=1, cutoff)`, with the same answer.

    `ratio()` is the costly score; `quick_ratio()` and `real_quick_ratio()` (lengths only)
    bound it from above. Candidates are taken in falling order of (length bound, candidate),
    and the search stops at the first whose bound cannot beat the best (score, candidate)
    found, which is what `n=1` returns.
    """
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    n = len(word)
    by_bound = sorted(((2.0 * min(len(x), n) / (len(x) + n) if x or n else 1.0, x) for x in candidates),
                      reverse=True)
    best: tuple[float, str] | None = None
    for bound, x in by_bound:
        if bound < cutoff or (best is not None and (bound, x) < best):
            break
        matcher.set_seq1(x)
        bound = matcher.quick_ratio()
        if bound < cutoff or (best is not None and (bound, x) < best):
            continue
        score = matcher.ratio()
        if score >= cutoff and (best is None or (score, x) > best):
            best = (score, x)
    return [] if best is None else [best[1]]


_SECRET_VALUE = "a value under a secret-looking key"


def _quoted(value: str, pointer: str) -> str:
    """`value` quoted, unless it stands under a secret-looking key (SPEC section 6)."""
    return _SECRET_VALUE if under_secret_key(pointer) else repr(value)


def profile_invariants(profile: dict, prefix: str, rejected: Rejected) -> list[Problem]:
    """Names, tools and override keys are not blank; no key is both allowed and denied."""
    # Pointers are built only for a hit: this runs for every profile of a large file.
    # The tokens below are constants with no `~` or `/`, so plain f-strings escape right.
    found: list[Problem] = []

    def empty_name(pointer: str, what: str) -> None:
        if not rejected(pointer):
            found.append(Problem("empty-name", f"{what} must not be empty or whitespace", pointer))

    runtime = profile.get("runtime")
    if isinstance(runtime, dict):
        middlewares = runtime.get("middlewares")
        if isinstance(middlewares, list):
            for i, mw in enumerate(middlewares):
                if isinstance(mw, dict) and blank(mw.get("name")):
                    empty_name(f"{prefix}/runtime/middlewares/{i}/name", "middleware name")
        tools = runtime.get("tools")
        if isinstance(tools, list):
            for i, tool in enumerate(tools):
                if blank(tool):
                    empty_name(f"{prefix}/runtime/tools/{i}", "tool name")
    policy = profile.get("policy")
    if isinstance(policy, dict):
        pp = f"{prefix}/policy"
        lists = {}
        for name in OVERRIDE_LIST_FIELDS:
            items = policy.get(name)
            if isinstance(items, list):
                lp = f"{pp}/{name}"
                for i, item in enumerate(items):
                    if blank(item):
                        empty_name(f"{lp}/{i}", "override key")
                if not rejected(lp):
                    lists[name] = items
        allowed = lists.get("allowed_override_keys")
        denied = lists.get("denied_override_keys")
        if allowed and denied:
            allowed_set = {a.strip() for a in allowed if isinstance(a, str) and a.strip()}
            reported = set()
            for i, key in enumerate(denied):
                k = key.strip() if isinstance(key, str) else None
                if k and k in allowed_set and k not in reported:
                    reported.add(k)
                    found.append(
                        Problem(
                            "override-key-conflict",
                            f"override key {_quoted(k, prefix)} is both allowed and denied",
                            f"{pp}/denied_override_keys/{i}",
                            field="policy.override_keys",
                            profile_pointer=prefix,
                        )
                    )
    return found


def lone_profile_slug(profile: dict, slug: str | None, rejected: Rejected) -> list[Problem]:
    """A lone profile's `slug` equals the one it is stored under."""
    value = profile.get("slug")
    if slug is not None and isinstance(value, str) and value != slug and not rejected("/slug"):
        return [Problem("profile-slug-mismatch", f"profile slug {value!r} differs from {slug!r}", "/slug")]
    return []
