"""`profreg resolve`: the effective runtime and settings of a profile, with a fingerprint."""
from __future__ import annotations

import json
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
    split_version,
    store_option,
)
from ..errors import UsageError, ValidationError
from .. import engine
from ..engine import errors_only, first_error_line
from ..model import RUNTIME_FIELD_TYPES
from ..resolve import canonical_override_key
from ..secrets import mask_secrets
from ..service import Service
from ..slugs import canonical_slug

FORMATS = ("json", "yaml", "text")
# The Python type YAML gives a --set value of each runtime field's JSON type (the schema's).
_PYTHON_TYPES = {"string": str, "array": list, "object": dict}


@click.command("resolve")
@click.argument("profile", required=False, shell_complete=complete_profile_address)
@click.option("--registry", "-r", "registry", metavar="R", help="The registry (default: `default`).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="A request override; VALUE is read as YAML (`tools=[a, b]`); a dotted KEY sets inside "
                   "the settings patch (`step_settings_patch.ai-chat.ai-engine=o3`). Repeatable.")
@click.option("--set-string", "set_strings", multiple=True, metavar="KEY=VALUE",
              help="Like --set, but VALUE is the string as typed (`system_prompt=Note: be brief`).")
@click.option("--overrides", "overrides_file", metavar="FILE", help="Request overrides from a YAML or JSON file.")
@click.option("--base", "base_file", metavar="FILE", help="Base settings (YAML or JSON) the profile's patch merges over.")
@click.option("--runtime-key", metavar="K", help="The runtime key (default: the profile slug).")
@click.option("--show-secrets", is_flag=True, help="Print secret-looking values instead of `***`.")
@format_option(FORMATS, "text")
@store_option
def resolve_command(profile: str | None, registry: str | None, sets: tuple[str, ...], set_strings: tuple[str, ...],
                    overrides_file: str | None,
                    base_file: str | None, runtime_key: str | None, show_secrets: bool, fmt: str | None,
                    store_spec: str | None) -> None:
    """Resolve PROFILE (REGISTRY/PROFILE, or PROFILE in the registry `default`).

    PROFILE@N (SQLite and PostgreSQL stores): the profile as it was at its version N, from
    the store's history; the fingerprint is the one it had.

    Without PROFILE: the registry's default profile. Overrides are checked against the
    profile's policy; settings merge as RFC 7386 merge patch; the fingerprint is the SHA-256
    of the RFC 8785 canonical JSON of the result.
    """
    version = None
    if profile is not None:
        profile, version = split_version(profile)
    registry_slug, profile_slug = _target(profile, registry)
    overrides, typed = _overrides(overrides_file, sets, set_strings)
    base = read_data_file(base_file, "base_settings") if base_file else None
    if runtime_key is not None:
        runtime_key = canonical_slug(runtime_key) or None

    with opened_store(store_spec, legacy_registry=registry_slug, reads_only=True) as store:
        service = Service(store)
        try:
            if version is not None:  # PROFILE@N: the profile as it was at its version N
                resolution = service.resolve_version(registry_slug, profile_slug, version, overrides=overrides,
                                                     base_settings=base, runtime_key=runtime_key)
            else:
                resolution = service.resolve(registry_slug, profile_slug, overrides=overrides,
                                             base_settings=base, runtime_key=runtime_key)
        except ValidationError as exc:
            raise _with_quoting_hint(exc, typed) from None
        result = resolution.to_json()
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


# Where each request override came from, for messages: `--set systemPrompt`, `--overrides o.yaml`.
_Origin = str
# A key path: the canonical override key, then (for dotted keys) the keys inside its value.
_Path = tuple[str, ...]


def _overrides(overrides_file: str | None, sets: tuple[str, ...],
               set_strings: tuple[str, ...]) -> tuple[dict[str, Any] | None, dict[str, tuple[str, Any]]]:
    """--overrides FILE plus every --set / --set-string, and what --set read as YAML.

    The same key given twice, under any spelling and by any of the three, is a validation
    error on `request_overrides.<key>`; dotted keys (`step_settings_patch.ai-chat.ai-engine`)
    set inside a value, and clash with the same path or one containing it. The second value
    maps canonical keys given by `--set` to (the text typed, the value YAML read), for the
    quoting hint when the value has the wrong type.
    """
    overrides: Any = read_data_file(overrides_file, "request_overrides") if overrides_file else None
    if not sets and not set_strings:
        return overrides, {}
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        return overrides, {}  # the service reports a non-mapping with its field
    given: dict[_Path, _Origin] = {}
    for key in overrides:
        if isinstance(key, str):
            _claim(given, (canonical_override_key(key),), f"{key!r} in --overrides {overrides_file}")
    typed: dict[str, tuple[str, Any]] = {}
    for option, item in [("--set", s) for s in sets] + [("--set-string", s) for s in set_strings]:
        key, text = _split_setting(option, item)
        value = _yaml_value(key, text) if option == "--set" else text
        path = _key_path(option, key)
        _claim(given, path, f"{option} {key.strip()}")
        if len(path) == 1:
            overrides[key.strip()] = value
            if option == "--set":
                typed[path[0]] = (text, value)
        else:
            _set_inside(overrides, path, value)
    return overrides, typed


def _claim(given: dict[_Path, _Origin], path: _Path, origin: _Origin) -> None:
    """Record that `origin` sets `path`; a path already set, inside or around it, is an error."""
    for other, other_origin in given.items():
        shorter = min(len(other), len(path))
        if other[:shorter] == path[:shorter]:
            field = "request_overrides." + ".".join(path[:shorter])
            raise ValidationError(f"{field}: given twice ({other_origin} and {origin})", field=field)
    given[path] = origin


def _split_setting(option: str, item: str) -> tuple[str, str]:
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
    return key, text


def _key_path(option: str, key: str) -> _Path:
    """(`step_settings_patch`, `ai-chat`, `ai-engine`) for `stepSettingsPatch.ai-chat.ai-engine`.

    The first part is an override key (canonicalised); the rest are setting names, as typed."""
    head, *inner = key.strip().split(".")
    canonical = canonical_override_key(head)
    if any(not part.strip() for part in inner):
        raise UsageError(f"{option} {key.strip()!r}: a dotted key has an empty part")
    if inner and RUNTIME_FIELD_TYPES.get(canonical, "object") != "object":  # a mapping takes dotted keys
        field = f"request_overrides.{canonical}"
        raise ValidationError(f"{field}: only step_settings_patch takes a dotted key ({option} {key.strip()})",
                              field=field)
    return (canonical, *(part.strip() for part in inner))


def _set_inside(overrides: dict[str, Any], path: _Path, value: Any) -> None:
    """Put `value` at `path` (the first part the override key, in its canonical spelling)."""
    target = overrides.setdefault(path[0], {})
    for part in path[1:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _yaml_value(key: str, text: str) -> Any:
    """VALUE of `--set KEY=VALUE` read as YAML (`KEY=` is the empty string)."""
    if not text.strip():
        return ""
    parsed = engine.parse(text)
    errors = errors_only(parsed.diagnostics)
    if parsed.fatal or errors:
        message = first_error_line(errors, more="") if errors else "not valid YAML"
        raise UsageError(f"--set {key.strip()}: the value is not valid YAML: {message} "
                         f"(use --set-string {key.strip()}=... for text as typed)")
    return parsed.data


def _with_quoting_hint(exc: Exception, typed: dict[str, tuple[str, Any]]) -> Exception:
    """The service's type error on a `--set` value, with what YAML made of it and how to say it."""
    field = getattr(exc, "field", "")
    key = field.removeprefix("request_overrides.")
    if not isinstance(exc, ValidationError) or key not in typed:
        return exc
    text, value = typed[key]
    expected = _PYTHON_TYPES.get(RUNTIME_FIELD_TYPES.get(key))
    if expected is None or isinstance(value, expected):
        return exc  # a typo'd key, or a problem inside the value: quoting would not help
    kind = _yaml_kind(value)
    if key == "system_prompt":
        hint = (f"--set reads VALUE as YAML, which made {text!r} {kind}; quote it "
                f"(--set '{key}=\"...\"') or use --set-string {key}=...")
    elif key == "step_settings_patch":
        hint = (f"--set reads VALUE as YAML, which made {text!r} {kind}; write a mapping "
                f"({key}={{section: {{key: value}}}}) or a dotted key ({key}.SECTION.KEY=VALUE)")
    else:
        hint = f"--set reads VALUE as YAML, which made {text!r} {kind}; write a list: {key}=[a, b]"
    return ValidationError(f"{exc}; {hint}", exc.diagnostics, field=field)


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return "a string"


def render_text(result: dict[str, Any]) -> str:
    """A person's view: identity, runtime, then settings as `section.key = value` lines."""
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
