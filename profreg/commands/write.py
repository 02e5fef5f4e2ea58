"""`profreg registry …`, `profreg profile …` and `profreg set-default`: write a store.

Every write takes `--expected-version N` (the profile's version for `profile update/delete`,
the registry's for `set-default`, `profile create` and `registry delete`), `--actor`
(default: the login name) and `--source` (default: `cli`), and prints one line saying
what it did, with the new version, on stdout (deletes too: the registry's new version, or
the version a deleted registry had). `--lock-timeout SECONDS` bounds the wait for another
writer's lock (exit 6 after it).
"""
from __future__ import annotations

from typing import Any, Callable

import click

from ._common import (
    complete_profile_address,
    complete_registry,
    lock_timeout_option,
    opened_store,
    parse_address,
    profile_slug_arg,
    read_data_file,
    registry_slug_arg,
    store_option,
)
from ._writeoptions import make_write_options, write_options_decorator
from ..engine import validate_profile
from ..engine import errors_only, first_error_line
from ..errors import ValidationError
from ..model import PROFILE_UPDATABLE_FIELDS, version_of
from ..service import Service


def _force_option(help_text: str) -> Callable:
    return click.option("--force", is_flag=True, help=help_text)


# ------------------------------------------------------------------------------ registry
@click.group("registry")
def registry_group() -> None:
    """Create, update or delete registries."""


def _registry_field_options(func: Callable) -> Callable:
    func = click.option("--description", help="What the registry is for.")(func)
    return click.option("--display-name", help="A human-readable name.")(func)


def _registry_fields(display_name: str | None, description: str | None) -> dict[str, Any]:
    """The registry's own fields the options give (left out when not given)."""
    given = {"display_name": display_name, "description": description}
    return {name: value for name, value in given.items() if value is not None}


@registry_group.command("create")
@click.argument("registry")
@_registry_field_options
@write_options_decorator
@lock_timeout_option
@store_option
def registry_create(registry: str, display_name: str | None, description: str | None,
                    expected_version: int | None, actor: str | None, source: str, store_spec: str | None) -> None:
    """Create an empty registry REGISTRY (exit 5 if it exists)."""
    slug = registry_slug_arg(registry)
    fields = {"slug": slug, **_registry_fields(display_name, description)}
    with opened_store(store_spec) as store:
        stored = Service(store).create_registry(fields, make_write_options(expected_version, actor, source))
    click.echo(f"created registry {slug} (version {version_of(stored)})")


@registry_group.command("update")
@click.argument("registry", shell_complete=complete_registry)
@_registry_field_options
@write_options_decorator
@lock_timeout_option
@store_option
def registry_update(registry: str, display_name: str | None, description: str | None,
                    expected_version: int | None, actor: str | None, source: str, store_spec: str | None) -> None:
    """Replace REGISTRY's own fields given; its profiles and default stay as they are.

    --expected-version is compared with the registry's version.
    """
    slug = registry_slug_arg(registry)
    patch = _registry_fields(display_name, description)
    with opened_store(store_spec) as store:
        stored = Service(store).update_registry(slug, patch, make_write_options(expected_version, actor, source))
    click.echo(f"updated registry {slug} (version {version_of(stored)})")


@registry_group.command("delete")
@click.argument("registry", shell_complete=complete_registry)
@_force_option("Also delete a registry that holds read-only profiles.")
@write_options_decorator
@lock_timeout_option
@store_option
def registry_delete(registry: str, force: bool, expected_version: int | None, actor: str | None, source: str,
                    store_spec: str | None) -> None:
    """Delete REGISTRY and all its profiles (one holding read-only profiles needs --force)."""
    slug = registry_slug_arg(registry)
    with opened_store(store_spec) as store:
        deleted = Service(store).delete_registry(slug, make_write_options(expected_version, actor, source),
                                                 force=force)
    count = len(deleted.get("profiles") or {})
    # a hand-written registry profreg never wrote has no version
    was = f"it was at version {version_of(deleted)}, " if version_of(deleted) else ""
    click.echo(f"deleted registry {slug} ({was}with {count} profile{'' if count == 1 else 's'})")


# ------------------------------------------------------------------------------ profile
@click.group("profile")
def profile_group() -> None:
    """Create, update or delete profiles (addressed as REGISTRY/PROFILE or PROFILE)."""


def _profile_field_options(func: Callable) -> Callable:
    func = click.option("--read-only/--no-read-only", "read_only", default=None,
                        help="Set policy.read_only (a read-only profile is changed or deleted only with --force).")(func)
    func = click.option("--from-file", "from_file", metavar="FILE",
                        help="The profile's fields from a YAML or JSON file; the other field options win over it.")(func)
    func = click.option("--tool", "tools", multiple=True, metavar="T",
                        help="A tool name (repeatable); replaces the tool list.")(func)
    func = click.option("--system-prompt", help="The system prompt.")(func)
    func = click.option("--description", help="What the profile is for.")(func)
    func = click.option("--display-name", help="A human-readable name.")(func)
    return func


def _profile_fields(slug: str, from_file: str | None, display_name: str | None, description: str | None,
                    system_prompt: str | None, tools: tuple[str, ...], read_only: bool | None) -> dict[str, Any]:
    """The profile fields the command line gives: --from-file first, then the options."""
    fields: dict[str, Any] = {}
    if from_file:
        data = read_data_file(from_file, "profile")
        if data is None:
            data = {}
        errors = errors_only(validate_profile(data, slug=slug))
        if errors:
            raise ValidationError(first_error_line(errors, prefix=from_file, default_field="profile"), errors)
        fields.update(data)
    if display_name is not None:
        fields["display_name"] = display_name
    if description is not None:
        fields["description"] = description
    if system_prompt is not None or tools:
        runtime = dict(fields.get("runtime") or {})
        if system_prompt is not None:
            runtime["system_prompt"] = system_prompt
        if tools:
            runtime["tools"] = list(tools)
        fields["runtime"] = runtime
    if read_only is not None:
        fields["policy"] = {**(fields.get("policy") or {}), "read_only": read_only}
    return fields


@profile_group.command("create")
@click.argument("address", metavar="REGISTRY/PROFILE", shell_complete=complete_profile_address)
@_profile_field_options
@write_options_decorator
@lock_timeout_option
@store_option
def profile_create(address: str, display_name: str | None, description: str | None, system_prompt: str | None,
                   tools: tuple[str, ...], from_file: str | None, read_only: bool | None,
                   expected_version: int | None, actor: str | None, source: str, store_spec: str | None) -> None:
    """Create a profile (exit 5 if it exists). The first profile of a registry becomes its default.

    --expected-version is compared with the registry's version.
    """
    registry, slug = parse_address(address)
    fields = _profile_fields(slug, from_file, display_name, description, system_prompt, tools, read_only)
    fields["slug"] = slug
    with opened_store(store_spec) as store:
        stored = Service(store).create_profile(registry, fields, make_write_options(expected_version, actor, source))
    click.echo(f"created profile {registry}/{slug} (version {version_of(stored)})")


@profile_group.command("update")
@click.argument("address", metavar="REGISTRY/PROFILE", shell_complete=complete_profile_address)
@_profile_field_options
@_force_option("Change a read-only profile (e.g. `--no-read-only --force` to unlock it).")
@write_options_decorator
@lock_timeout_option
@store_option
def profile_update(address: str, display_name: str | None, description: str | None, system_prompt: str | None,
                   tools: tuple[str, ...], from_file: str | None, read_only: bool | None, force: bool,
                   expected_version: int | None, actor: str | None, source: str, store_spec: str | None) -> None:
    """Replace the fields given, keep the others (runtime and policy are patched per field).

    --expected-version is compared with the profile's version. A read-only profile is
    refused (exit 4) unless --force is given.
    """
    registry, slug = parse_address(address)
    fields = _profile_fields(slug, from_file, display_name, description, system_prompt, tools, read_only)
    patch = {k: v for k, v in fields.items() if k in PROFILE_UPDATABLE_FIELDS}
    tags = (fields.get("metadata") or {}).get("tags")
    if tags is not None:
        patch["tags"] = tags
    with opened_store(store_spec) as store:
        stored = Service(store).update_profile(registry, slug, patch,
                                               make_write_options(expected_version, actor, source), force=force)
    click.echo(f"updated profile {registry}/{slug} (version {version_of(stored)})")


@profile_group.command("delete")
@click.argument("address", metavar="REGISTRY/PROFILE", shell_complete=complete_profile_address)
@click.option("--new-default", metavar="P2", help="The registry's new default profile, when deleting the default.")
@_force_option("Delete a read-only profile.")
@write_options_decorator
@lock_timeout_option
@store_option
def profile_delete(address: str, new_default: str | None, force: bool, expected_version: int | None,
                   actor: str | None, source: str, store_spec: str | None) -> None:
    """Delete a profile. Deleting the default while others remain needs --new-default.

    --expected-version is compared with the profile's version. A read-only profile is
    refused (exit 4) unless --force is given.
    """
    registry, slug = parse_address(address)
    new_default = profile_slug_arg(new_default) if new_default else None
    with opened_store(store_spec) as store:
        stored = Service(store).delete_profile(registry, slug, make_write_options(expected_version, actor, source),
                                               new_default=new_default, force=force)
    default = stored.get("default_profile_slug")
    click.echo(f"deleted profile {registry}/{slug} (registry version {version_of(stored)}"
               f"{f'; default profile {default}' if default else ''})")


# ------------------------------------------------------------------------------ set-default
@click.command("set-default")
@click.argument("address", metavar="REGISTRY/PROFILE", shell_complete=complete_profile_address)
@write_options_decorator
@lock_timeout_option
@store_option
def set_default_command(address: str, expected_version: int | None, actor: str | None, source: str,
                        store_spec: str | None) -> None:
    """Make PROFILE its registry's default profile (--expected-version: the registry's)."""
    registry, slug = parse_address(address)
    with opened_store(store_spec) as store:
        stored = Service(store).set_default_profile(registry, slug,
                                                    make_write_options(expected_version, actor, source))
    click.echo(f"default profile of {registry} is now {slug} (registry version {version_of(stored)})")
