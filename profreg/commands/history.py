"""`profreg history`, `profreg diff` and `profreg rollback`: a registry's past (SPEC section
4, *History*), on the SQLite and PostgreSQL stores. A YAML store keeps no history of its
own (its history is the file's version control): these commands exit 2 on it, saying so.
"""
from __future__ import annotations

import datetime
from typing import Any

import click

from ._common import complete_registry_or_profile, emit, format_option, opened_store
from ._common import output_format, parse_address, registry_slug_arg, split_version, store_option
from ._common import lock_timeout_option
from ._writeoptions import make_write_options, write_options_decorator
from .read import table
from .. import history
from ..errors import UsageError
from ..service import Service
from ..stores import no_history_reason
from ..yamldump import ordered_profile, ordered_registry


def history_store(store_spec: str | None):
    """The store, opened for reading; a YAML store is refused (exit 2) before it is opened:
    its history is the file's version control."""
    reason = no_history_reason(store_spec) if store_spec else None
    if reason:
        raise UsageError(reason)
    return opened_store(store_spec)


def _time(ms: int) -> str:
    if not ms:
        return "-"
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _what_changed(changes: dict[str, Any], deleted: bool) -> str:
    if deleted:
        return "registry deleted"
    parts = [f"{label} {', '.join(changes[key])}" for key, label in
             (("added", "added"), ("removed", "removed"), ("changed", "changed")) if changes[key]]
    if changes["registry_fields"]:
        parts.append(f"set {', '.join(changes['registry_fields'])}")
    return "; ".join(parts) or "no content change"


@click.command("history")
@click.argument("target", metavar="REGISTRY[/PROFILE]", shell_complete=complete_registry_or_profile)
@format_option(("json", "text"), "text")
@store_option
def history_command(target: str, fmt: str | None, store_spec: str | None) -> None:
    """The versions of a registry (or of one profile), newest first: version, time, actor,
    source and what changed (profiles added, removed, changed; for a profile, its fields)."""
    fmt = output_format(fmt, "text")
    with history_store(store_spec) as store:
        if "/" in target:
            registry, profile = parse_address(target)
            entries = history.profile_history(store, registry, profile)
            rows = [{"version": e["version"] if e["version"] is not None else "-",
                     "registry_version": e["registry_version"], "time": _time(e["updated_at_ms"]),
                     "actor": e["updated_by"], "source": e["source"],
                     "change": f"{e['change']} {', '.join(e['fields'])}".strip()} for e in entries]
            columns = ("version", "registry_version", "time", "actor", "source", "change")
        else:
            entries = history.registry_history(store, registry_slug_arg(target))
            rows = [{"version": e["version"], "time": _time(e["updated_at_ms"]), "actor": e["updated_by"],
                     "source": e["source"], "changes": _what_changed(e["changes"], e["deleted"])} for e in entries]
            columns = ("version", "time", "actor", "source", "changes")
    if fmt == "json":
        emit(entries, fmt)
    else:
        click.echo(table(rows, columns), nl=False)


def _document(store: Any, text: str) -> tuple[str, dict[str, Any], str]:
    """(kind, document, label) for `R[@N]` or `R/P[@N]` (no @N: the current state)."""
    address, version = split_version(text)
    if "/" in address:
        registry, profile = parse_address(address)
        found = (history.profile_at(store, registry, profile, version)[1] if version
                 else store.get_profile(registry, profile))
        document, label = ordered_profile(found), f"{registry}/{profile}"
        kind = "profile"
    else:
        slug = registry_slug_arg(address)
        document = ordered_registry(history.registry_at(store, slug, version) if version else store.get_registry(slug))
        kind, label = "registry", slug
    shown = version if version else (document.get("metadata") or {}).get("version", 0)
    return kind, document, f"{label}@{shown}"


@click.command("diff")
@click.argument("old", metavar="REGISTRY[/PROFILE]@A")
@click.argument("new", metavar="REGISTRY[/PROFILE][@B]")
@click.option("--show-secrets", is_flag=True, help="Print secret-looking values instead of `***`.")
@format_option(("json", "text"), "text")
@store_option
def diff_command(old: str, new: str, show_secrets: bool, fmt: str | None, store_spec: str | None) -> None:
    """What changed between two versions of a registry (R@A R@B) or a profile (R/P@A R/P@B);
    without @B, the current one. Text by default; --format json prints an RFC 6902 JSON Patch."""
    with history_store(store_spec) as store:
        old_kind, old_doc, old_label = _document(store, old)
        new_kind, new_doc, new_label = _document(store, new)
    if old_kind != new_kind:
        raise UsageError(f"cannot diff a {old_kind} ({old}) with a {new_kind} ({new})")
    if output_format(fmt, "text") == "json":
        emit(history.json_patch(old_doc, new_doc, show_secrets=show_secrets), "json")
    else:
        click.echo(history.render_patch(old_doc, new_doc, old_label, new_label, show_secrets=show_secrets), nl=False)


@click.command("rollback")
@click.argument("target", metavar="REGISTRY[/PROFILE]", shell_complete=complete_registry_or_profile)
@click.option("--to", "to_version", type=click.IntRange(min=1), required=True, metavar="N",
              help="The version whose content to write again (the profile's for R/P, the registry's for R).")
@click.option("--force", is_flag=True, help="Also roll back read-only profiles.")
@write_options_decorator
@lock_timeout_option
@format_option(("json", "text"), "text")
@store_option
def rollback_command(target: str, to_version: int, force: bool, expected_version: int | None, actor: str | None,
                     source: str, fmt: str | None, store_spec: str | None) -> None:
    """Write a registry (R) or a profile (R/P) again with the content it had at version N.

    A new write: versions only grow. --expected-version is compared with what it changes
    (the profile, or the registry); read-only profiles are refused (exit 4) unless --force.
    """
    options = make_write_options(expected_version, actor, source)
    with history_store(store_spec) as store:
        if "/" in target:
            registry, profile = parse_address(target)
            stored = Service(store).rollback_profile(registry, profile, to_version, options, force=force)
            result = {"registry": registry, "profile": profile}
        else:
            registry = registry_slug_arg(target)
            stored = Service(store).rollback_registry(registry, to_version, options, force=force)
            result = {"registry": registry}
    result.update({"rolled_back_to": to_version, "version": (stored.get("metadata") or {}).get("version", 0)})
    if output_format(fmt, "text") == "json":
        emit(result, "json")
    else:
        what = f"{registry}/{result['profile']}" if "profile" in result else f"registry {registry}"
        click.echo(f"rolled back {what} to version {to_version} (now version {result['version']})")
