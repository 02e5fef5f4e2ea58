"""The one validation engine: JSON Schema layer + invariant layer (SPEC section 3).

Entry points
------------
- `validate_text(text_or_bytes)` -> `Report`: a whole registry YAML document, with ranges.
- `validate_document(data)`      -> list of diagnostics for already-loaded data (no ranges).
- `validate_registry(obj)`       -> diagnostics for one registry object (stores use this).
- `validate_profile(obj)`        -> diagnostics for a lone profile object.

The CLI, the stores and the language server all call these; nothing else validates.

Large documents are validated piecewise — the registry shell with each profile stubbed out,
then each profile against `$defs/profile` — so the work is linear and per-profile results
can be cached by callers that re-validate (the language server passes `profile_cache`).
"""
from __future__ import annotations

import ast
import dataclasses
import difflib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable, MutableMapping

from .diagnostics import Diagnostic, Span, NO_SPAN, pointer_join, pointer_split
from .gcpause import collector_paused

if TYPE_CHECKING:  # the YAML reader is imported only where text is read: a SQLite
    # store's registries are validated as objects and never need PyYAML
    from .yamlsource import Limits, ParsedYaml

REGISTRY_FIELDS = frozenset(
    ("slug", "display_name", "description", "default_profile_slug", "profiles", "metadata")
)
OVERRIDE_KEYS = ("system_prompt", "middlewares", "tools", "step_settings_patch")

BUNDLE, SINGLE, LEGACY = "bundle", "single", "legacy"


# --------------------------------------------------------------------------------------
# Schema access
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _validator(defname: str):
    """A compiled jsonschema validator for one `$defs` entry (imports jsonschema lazily)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from .schemafile import load_schema

    schema = load_schema()
    resource = Resource.from_contents(schema)
    registry = Registry().with_resource(schema["$id"], resource)
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/{defname}"}, registry=registry)


@lru_cache(maxsize=None)
def _fast_validator(defname: str):
    """jsonschema-rs for the yes/no question (50x faster); None if it is not installed.

    Valid pieces (the vast majority) are settled by it; only pieces it rejects go through
    the reference `jsonschema` validator, which produces every reported error.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional accelerator
        return None
    from .schemafile import load_schema

    schema = load_schema()
    try:
        return jsonschema_rs.validator_for(
            {"$schema": schema["$schema"], "$ref": f"{schema['$id']}#/$defs/{defname}"},
            registry=jsonschema_rs.Registry([(schema["$id"], schema)]),
        )
    except Exception:  # pragma: no cover - an accelerator must never break validation
        return None


def accelerator_loaded() -> bool:
    """Whether jsonschema-rs has been loaded (then using it costs nothing more)."""
    return _fast_validator.cache_info().currsize > 0


def _is_valid(defname: str, instance: Any, accelerate: bool = True) -> bool:
    fast = _fast_validator(defname) if accelerate else None
    if fast is not None:
        try:
            return fast.is_valid(instance)
        except Exception:
            pass
    return _validator(defname).is_valid(instance)


def schema_def(defname: str) -> dict[str, Any]:
    from .schemafile import load_schema

    return load_schema()["$defs"][defname]


def detect_form(data: Any, *, accelerate: bool = True) -> str | None:
    """bundle, legacy or single (None for a non-mapping); see SPEC section 2."""
    if not isinstance(data, dict):
        return None
    if "registries" in data:
        return BUNDLE
    if data and not (REGISTRY_FIELDS & data.keys()) and _is_valid("legacy", data, accelerate):
        return LEGACY
    return SINGLE


# Root keys that only a registry document has at the top (SPEC section 7).
REGISTRY_MARKER_KEYS = frozenset(("registries", "slug", "profiles", "default_profile_slug"))
_MODELINE_RE = re.compile(r"#\s*profreg\b|#.*\$schema=\S*profile-registry")


# Other tools' files that have the legacy shape (name -> name -> mapping) by accident. SPEC
# section 7 names compose and workflow files as YAML that gets no diagnostics, so the shape
# alone does not make them registries when their entries carry the other tool's own keys.
_OTHER_TOOLS_ENTRY_KEYS = {
    "services": frozenset(("image", "build")),  # Compose: services -> name -> {image|build}
    "jobs": frozenset(("runs-on", "uses", "steps")),  # GitHub Actions: jobs -> id -> {runs-on}
}


def _another_tools_document(data: dict) -> bool:
    for key, entry_keys in _OTHER_TOOLS_ENTRY_KEYS.items():
        entries = data.get(key)
        if isinstance(entries, dict) and any(
            isinstance(entry, dict) and not entry_keys.isdisjoint(entry) for entry in entries.values()
        ):
            return True
    return False


def has_registry_modeline(text: str) -> bool:
    """The first line is a `# profreg` or `$schema=...profile-registry...` modeline."""
    first = text[1:] if text.startswith("\ufeff") else text
    first = first.split("\n", 1)[0].strip()
    return bool(_MODELINE_RE.match(first))


# File names the editors, the pre-commit hook and `validate DIR` treat as registry files
# whatever their content: `*profiles*`, `*registry*`, `*registries*` with a YAML suffix.
_REGISTRY_NAME_RE = re.compile(r"(profiles|registry|registries).*\.ya?ml$")


def named_like_registry(path: str) -> bool:
    """Whether a file's name marks it as a registry file (so it is checked even if it does
    not parse, is empty or binary)."""
    return _REGISTRY_NAME_RE.search(os.path.basename(path)) is not None


def looks_like_registry(parsed: ParsedYaml, *, accelerate: bool = True) -> bool:
    """Whether a YAML document is a registry file rather than some other YAML (SPEC section 7).

    Yes if its root mapping has a `registries`, `slug`, `profiles` or `default_profile_slug`
    key, or it has the legacy shape (unless it is plainly a Compose or GitHub Actions file),
    or its first line is a profreg modeline. A document that does not parse is judged by the
    top-level keys a line scan finds.
    """
    if has_registry_modeline(parsed.text):
        return True
    if parsed.fatal:
        from .yamlsource import iter_top_level_keys

        return any(key in REGISTRY_MARKER_KEYS for key in iter_top_level_keys(parsed.text))
    data = parsed.data
    if not isinstance(data, dict):
        return False
    if REGISTRY_MARKER_KEYS & data.keys():
        return True
    return detect_form(data, accelerate=accelerate) == LEGACY and not _another_tools_document(data)


# --------------------------------------------------------------------------------------
# Problems before they get a range
# --------------------------------------------------------------------------------------
@dataclass
class _Problem:
    code: str
    message: str
    pointer: str
    target: str = "value"  # value | key | object (a missing property: the object's key)
    field: str | None = None  # default: derived from pointer
    keyword: str | None = None
    severity: str = "error"
    hint_quote: bool = False
    null_value: bool = False


@dataclass
class Report:
    """What validating a document gives: diagnostics sorted by position, plus the data."""

    diagnostics: list[Diagnostic]
    data: Any = None
    form: str | None = None
    parsed: ParsedYaml | None = None

    @property
    def valid(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


# --------------------------------------------------------------------------------------
# Field paths: registry.profiles[agent].runtime.tools[1]
# --------------------------------------------------------------------------------------
def field_for(pointer: str, root: str = "registry") -> str:
    tokens = pointer_split(pointer)
    if root == "bundle":
        if len(tokens) >= 2 and tokens[0] == "registries":
            if len(tokens) == 2:
                return f"registries[{tokens[1]}]"
            tokens = tokens[2:]
            root = "registry"
        else:
            root = ""
    if root == "profile":
        # lone profile: `profile.slug`, but `runtime.tools[0]`, `policy.override_keys`
        if tokens[:1] == ["slug"] or not tokens:
            root = "profile"
        else:
            root = ""
    out = root
    parent = None
    for token in tokens:
        if parent in ("profiles", "registries") or token.isdigit():
            out += f"[{token}]"
        else:
            out += f".{token}" if out else token
        parent = token
    return out


# --------------------------------------------------------------------------------------
# Schema layer
# --------------------------------------------------------------------------------------
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _last_token(pointer: str) -> str:
    tokens = pointer_split(pointer)
    return tokens[-1] if tokens else "the document"


def _schema_problems(validator, instance: Any, prefix: str) -> Iterable[_Problem]:
    for error in validator.iter_errors(instance):
        path = prefix
        for token in error.absolute_path:
            path = pointer_join(path, token)
        keyword = error.validator
        schema_path = list(error.relative_schema_path)
        if "propertyNames" in schema_path:
            name = error.instance
            yield _Problem(
                "schema",
                f"{name!r} is not a valid key here: keys must be slugs (lower-case letters, digits, "
                f"'.', '_' or '-', starting and ending with a letter or digit)",
                pointer_join(path, name),
                target="key",
                keyword="propertyNames",
            )
        elif keyword == "additionalProperties":
            allowed = sorted((error.schema.get("properties") or {}).keys())
            for extra in _extras(error):
                close = difflib.get_close_matches(extra, allowed, n=1)
                where = _last_token(path) if path else "the document"
                hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(allowed)}"
                yield _Problem(
                    "schema",
                    f"unknown property {extra!r} in {where}{hint}",
                    pointer_join(path, extra),
                    target="key",
                    keyword=keyword,
                )
        elif keyword == "required":
            for missing in _missing(error):
                yield _required_problem(path, missing)
        elif keyword == "type":
            expected = error.validator_value
            words = _TYPE_WORDS.get(expected, str(expected)) if isinstance(expected, str) else " or ".join(
                _TYPE_WORDS.get(t, t) for t in expected
            )
            yield _Problem(
                "schema",
                f"{_last_token(path)} must be {words}, not {_describe(error.instance)}",
                path,
                target="key" if error.instance is None else "value",
                keyword=keyword,
                hint_quote=expected == "string",
                null_value=error.instance is None,
            )
        elif keyword == "pattern":
            yield _Problem(
                "schema",
                f"{_describe(error.instance)} is not a valid slug for {_last_token(path)}: use lower-case "
                "letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
                path,
                keyword=keyword,
            )
        elif keyword == "minimum":
            yield _Problem(
                "schema",
                f"{_last_token(path)} must be at least {error.validator_value}, not {error.instance!r}",
                path,
                keyword=keyword,
            )
        else:
            yield _Problem("schema", error.message, path, keyword=keyword)


def _required_problem(path: str, missing: str) -> _Problem:
    problem = _Problem(
        "schema", f"missing required property {missing!r}", path, target="object", keyword="required"
    )
    problem.field = missing  # completed to a full field path by the caller
    return problem


def _extras(error) -> list[str]:
    schema = error.schema
    props = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    return [
        k
        for k in error.instance
        if k not in props and not any(re.search(p, k) for p in patterns)
    ]


def _missing(error) -> list[str]:
    try:
        name = ast.literal_eval(error.message.split(" is a required property")[0])
        return [name]
    except (ValueError, SyntaxError):
        return [p for p in error.validator_value if p not in error.instance]


# --------------------------------------------------------------------------------------
# The engine proper
# --------------------------------------------------------------------------------------
ProfileCache = MutableMapping[Any, list]


class _Run:
    """One validation pass over a document: collects problems with their pointers."""

    def __init__(self, profile_cache: ProfileCache | None = None, profile_key: Callable | None = None,
                 accelerate: bool = True):
        self.accelerate = accelerate
        self.problems: list[_Problem] = []
        self.rejected: set[str] = set()  # pointers at or above a schema error
        self.profile_cache = profile_cache
        self.profile_key = profile_key

    # schema ---------------------------------------------------------------------------
    def schema(self, defname: str, instance: Any, prefix: str) -> None:
        fast = _fast_validator(defname) if self.accelerate else None
        if fast is not None:
            try:
                if fast.is_valid(instance):
                    return
            except Exception:  # values it cannot take (NaN, huge ints): ask jsonschema
                pass
        # One problem, one diagnostic: a schema can state the same rule twice on one value
        # (the single form and the registry it refers to both say "type: object").
        seen: set[tuple] = set()
        for problem in _schema_problems(_validator(defname), instance, prefix):
            identity = (problem.pointer, problem.keyword, problem.target, problem.message)
            if identity not in seen:
                seen.add(identity)
                self.add_schema(problem)

    def add_schema(self, problem: _Problem) -> None:
        self.problems.append(problem)
        if problem.keyword == "required":
            return  # a missing property rejects nothing
        tokens = pointer_split(problem.pointer)
        p = ""
        self.rejected.add(p)
        for t in tokens:
            p = pointer_join(p, t)
            self.rejected.add(p)

    def is_rejected(self, pointer: str) -> bool:
        return pointer in self.rejected

    # structure ------------------------------------------------------------------------
    def registry(self, reg: Any, prefix: str, defname: str, *, bundle_key: str | None = None) -> None:
        if not isinstance(reg, dict):
            self.schema(defname, reg, prefix)
            return
        profiles = reg.get("profiles")
        if isinstance(profiles, dict):
            # The shell: profiles stubbed out (null stays null, so the type error shows).
            shell = dict(reg)
            shell["profiles"] = {k: (None if v is None else {}) for k, v in profiles.items()}
            self.schema(defname, shell, prefix)
            for slug, profile in profiles.items():
                if profile is not None:
                    self.profile(profile, pointer_join(pointer_join(prefix, "profiles"), slug))
        else:
            self.schema(defname, reg, prefix)
        self.registry_invariants(reg, prefix, bundle_key)

    def profile(self, profile: Any, pointer: str) -> None:
        cache = self.profile_cache
        if cache is not None and self.profile_key is not None:
            key = self.profile_key(pointer, profile)
            if key is not None:
                hit = cache.get(key)
                if hit is None:
                    hit = self._profile_problems(profile)
                    cache[key] = hit
                self._replay(hit, pointer)
                return
        self._replay(self._profile_problems(profile), pointer)

    def _profile_problems(self, profile: Any) -> list[_Problem]:
        sub = _Run(accelerate=self.accelerate)
        sub.schema("profile", profile, "")
        if isinstance(profile, dict):
            sub.profile_invariants(profile, "", slug=None)
        return sub.problems

    def _replay(self, problems: list[_Problem], pointer: str) -> None:
        for p in problems:
            moved = _Problem(**{**p.__dict__, "pointer": pointer + p.pointer})
            if p.code == "schema":
                self.add_schema(moved)
            else:
                self.problems.append(moved)

    # invariants -----------------------------------------------------------------------
    def registry_invariants(self, reg: dict, prefix: str, bundle_key: str | None) -> None:
        if bundle_key is not None and "slug" in reg:
            slug_ptr = pointer_join(prefix, "slug")
            if isinstance(reg["slug"], str) and reg["slug"] != bundle_key and not self.is_rejected(slug_ptr):
                self.problems.append(
                    _Problem(
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
            return
        # profile-level invariants need the key, which a cached per-profile pass lacks
        for slug, profile in profiles.items():
            if isinstance(profile, dict) and "slug" in profile:
                ptr = pointer_join(pointer_join(pointer_join(prefix, "profiles"), slug), "slug")
                value = profile["slug"]
                if isinstance(value, str) and value != slug and not self.is_rejected(ptr):
                    self.problems.append(
                        _Problem(
                            "profile-slug-mismatch",
                            f"profile slug {value!r} differs from its key {slug!r} under profiles",
                            ptr,
                        )
                    )
        dps_ptr = pointer_join(prefix, "default_profile_slug")
        if self.is_rejected(dps_ptr):
            return
        dps = reg.get("default_profile_slug")
        if dps is None or dps == "":
            if profiles:
                present = "default_profile_slug" in reg
                self.problems.append(
                    _Problem(
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
            close = difflib.get_close_matches(dps, list(profiles), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else (
                "; the registry has no profiles" if not profiles else ""
            )
            self.problems.append(
                _Problem(
                    "default-profile-unknown",
                    f"default_profile_slug {dps!r} names no profile of this registry{hint}",
                    dps_ptr,
                )
            )

    def profile_invariants(self, profile: dict, prefix: str, slug: str | None) -> None:
        # Pointers are built only for a hit: this runs for every profile of a large file.
        # The tokens below are constants with no `~` or `/`, so plain f-strings escape right.
        runtime = profile.get("runtime")
        if isinstance(runtime, dict):
            middlewares = runtime.get("middlewares")
            if isinstance(middlewares, list):
                for i, mw in enumerate(middlewares):
                    if isinstance(mw, dict) and _blank(mw.get("name")):
                        self._empty_name(f"{prefix}/runtime/middlewares/{i}/name", "middleware name")
            tools = runtime.get("tools")
            if isinstance(tools, list):
                for i, tool in enumerate(tools):
                    if _blank(tool):
                        self._empty_name(f"{prefix}/runtime/tools/{i}", "tool name")
        policy = profile.get("policy")
        if isinstance(policy, dict):
            pp = f"{prefix}/policy"
            lists = {}
            for name in ("allowed_override_keys", "denied_override_keys"):
                items = policy.get(name)
                if isinstance(items, list):
                    lp = f"{pp}/{name}"
                    for i, item in enumerate(items):
                        if _blank(item):
                            self._empty_name(f"{lp}/{i}", "override key")
                    if not self.is_rejected(lp):
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
                        self.problems.append(
                            _Problem(
                                "override-key-conflict",
                                f"override key {k!r} is both allowed and denied",
                                f"{pp}/denied_override_keys/{i}",
                                field=_OVERRIDE_KEYS_FIELD,
                            )
                        )

    def _empty_name(self, pointer: str, what: str) -> None:
        if not self.is_rejected(pointer):
            self.problems.append(_Problem("empty-name", f"{what} must not be empty or whitespace", pointer))


def _blank(value: Any) -> bool:
    """An empty or whitespace-only string (names, tools and override keys must not be)."""
    return isinstance(value, str) and not value.strip()


# Placeholder resolved against the profile pointer when the problem is finished.
_OVERRIDE_KEYS_FIELD = "\0policy.override_keys"


def _check(data: Any, form: str | None, run: _Run) -> None:
    if form == BUNDLE:
        registries = data.get("registries")
        if isinstance(registries, dict):
            shell = dict(data)
            shell["registries"] = {k: (None if v is None else {}) for k, v in registries.items()}
            run.schema("bundle", shell, "")
            for key, reg in registries.items():
                if reg is not None:
                    run.registry(reg, pointer_join("/registries", key), "registry", bundle_key=key)
        else:
            run.schema("bundle", data, "")
    elif form == SINGLE:
        run.registry(data, "", "single")
    elif form is None:
        run.schema("single", data, "")


def _finish(problems: list[_Problem], root_kind: str, parsed: ParsedYaml | None) -> list[Diagnostic]:
    out = []
    for p in problems:
        code, field_name = p.code, p.field
        pointer = p.pointer
        tokens = pointer_split(pointer)
        # null entries are their own codes, not schema type errors (SPEC section 3)
        if code == "schema" and p.null_value and len(tokens) >= 2:
            if tokens[-2] == "profiles":
                code, field_name = "profile-null", None
                p.message = f"profile {tokens[-1]!r} is empty (null); write `{tokens[-1]}: {{}}` for an empty profile"
            elif tokens[-2] == "registries" and len(tokens) == 2:
                code, field_name = "registry-null", None
                p.message = f"registry {tokens[-1]!r} is empty (null); write `{tokens[-1]}: {{}}` for an empty registry"
        if field_name is None:
            field_name = field_for(pointer, root_kind)
        elif field_name.startswith("\0"):
            # policy.override_keys: rooted at the profile that holds the lists
            holder = "/".join(pointer.split("/")[:-3])
            # a lone profile's own lists read `policy.override_keys` (SPEC section 3)
            field_name = "" if root_kind == "profile" and not holder else field_for(holder, root_kind)
            field_name = f"{field_name}.{_OVERRIDE_KEYS_FIELD[1:]}" if field_name else _OVERRIDE_KEYS_FIELD[1:]
        elif p.keyword == "required":
            base = field_for(pointer, root_kind)
            field_name = f"{base}.{field_name}" if base else field_name
        elif field_name.startswith("registry.") and root_kind == "bundle":
            pass
        message = p.message
        span = NO_SPAN
        if parsed is not None:
            span = parsed.span_of(pointer, p.target)
            if p.hint_quote:
                raw = parsed.plain_text(pointer)
                if raw is not None and raw != "":
                    message += f"; quote it to keep it as text: \"{raw}\""
        out.append(
            Diagnostic(
                p.severity,
                code,
                message,
                field=field_name,
                pointer=pointer,
                span=span,
                keyword=p.keyword if code == "schema" else None,
            )
        )
    return out


def _root_kind(form: str | None) -> str:
    return "bundle" if form == BUNDLE else "registry"


def _sort(diags: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=lambda d: (d.span.start_line, d.span.start_col, d.code))


def check_data(
    data: Any,
    parsed: ParsedYaml | None = None,
    *,
    profile_cache: ProfileCache | None = None,
    profile_key: Callable | None = None,
    accelerate: bool = True,
) -> tuple[str | None, list[Diagnostic]]:
    """Both layers over loaded data; `parsed` (if given) supplies ranges.

    `accelerate=False` keeps jsonschema-rs unloaded: the results are the same, the
    pure-Python validator is slower per profile, and a long-running process that only sees
    small documents stays about 6 MB smaller (the language server decides per document).
    """
    form = detect_form(data, accelerate=accelerate)
    if form == LEGACY:
        span = parsed.span_of("", "object") if parsed is not None else NO_SPAN
        return form, [
            Diagnostic(
                "warning",
                "legacy-format",
                "this file is in the legacy flat form (profile -> settings); convert it with "
                "`profreg migrate FILE NEW.yaml`",
                span=span,
            )
        ]
    run = _Run(profile_cache, profile_key, accelerate)
    with collector_paused():
        _check(data, form, run)
    return form, _finish(run.problems, _root_kind(form), parsed)


def validate_parsed(parsed: ParsedYaml, **options: Any) -> Report:
    """Both layers over a parsed document; `options` are `check_data`'s keywords."""
    if parsed.fatal:
        return Report(_sort(list(parsed.diagnostics)), parsed=parsed)
    if parsed.empty:
        return Report(
            [
                Diagnostic(
                    "error",
                    "empty-document",
                    "the file is empty or holds only comments; a registry needs at least a `slug`",
                    span=Span(0, 0, 0, len(parsed.lines.line_text(0))),
                )
            ],
            parsed=parsed,
        )
    form, diags = check_data(parsed.data, parsed, **options)
    reader_diags = [_with_field(d, _root_kind(form)) for d in parsed.diagnostics]
    return Report(_sort(reader_diags + diags), data=parsed.data, form=form, parsed=parsed)


def _with_field(diag: Diagnostic, root_kind: str) -> Diagnostic:
    """A reader diagnostic with a pointer (a duplicate key) gets its field path too."""
    if diag.pointer and not diag.field:
        return dataclasses.replace(diag, field=field_for(diag.pointer, root_kind))
    return diag


def validate_text(source: str | bytes, *, limits: Limits | None = None) -> Report:
    """Validate one registry YAML document (text or raw bytes): all diagnostics, with ranges."""
    # One pause for both steps: a collection in between would scan every fresh object.
    from .yamlsource import DEFAULT_LIMITS, parse

    with collector_paused():
        return validate_parsed(parse(source, limits or DEFAULT_LIMITS))


def validate_document(data: Any) -> list[Diagnostic]:
    """Validate already-loaded document data (bundle, single or legacy form); no ranges."""
    if data is None:
        return [Diagnostic("error", "empty-document", "the document is empty")]
    return check_data(data)[1]


def validate_registry(registry: Any, *, key: str | None = None) -> list[Diagnostic]:
    """Validate one registry object (as a store holds it). `key`: its slug in a bundle."""
    run = _Run()
    run.registry(registry, "", "registry" if key is not None else "single", bundle_key=key)
    return _finish(run.problems, "registry", None)


def validate_profile(profile: Any, *, slug: str | None = None) -> list[Diagnostic]:
    """Validate a lone profile object; fields read `profile.slug`, `runtime.tools[0]`, ..."""
    run = _Run()
    if profile is None:
        return [Diagnostic("error", "profile-null", "the profile is empty (null)", field="profile")]
    run.schema("profile", profile, "")
    if isinstance(profile, dict):
        run.profile_invariants(profile, "", slug)
        if (
            slug is not None
            and isinstance(profile.get("slug"), str)
            and profile["slug"] != slug
            and not run.is_rejected("/slug")
        ):
            run.problems.append(
                _Problem(
                    "profile-slug-mismatch",
                    f"profile slug {profile['slug']!r} differs from {slug!r}",
                    "/slug",
                )
            )
    return _finish(run.problems, "profile", None)


def errors_only(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]
