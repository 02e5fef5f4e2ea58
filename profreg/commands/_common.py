"""What the store commands share: `--store`, REGISTRY/PROFILE addressing, write options,
output formats and shell completion of slugs from the store.

Imported by the store commands only (each loaded when it runs); `profreg --version` and
`profreg validate` do not load it.
"""
from __future__ import annotations

import contextlib
import difflib
import json
import os
import sys
from typing import Any, Callable, Iterator

import click
from click.shell_completion import CompletionItem

from . import root_store_spec
from ..errors import NotFoundError, UsageError, ValidationError
from ..slugs import canonical_slug, is_slug
from .. import engine
from ..engine import errors_only, first_error_line
from ..inputfiles import read_input
from ..limits import current_limits
from ..stores import open_store
from ..stores.contract import Store
from ..yamldump import dump_yaml

STORE_ENV = "PROFREG_STORE"
DEFAULT_REGISTRY = "default"
# Completion lists stay short and fast even on a store of 100,000 registries.
MAX_COMPLETIONS = 200
LOCK_TIMEOUT_META = "profreg.lock_timeout"


# ------------------------------------------------------------------------------ the store
def _items(values: list[str], kind: str = "plain") -> list[CompletionItem]:
    """Completion items."""
    return [CompletionItem(value, type=kind) for value in values]


def _complete_store_spec(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _items([incomplete], "file")


STORE_HELP = ("The store: PATH.yaml, PATH.yml, PATH.db, PATH.sqlite, PATH.sqlite3, postgresql://URL, yaml:PATH "
              f"or sqlite:PATH (may also stand before the command; else ${STORE_ENV}).")


def store_option(func: Callable) -> Callable:
    # No envvar here: `profreg --store X CMD` must win over PROFREG_STORE (see store_spec_of).
    return click.option(
        "--store", "store_spec", metavar="SPEC", shell_complete=_complete_store_spec, help=STORE_HELP,
    )(func)


def store_spec_of(given: str | None) -> str | None:
    """The store a command uses: its own --store, else the one before the command, else $PROFREG_STORE."""
    return given or root_store_spec() or os.environ.get(STORE_ENV) or None


def lock_timeout_option(func: Callable) -> Callable:
    """`--lock-timeout SECONDS` on writes; kept in the context so command signatures stay as they are."""

    def remember(ctx: click.Context, _param: click.Parameter, value: float | None) -> None:
        if value is not None:
            ctx.meta[LOCK_TIMEOUT_META] = value

    return click.option(
        "--lock-timeout", type=click.FloatRange(min=0), metavar="SECONDS", expose_value=False,
        callback=remember, help="How long to wait for another writer's lock before giving up (exit 6); default 30.",
    )(func)


def lock_wait_notice(name: str, timeout: float | None) -> Callable[[], None]:
    """What a write prints once it has waited about a second for another writer's lock."""

    def notice() -> None:
        limit = f"up to {timeout:g} s" if timeout is not None else "up to 30 s"
        click.echo(f"profreg: waiting for another writer to release the lock on {name} ({limit}; "
                   "Ctrl-C to stop, --lock-timeout to change)", err=True)

    return notice


@contextlib.contextmanager
def opened_store(store_spec: str | None, *, legacy_registry: str = DEFAULT_REGISTRY,
                 reads_only: bool = False) -> Iterator[Store]:
    """The store named by --store (before or after the command) / PROFREG_STORE, closed afterwards.

    A store that does not exist yet is an empty store: reads create nothing (`list` prints
    `[]`, a lookup is "not found" saying the store does not exist); the first write creates
    it and its missing parent folders (SPEC 4). `reads_only`: the command does not write, so
    a YAML store keeps no node tree of the file (`source_map=False`).
    Writes wait for other writers' locks up to --lock-timeout, with a notice after about a
    second. A "not found" says what the store holds instead.
    """
    store_spec = store_spec_of(store_spec)
    if not store_spec:
        raise UsageError(f"no store given: use --store SPEC or set {STORE_ENV}")
    store = open_store(store_spec, legacy_registry=legacy_registry, source_map=not reads_only)
    ctx = click.get_current_context(silent=True)
    timeout = ctx.meta.get(LOCK_TIMEOUT_META) if ctx is not None else None
    store.lock_timeout = timeout
    store.on_lock_wait = lock_wait_notice(store.name, timeout)  # the name: a URL without its password
    try:
        yield store
    except NotFoundError as exc:
        raise with_what_exists(store, exc) from None
    finally:
        store.close()


def with_what_exists(store: "Store", exc: Exception) -> Exception:
    """A NotFoundError whose message also names what does exist (close matches first)."""
    if not isinstance(exc, NotFoundError) or getattr(exc, "explained", False):
        return exc
    try:
        if exc.resource == "registry":
            names, where = store.registry_slugs(), "the store holds no registries"
        else:
            registry = exc.registry or DEFAULT_REGISTRY
            names = [p["slug"] for p in store.list_profiles(registry)]
            where = f"registry {registry!r} has no profiles"
    except Exception:  # the registry itself is missing, corrupt...: the plain message it is
        return exc
    return exc.explained_by(available_names(exc.slug.rpartition("/")[2], names) or where)


def available_names(wanted: str, names: list[str], limit: int = 20) -> str:
    """`available: a, b` — close matches to `wanted` first, at most `limit` names."""
    if not names:
        return ""
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    ordered = close + [n for n in names if n not in close]
    shown = ", ".join(ordered[:limit])
    more = f" (and {len(ordered) - limit} more)" if len(ordered) > limit else ""
    return f"available: {shown}{more}"


# ------------------------------------------------------------------------------ addressing
SLUG_RULE = "lower-case letters, digits, '.', '_' and '-', starting and ending with a letter or digit"


def checked_slug(slug: str, field: str, given: str) -> str:
    """`slug` (already trimmed and lower-cased) if valid; else a validation error on `field`.

    Checked before anything is looked up (SPEC 6): `resolve "bad slug"` is a bad argument
    (exit 1), not a profile that happens to be missing (exit 3).
    """
    if not is_slug(slug):
        raise ValidationError(f"{field}: {given!r} is not a valid slug ({SLUG_RULE})", field=field)
    return slug


def registry_slug_arg(text: str) -> str:
    return checked_slug(canonical_slug(text), "registry.slug", text)


def profile_slug_arg(text: str) -> str:
    return checked_slug(canonical_slug(text), "profile.slug", text)


def parse_address(text: str, *, default_registry: str = DEFAULT_REGISTRY) -> tuple[str, str]:
    """`REGISTRY/PROFILE` or `PROFILE` (in the default registry), trimmed, lower-cased, checked."""
    registry, sep, profile = canonical_slug(text).rpartition("/")
    registry = checked_slug(registry.strip(), "registry.slug", text) if sep else default_registry
    return registry, checked_slug(profile.strip(), "profile.slug", text)


def split_version(text: str) -> tuple[str, int | None]:
    """`ADDRESS@N` -> (ADDRESS, N); an address without `@` -> (address, None)."""
    address, sep, version = text.rpartition("@")
    if not sep:
        return text, None
    version = version.strip()
    if not version.isdigit() or int(version) < 1 or not address.strip():
        raise UsageError(f"{text!r}: write REGISTRY@N or REGISTRY/PROFILE@N with a version N >= 1")
    return address, int(version)


# ------------------------------------------------------------------------------ output
def format_option(choices: tuple[str, ...], terminal_default: str) -> Callable:
    """`--format`; when not given: json if stdout is not a terminal, else `terminal_default`."""

    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=None,
        help=f"Output format (default: json when stdout is not a terminal, else {terminal_default}).",
    )


def output_format(fmt: str | None, terminal_default: str) -> str:
    if fmt:
        return fmt
    return terminal_default if sys.stdout.isatty() else "json"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def emit(data: Any, fmt: str) -> None:
    """Print `data` as JSON or YAML (one document)."""
    if fmt == "yaml":
        click.echo(dump_yaml(data), nl=False)
    else:
        click.echo(to_json(data))


# ------------------------------------------------------------------------------ input files
def read_data_file(path: str, what: str) -> Any:
    """A YAML or JSON file's data (YAML 1.2 core schema; JSON is read as YAML).

    A missing or unreadable file is a usage error (2); content that does not parse is a
    validation error (1) naming the file and position.
    """
    try:
        raw = read_input(path, current_limits().max_bytes)
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror or exc}") from None
    parsed = engine.parse(raw)
    errors = errors_only(parsed.diagnostics)
    if parsed.fatal or errors:
        message = first_error_line(errors, prefix=path, position=True, more="") if errors else f"{path}: unreadable"
        raise ValidationError(message, errors, field=what)
    return None if parsed.empty else parsed.data


# ------------------------------------------------------------------------------ completion
def _completion_store(ctx: click.Context):
    """The store for completion, or None; completion never fails, it offers nothing instead."""
    spec = ctx.params.get("store_spec") or ctx.find_root().params.get("store_spec") or os.environ.get(STORE_ENV)
    if not spec:
        return None
    try:
        return open_store(spec)  # reads create nothing
    except Exception:
        return None


def _registry_slugs(store) -> list[str]:
    return store.registry_slugs()  # no payload decoded: cheap on a store of 100,000 registries


def _profile_slugs(store, registry: str) -> list[str]:
    try:
        return [p["slug"] for p in store.list_profiles(registry)]
    except Exception:
        return []


def _complete(ctx: click.Context, produce: Callable[[Any], list[str]]) -> list[CompletionItem]:
    store = _completion_store(ctx)
    if store is None:
        return []
    try:
        return _items(produce(store)[:MAX_COMPLETIONS])
    except Exception:
        return []
    finally:
        with contextlib.suppress(Exception):
            store.close()


def complete_registry(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    prefix = incomplete.strip().lower()
    return _complete(ctx, lambda store: [s for s in _registry_slugs(store) if s.startswith(prefix)])


def _address_candidates(store, incomplete: str, *, bare_is_registry: bool) -> list[str]:
    text = incomplete.strip().lower()
    if "/" in text:
        registry, _, prefix = text.partition("/")
        return [f"{registry}/{p}" for p in _profile_slugs(store, registry) if p.startswith(prefix)]
    registries = [s for s in _registry_slugs(store) if s.startswith(text)]
    if bare_is_registry:  # `show R`
        return registries + [f"{s}/" for s in registries]
    # `PROFILE` alone means a profile of the default registry
    return [p for p in _profile_slugs(store, DEFAULT_REGISTRY) if p.startswith(text)] + [
        f"{s}/" for s in registries
    ]


def complete_profile_address(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`PROFILE` of the default registry, `REGISTRY/`, then `REGISTRY/PROFILE` after the slash."""
    return _complete(ctx, lambda store: _address_candidates(store, incomplete, bare_is_registry=False))


def complete_registry_or_profile(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """For `show`: `REGISTRY` or `REGISTRY/PROFILE`."""
    return _complete(ctx, lambda store: _address_candidates(store, incomplete, bare_is_registry=True))
