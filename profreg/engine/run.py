"""The run: one validation pass that ties reader, schema layer and invariants together.

- `validate_text(text_or_bytes)` -> `Report`: a whole registry YAML document, with ranges.
- `validate_parsed(parsed)`      -> `Report` for a document the reader already read.
- `validate_document(data)`      -> diagnostics for already-loaded data (no ranges).
- `validate_registry(obj)`       -> diagnostics for one registry object (stores use this).
- `read_for_store(raw, build)`   -> a store file read, validated and built, in one collector pause.
- `edit_for_store(edit)`         -> a store's edit of what it read (validated, written text read back), paused alike.
- `validate_profile(obj)`        -> diagnostics for a lone profile object.
- `read_and_validate`, `read_and_check`: what another reader (the server's blocks, a
  store's stored form) reads, read and validated in one collector pause.

The CLI, the stores and the language server all call these; nothing else validates.

Large documents are validated piecewise — the registry shell with each profile stubbed out,
then each profile against `$defs/profile` — so the work is linear and per-profile results
can be cached by callers that re-validate (the language server passes `profile_cache`).
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any, Callable, MutableMapping, TypeVar

from ..model import BUNDLE, LEGACY, SINGLE
from . import schema
from .detection import detect_form, looks_like_registry
from .gcpause import collector_paused, keep_out_of_scans
from .invariants import lone_profile_slug, profile_invariants, registry_invariants
from ..pointer import pointer_join, pointer_split
from ..limits import ENV_VARS, current_limits
from ..secrets import is_secret_key, under_secret_key
from .fastread import read_data
from .reader import Limits, ParsedYaml, parse
from .sourcemap import SourceMap
from .report import NO_SPAN, Diagnostic, Problem, Report, Span, field_for

ProfileCache = MutableMapping[Any, list]
_Data = TypeVar("_Data")


class _Run:
    """One validation pass over a document: collects problems with their pointers."""

    def __init__(self, profile_cache: ProfileCache | None = None, profile_key: Callable | None = None):
        self.problems: list[Problem] = []
        self.rejected: set[str] = set()  # pointers at or above a schema error
        self.profile_cache = profile_cache
        self.profile_key = profile_key
        # id(profile) -> its problems: an aliased profile (`*base` under many keys) is one
        # object, checked once however often it appears
        self._by_object: dict[int, list[Problem]] = {}
        # Past the diagnostics limit, a profile's problems are only counted (aliases can
        # repeat one profile's problems a million times). Read from the environment when
        # first needed: a profile's own pass (one per profile) never needs it.
        self._limit: int | None = None
        self.uncollected = 0

    @property
    def limit(self) -> int:
        if self._limit is None:
            self._limit = current_limits().max_diagnostics
        return self._limit

    # schema ---------------------------------------------------------------------------
    def schema(self, defname: str, instance: Any, prefix: str) -> None:
        # One problem, one diagnostic: a schema can state the same rule twice on one value
        # (the single form and the registry it refers to both say "type: object").
        seen: set[tuple] = set()
        for problem in schema.problems(defname, instance, prefix):
            identity = (problem.pointer, problem.keyword, problem.target, problem.message)
            if identity not in seen:
                seen.add(identity)
                self.add_schema(problem)

    def add_schema(self, problem: Problem) -> None:
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
            shell = _invalid_shell(defname, reg, profiles)
            if shell is not None:
                stubs = shell["profiles"]
                if _empty_profile_valid():
                    # The reference validator walks every entry to explain the shell's errors,
                    # and an entry with a slug key and a `{}` stub adds none: only the others
                    # (nulls, keys that are not slugs) are shown to it, in their order.
                    shell["profiles"] = {k: v for k, v in stubs.items() if v is None or not _slug_key(k)}
                self.schema(defname, shell, prefix)
            base = pointer_join(prefix, "profiles")
            secret_base = under_secret_key(base)
            for slug, profile in profiles.items():
                if profile is not None:
                    self.profile(profile, base, slug, secret_base or is_secret_key(slug))
        else:
            self.schema(defname, reg, prefix)
        self.problems.extend(registry_invariants(reg, prefix, bundle_key, self.is_rejected))

    def profile(self, profile: Any, base: str, slug: str, under_secret: bool) -> None:
        """The profile at `base`/`slug`; its pointer is built only when it has problems."""
        if under_secret:
            # Judged where it stands, not from the cached key-less pass: its messages must
            # know they are under a secret-looking key and quote none of its values.
            self._replay(self._profile_problems(profile, pointer_join(base, slug)), "")
            return
        cache = self.profile_cache
        key = self.profile_key(profile) if cache is not None and self.profile_key is not None else None
        if key is None:  # an aliased profile object is judged once per run
            found = self._by_object.get(id(profile))
            if found is None:
                found = self._by_object[id(profile)] = self._profile_problems(profile)
        else:
            found = cache.get(key)
            if found is None:
                found = cache[key] = self._profile_problems(profile)
        if found:
            self._replay(found, pointer_join(base, slug))

    def _profile_problems(self, profile: Any, prefix: str = "") -> list[Problem]:
        sub = _Run()
        sub.schema("profile", profile, prefix)
        if isinstance(profile, dict):
            sub.problems.extend(profile_invariants(profile, prefix, sub.is_rejected))
        return sub.problems

    def _replay(self, problems: list[Problem], pointer: str) -> None:
        if len(self.problems) >= self.limit:
            self.uncollected += len(problems)
            return
        for p in problems:
            moved = dataclasses.replace(p, pointer=pointer + p.pointer)
            if p.profile_pointer is not None:
                moved.profile_pointer = pointer + p.profile_pointer
            if p.code == "schema":
                self.add_schema(moved)
            else:
                self.problems.append(moved)


# The last shells judged valid, as (schema def, the registry's other fields frozen, profile
# keys, keys of null profiles): a shell is those and nothing else, so the same ones need no
# second look (the language server validates its document on every keystroke; most keep them).
_VALID_SHELLS: list[tuple[str, tuple, tuple, tuple]] = []
_VALID_SHELLS_KEPT = 8


def _invalid_shell(defname: str, reg: dict, profiles: dict) -> dict | None:
    """The registry with each profile stubbed out (`{}`, null kept) if it fails the schema;
    None if it passes."""
    keys = tuple(profiles)
    # text keys only: `1 == True` as keys, not to a schema
    known = set(map(type, keys)) <= {str}
    if known:
        others = _frozen({k: v for k, v in reg.items() if k != "profiles"})
        nulls = tuple(k for k, v in profiles.items() if v is None) if None in profiles.values() else ()
        for entry in _VALID_SHELLS:
            if entry[0] == defname and entry[2] == keys and entry[3] == nulls and entry[1] == others:
                return None
    shell = dict(reg)
    shell["profiles"] = {k: (None if v is None else {}) for k, v in profiles.items()}
    if not schema.is_valid(defname, shell):
        return shell
    if known:
        _VALID_SHELLS.insert(0, (defname, others, keys, nulls))
        del _VALID_SHELLS[_VALID_SHELLS_KEPT:]
    return None


def _frozen(value: Any) -> Any:
    """Loaded data as nested tuples that compare equal only for equal data of the same types
    (`1 == True == 1.0` in Python, not in a schema); a copy, so a later change to the data
    in place is not seen in it."""
    if isinstance(value, dict):
        return (dict, tuple((k.__class__, k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(_frozen(v) for v in value))
    return (value.__class__, value)


@lru_cache(maxsize=None)
def _empty_profile_valid() -> bool:
    return schema.is_valid("profile", {})


def _slug_key(key: str) -> bool:
    return schema.is_valid("slug", key)


def profile_problems(profile: Any) -> list[Problem]:
    """One profile's problems on its own (schema and invariants), pointers rooted at it.

    The profile pass of a registry's validation, as `profile_cache` stores it: the language
    server runs it while a profile's node tree is at hand, to place the ranges it needs.
    """
    return _Run()._profile_problems(profile)


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


def _field_of(p: Problem, root_kind: str) -> tuple[str, str]:
    """(code, field path) of a finished problem; null entries get their own codes."""
    code, field_name = p.code, p.field
    tokens = pointer_split(p.pointer)
    # null entries are their own codes, not schema type errors (SPEC section 3)
    if code == "schema" and p.null_value and len(tokens) >= 2:
        if tokens[-2] == "profiles":
            code, field_name = "profile-null", None
            p.message = f"profile {tokens[-1]!r} is empty (null); write `{tokens[-1]}: {{}}` for an empty profile"
        elif tokens[-2] == "registries" and len(tokens) == 2:
            code, field_name = "registry-null", None
            p.message = f"registry {tokens[-1]!r} is empty (null); write `{tokens[-1]}: {{}}` for an empty registry"
    if field_name is None:
        return code, field_for(p.pointer, root_kind)
    if p.profile_pointer is not None:
        # rooted at the profile that holds it; a lone profile's own read `policy.override_keys`
        holder = p.profile_pointer
        base = "" if root_kind == "profile" and not holder else field_for(holder, root_kind)
        return code, f"{base}.{field_name}" if base else field_name
    if p.keyword == "required":
        base = field_for(p.pointer, root_kind)
        return code, f"{base}.{field_name}" if base else field_name
    return code, field_name


def bounded_message(message: str, limits: Limits | None = None) -> str:
    """A message cut to the message-size limit (a key or value it quotes may be huge)."""
    limit = (limits or current_limits()).max_message_chars
    return message if len(message) <= limit else message[: max(0, limit - 3)] + "..."


def _finish(problems: list[Problem], root_kind: str, parsed: SourceMap | None,
            uncollected: int = 0) -> list[Diagnostic]:
    """The problems as diagnostics; past the per-document limit only counted: ranges and
    messages cost the most, and 300,000 diagnostics help nobody (see `_capped`)."""
    limits = current_limits()
    out = []
    for p in problems[: limits.max_diagnostics]:
        code, field_name = _field_of(p, root_kind)
        message = p.message
        span = NO_SPAN
        if parsed is not None:
            span = parsed.span_of(p.pointer, p.target)
            if p.hint_quote:
                raw = parsed.plain_text(p.pointer)
                if raw is not None and raw != "":
                    quoted = "" if under_secret_key(p.pointer) else f": \"{raw}\""
                    message += f"; quote it to keep it as text{quoted}"
        out.append(
            Diagnostic(
                p.severity,
                code,
                bounded_message(message, limits),
                field=field_name,
                pointer=p.pointer,
                span=span,
                keyword=p.keyword if code == "schema" else None,
            )
        )
    hidden = len(problems) - len(out) + uncollected
    if hidden > 0:
        out.append(_more_problems(hidden, limits))
    return out


MORE_PROBLEMS = "too-many-problems"


def _more_problems(hidden: int, limits: Limits) -> Diagnostic:
    return Diagnostic(
        "warning",
        MORE_PROBLEMS,
        f"{hidden} more problem{'s' if hidden != 1 else ''} not shown: the limit is {limits.max_diagnostics} "
        f"per document (set {ENV_VARS['max_diagnostics']} to see more)",
        data={"hidden": hidden},
    )


def _capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """At most the limit of diagnostics (sorted), the rest counted in one `too-many-problems`."""
    limits = current_limits()
    hidden = sum(d.data["hidden"] for d in diagnostics if d.code == MORE_PROBLEMS and d.data)
    shown = [d for d in diagnostics if d.code != MORE_PROBLEMS]
    if len(shown) > limits.max_diagnostics:
        hidden += len(shown) - limits.max_diagnostics
        shown = shown[: limits.max_diagnostics]
    # reader diagnostics quote keys, which may be long: their messages are bounded here
    shown = [d if len(d.message) <= limits.max_message_chars
             else dataclasses.replace(d, message=bounded_message(d.message, limits)) for d in shown]
    if hidden:
        shown.insert(0, _more_problems(hidden, limits))
    return shown


def _root_kind(form: str | None) -> str:
    return "bundle" if form == BUNDLE else "registry"


def _sort(diags: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=lambda d: (d.span.start_line, d.span.start_col, d.code))


def check_data(
    data: Any,
    parsed: SourceMap | None = None,
    *,
    profile_cache: ProfileCache | None = None,
    profile_key: Callable | None = None,
) -> tuple[str | None, list[Diagnostic]]:
    """Both layers over loaded data; `parsed` (if given) supplies ranges."""
    form = detect_form(data)
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
    run = _Run(profile_cache, profile_key)
    with collector_paused():
        _check(data, form, run)
    return form, _finish(run.problems, _root_kind(form), parsed, run.uncollected)


def validate_parsed(parsed: SourceMap, **options: Any) -> Report:
    """Both layers over a parsed document; `options` are `check_data`'s keywords."""
    if parsed.fatal:
        return Report(_capped(_sort(list(parsed.diagnostics))), parsed=parsed)
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
    return Report(_capped(_sort(reader_diags + diags)), data=parsed.data, form=form, parsed=parsed)


def _with_field(diag: Diagnostic, root_kind: str) -> Diagnostic:
    """A reader diagnostic with a pointer (a duplicate key) gets its field path too."""
    if diag.pointer and not diag.field:
        return dataclasses.replace(diag, field=field_for(diag.pointer, root_kind))
    return diag


def validate_text(source: str | bytes, *, limits: Limits | None = None) -> Report:
    """Validate one registry YAML document (text or raw bytes): all diagnostics, with ranges."""
    # One pause for both steps: a collection in between would scan every fresh object.
    with collector_paused():
        # bare: the report reads its node tree only through `ParsedYaml`'s methods
        return validate_parsed(parse(source, limits, bare=True))


def read_and_validate(read: Callable[[], SourceMap], validate: Callable[[SourceMap], Report] = validate_parsed,
                      *, kept: bool = False) -> tuple[SourceMap, Report | None]:
    """A document read by a reader other than `parse` (the language server's blocks), and
    its report if it looks like a registry (detection first, as the CLI does; None if not).

    One collector pause for both steps, as in `validate_text`: the reader's blocks are parsed
    one at a time, and a collection between them would scan every object read so far.
    `kept`: the caller keeps what was read for its session (a document just opened): it is
    then kept out of later collections' scans (`gcpause.keep_out_of_scans`).
    """
    with collector_paused():
        source = read()
        result = source, (validate(source) if looks_like_registry(source) else None)
        if kept:
            keep_out_of_scans()
        return result


def read_and_check(read: Callable[[], _Data], check: Callable[[_Data], Any]) -> _Data:
    """Data a store decodes from its stored form (`read`), checked with the engine (`check`,
    which calls `validate_registry`), in one collector pause as in `validate_text`: a
    collection between the two would scan every object just decoded."""
    with collector_paused():
        data = read()
        check(data)
        return data


def read_for_store(raw: bytes, build: Callable[[Report], _Data], *, validate: bool = True,
                   known_form: Callable[[Any], str | None] | None = None, source_map: bool = True,
                   expect_valid: bool = False) -> _Data:
    """A store file's bytes read (and validated) into a report that `build` turns into the
    store's registries, all under one collector pause: a store's first read of a large file
    builds more objects than anything else in its life, and a collection between reading,
    validating and building would scan every one of them.

    validate=False: read only (YAML-level problems; the form as detected), for text whose
    registries the caller compares with ones already validated. `known_form(data)`: the
    form data read from these exact bytes validated as before (the caller's cache), or None:
    data it vouches for is not validated again. `expect_valid` with source_map=False: the
    caller keeps no node tree and has reason to expect the text valid (its last reading
    was): the text is read without one (`fastread`), and if it has any problem it is read
    again by `parse`, so its diagnostics are the reader's own (`report.parsed.root` is None
    when it was valid). Without that reason `parse` alone reads it: a second read would make
    a broken file's error slower by most of a parse."""
    with collector_paused():
        parsed = None
        if validate and expect_valid and not source_map:
            read = read_data(raw, current_limits())
            if isinstance(read, ParsedYaml):
                parsed = read  # a syntax error, as `parse` gives it
            elif read is not None:
                report = _clean_report(*read, known_form)
                if report is not None:
                    return build(report)
        if parsed is None:
            parsed = parse(raw, bare=not source_map)  # a kept tree keeps its tags: the splice reads them
        if not validate:
            form = detect_form(parsed.data)
        else:
            form = None if parsed.fatal or known_form is None else known_form(parsed.data)
        if validate and form is None:
            report = validate_parsed(parsed)
        else:
            report = Report(list(parsed.diagnostics), data=parsed.data, form=form, parsed=parsed)
        return build(report)


def _clean_report(text: str, data: Any, known_form: Callable[[Any], str | None] | None) -> Report | None:
    """`validate_parsed`'s report of a document read without a node tree, if it has no
    problem at all; None: it has some, and they need the source map to be placed."""
    form = None if known_form is None else known_form(data)
    if form is None:
        form, diagnostics = check_data(data)
        if diagnostics:
            return None
    return Report([], data=data, form=form, parsed=ParsedYaml(text=text, data=data))


def edit_for_store(edit: Callable[[], _Data]) -> _Data:
    """A store's edit of a file it read — the change validated, the text spliced, what was
    written read back — under one collector pause as in `read_for_store`: the edit copies
    parts of a large document while all of it is held, and a collection then would scan
    every object of it (the pause's end counts them as old instead)."""
    with collector_paused():
        return edit()


def validate_document(data: Any) -> list[Diagnostic]:
    """Validate already-loaded document data (bundle, single or legacy form); no ranges."""
    if data is None:
        return [Diagnostic("error", "empty-document", "the document is empty")]
    return check_data(data)[1]


def validate_registry(registry: Any, *, key: str | None = None, valid_profiles: Any = None) -> list[Diagnostic]:
    """Validate one registry object (as a store holds it). `key`: its slug in a bundle.

    `valid_profiles`: a registry already known valid (what a write started from); its
    profile objects that are still in `registry` are not checked on their own again (a
    profile's own problems depend on nothing else). Registry-level rules always run."""
    run = _Run()
    known = (valid_profiles or {}).get("profiles") if isinstance(valid_profiles, dict) else None
    if known:
        unchanged = {id(profile) for profile in known.values() if profile is not None}
        run = _Run(dict.fromkeys(unchanged, []),
                   lambda profile: id(profile) if id(profile) in unchanged else None)
    run.registry(registry, "", "registry" if key is not None else "single", bundle_key=key)
    return _finish(run.problems, "registry", None, run.uncollected)


def validate_profile(profile: Any, *, slug: str | None = None) -> list[Diagnostic]:
    """Validate a lone profile object; fields read `profile.slug`, `runtime.tools[0]`, ..."""
    run = _Run()
    if profile is None:
        return [Diagnostic("error", "profile-null", "the profile is empty (null)", field="profile")]
    run.schema("profile", profile, "")
    if isinstance(profile, dict):
        run.problems.extend(profile_invariants(profile, "", run.is_rejected))
        run.problems.extend(lone_profile_slug(profile, slug, run.is_rejected))
    return _finish(run.problems, "profile", None)
