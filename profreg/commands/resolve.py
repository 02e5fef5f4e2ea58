"""`profreg resolve`: the effective runtime and settings of a profile, with a fingerprint."""
from __future__ import annotations

from typing import Any

import click

from ._common import (
    complete_profile_address,
    emit,
    format_option,
    opened_store,
    output_format,
    parse_address,
    read_data_file,
    registry_slug_arg,
    store_option,
)
from ..errors import UsageError

FORMATS = ("json", "yaml", "text")


@click.command("resolve")
@click.argument("profile", required=False, shell_complete=complete_profile_address)
@click.option("--registry", "-r", "registry", metavar="R", help="The registry (default: `default`).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="A request override; VALUE is read as YAML (`tools=[a, b]`). Repeatable.")
@click.option("--overrides", "overrides_file", metavar="FILE", help="Request overrides from a YAML or JSON file.")
@click.option("--base", "base_file", metavar="FILE", help="Base settings (YAML or JSON) the profile's patch merges over.")
@click.option("--runtime-key", metavar="K", help="The runtime key (default: the profile slug).")
@click.option("--show-secrets", is_flag=True, help="Print secret-looking values instead of `***`.")
@format_option(FORMATS, "text")
@store_option
def resolve_command(profile: str | None, registry: str | None, sets: tuple[str, ...], overrides_file: str | None,
                    base_file: str | None, runtime_key: str | None, show_secrets: bool, fmt: str | None,
                    store_spec: str | None) -> None:
    """Resolve PROFILE (REGISTRY/PROFILE, or PROFILE in the registry `default`).

    Without PROFILE: the registry's default profile. Overrides are checked against the
    profile's policy; settings merge as RFC 7386 merge patch; the fingerprint is the SHA-256
    of the RFC 8785 canonical JSON of the result.
    """
    from ..secrets import mask_secrets
    from ..service import Service
    from ..slugs import canonical_slug

    registry_slug, profile_slug = _target(profile, registry)
    overrides = _overrides(overrides_file, sets)
    base = read_data_file(base_file, "base_settings") if base_file else None
    if runtime_key is not None:
        runtime_key = canonical_slug(runtime_key) or None

    with opened_store(store_spec, create=False, legacy_registry=registry_slug) as store:
        result = Service(store).resolve(registry_slug, profile_slug, overrides=overrides,
                                        base_settings=base, runtime_key=runtime_key).to_json()
    if not show_secrets:
        for key in ("effective_runtime", "effective_settings"):
            result[key] = mask_secrets(result[key])

    fmt = output_format(fmt, "text")
    if fmt == "text":
        click.echo(render_text(result), nl=False)
    else:
        emit(result, fmt)


def _target(profile: str | None, registry: str | None) -> tuple[str, str | None]:
    """(registry, profile or None) from the PROFILE argument and --registry."""
    registry_slug = registry_slug_arg(registry) if registry is not None else None
    if profile is None:
        return registry_slug or "default", None
    if "/" in profile:
        addressed_registry, profile_slug = parse_address(profile)
        if registry_slug and registry_slug != addressed_registry:
            raise UsageError(f"--registry {registry_slug} contradicts {profile!r}")
        return addressed_registry, profile_slug
    return parse_address(profile, default_registry=registry_slug or "default")


def _overrides(overrides_file: str | None, sets: tuple[str, ...]) -> dict[str, Any] | None:
    """--overrides FILE, then each --set on top (a later key replaces an earlier spelling of it)."""
    from ..resolve import canonical_override_key

    overrides: Any = read_data_file(overrides_file, "request_overrides") if overrides_file else None
    if not sets:
        return overrides
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        return overrides  # the service reports a non-mapping with its field
    for item in sets:
        key, value = _parse_set(item)
        canonical = canonical_override_key(key)
        for existing in [k for k in overrides if isinstance(k, str) and canonical_override_key(k) == canonical]:
            del overrides[existing]
        overrides[key] = value
    return overrides


def _parse_set(item: str) -> tuple[str, Any]:
    """`KEY=VALUE` with VALUE read as YAML (`KEY=` is the empty string)."""
    from ..yamlsource import parse

    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set {item!r}: expected KEY=VALUE")
    if not text.strip():
        return key, ""
    parsed = parse(text)
    errors = [d for d in parsed.diagnostics if d.severity == "error"]
    if parsed.fatal or errors:
        message = errors[0].message if errors else "not valid YAML"
        raise UsageError(f"--set {key}: the value is not valid YAML: {message}")
    return key, parsed.data


def render_text(result: dict[str, Any]) -> str:
    """A person's view: identity, runtime, then settings as `section.key = value` lines."""
    import json

    runtime = result["effective_runtime"]
    middlewares = ", ".join(
        m["name"] + ("" if m["config"] is None else " " + json.dumps(m["config"], ensure_ascii=False))
        for m in runtime["middlewares"]
    )
    fields = [
        ("registry", result["registry"]),
        ("profile", f"{result['profile']} (version {result['metadata']['profile.version']})"),
        ("runtime key", result["runtime_key"]),
        ("fingerprint", result["fingerprint"]),
        ("source", result["metadata"]["profile.source"] or "-"),
        ("system prompt", json.dumps(runtime["system_prompt"], ensure_ascii=False)),
        ("tools", ", ".join(runtime["tools"]) or "-"),
        ("middlewares", middlewares or "-"),
        ("settings", "" if result["effective_settings"] else "-"),
    ]
    lines = [f"{label + ':':<15}{value}".rstrip() for label, value in fields]
    for section, values in result["effective_settings"].items():
        if isinstance(values, dict):
            for key, value in values.items():
                lines.append(f"  {section}.{key} = {json.dumps(value, ensure_ascii=False)}")
        else:
            lines.append(f"  {section} = {json.dumps(values, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
