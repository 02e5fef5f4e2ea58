"""`profreg list` and `profreg show`: read a store."""
from __future__ import annotations

import sys
from typing import Any

import click

from ._common import (
    complete_registry,
    complete_registry_or_profile,
    emit,
    format_option,
    opened_store,
    output_format,
    parse_address,
    registry_slug_arg,
    split_version,
    store_option,
)
from .. import history
from ..errors import StoreError
from ..model import version_of
from ..secrets import mask_secrets
from ..yamldump import ordered_profile, ordered_registry


@click.command("list")
@click.argument("registry", required=False, shell_complete=complete_registry)
@format_option(("json", "yaml", "text"), "text")
@store_option
def list_command(registry: str | None, fmt: str | None, store_spec: str | None) -> None:
    """List the registries, or with REGISTRY that registry's profiles.

    Registries whose stored data is corrupt are named on stderr (exit 6); the healthy ones
    are still listed.
    """
    fmt = output_format(fmt, "text")
    corrupt: list[tuple[str, str]] = []
    registry = registry_slug_arg(registry) if registry is not None else None
    with opened_store(store_spec, reads_only=True) as store:
        if registry is None:
            healthy, corrupt = store.registry_views()  # only read: no copies
            rows = [_registry_row(r) for r in healthy]
            columns = ("slug", "display_name", "default_profile_slug", "profile_count")
        else:
            rows = [_profile_row(p) for p in store.list_profiles(registry)]
            columns = ("slug", "display_name", "version", "read_only")
    if fmt == "text":
        click.echo(table(rows, columns), nl=False)
    else:
        emit(rows, fmt)
    if corrupt:
        for slug, reason in corrupt:
            click.echo(f"profreg: registry {slug!r} is corrupt: {reason}", err=True)
        sys.stdout.flush()
        raise StoreError(f"{len(corrupt)} corrupt registr{'y' if len(corrupt) == 1 else 'ies'} not listed")


def _registry_row(registry: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": registry["slug"],
        "display_name": registry.get("display_name") or "",
        "default_profile_slug": registry.get("default_profile_slug") or "",
        "profile_count": len(registry.get("profiles") or {}),
    }


def _profile_row(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": profile["slug"],
        "display_name": profile.get("display_name") or "",
        "version": version_of(profile),
        "read_only": bool((profile.get("policy") or {}).get("read_only")),
    }


def table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Aligned columns with a header; an empty list prints the header only."""
    cells = [[c.upper() for c in columns]] + [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "".join(
        "  ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip() + "\n" for line in cells
    )


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value != "" else "-"


@click.command("show")
@click.argument("target", shell_complete=complete_registry_or_profile, metavar="REGISTRY[/PROFILE][@N]")
@click.option("--show-secrets", is_flag=True, help="Print secret-looking values instead of `***`.")
@format_option(("json", "yaml"), "yaml")
@store_option
def show_command(target: str, show_secrets: bool, fmt: str | None, store_spec: str | None) -> None:
    """Show a registry (REGISTRY) or a profile (REGISTRY/PROFILE) as the schema's object.

    With @N (SQLite and PostgreSQL): the registry at registry version N, the profile at
    profile version N, from the store's history.
    """
    target, version = split_version(target)
    if "/" in target:
        registry, profile = parse_address(target)
    else:
        registry, profile = registry_slug_arg(target), None
    with opened_store(store_spec, reads_only=True) as store:
        if profile is not None:
            found = (history.profile_at(store, registry, profile, version)[1] if version
                     else store.get_profile(registry, profile))
            data = ordered_profile(found)
        else:
            # ordering, masking and dumping only read: the store's own registry, not a copy
            data = ordered_registry(history.registry_at(store, registry, version) if version
                                    else store.registry_view(registry))
    emit(data if show_secrets else mask_secrets(data), output_format(fmt, "yaml"))
