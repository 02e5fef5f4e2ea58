"""Registry documents of the shapes people edit, for the language-server matrix benchmark.

`registry(n, form, state, style)` gives a document of `n` profiles and the lines where the
benchmark edits, asks for completion and hovers:

- form: `single` (the registry's fields at the top) or `bundle` (`registries:` holding
  three registries that share the profiles between them);
- state: `valid`, or one problem family placed in the middle of the document (see STATES);
- style: `block` (block mappings and lists) or `shared` (anchors, aliases and merge keys
  shared across profiles, flow-style values).

The profile key `agent-NNNNNN` numbers profiles across the whole document, so the same
profile is "in the middle" whatever the form.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FORMS = ("single", "bundle")
STYLES = ("block", "shared")
STATES = (
    "valid",
    "schema-type",  # allow_overrides: sometimes
    "schema-pattern",  # a profile `slug` that is not a slug
    "schema-unknown-key",  # a misspelt runtime key
    "default-profile-required",  # no default_profile_slug at all (ranges at the registry itself)
    "default-profile-unknown",  # default_profile_slug naming no profile
    "profile-slug-mismatch",  # every fifth profile's `slug` differs from its key
    "duplicate-key",  # a profile repeats `display_name`
    "half-typed",  # a line being typed that does not parse yet
)
BROKEN_STATES = tuple(state for state in STATES if state != "valid")
BUNDLE_REGISTRIES = 3
# A request the profiles' policies allow (`allowed_override_keys`), over base settings.
OVERRIDES = {"system_prompt": "Answer in French.", "tools": ["search"]}
BASE_SETTINGS = {"ai-chat": {"ai-max-tokens": 512, "ai-stream": True}, "http": {"timeout-s": 30}}


@dataclass
class Shape:
    """A generated document and where the benchmark acts on it (0-based lines)."""

    text: str
    profile_edit_line: int  # a profile's `display_name:` line (value edited back and forth)
    profile_edit_col: int
    profile_edit_value: str
    registry_line: int  # where the registry edit types (see `registry_edits`)
    # (start line, start col, end line, end col, new text), applied in turn, then again from the start
    registry_edits: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    completion_line: int = 0  # a blank line inside a profile's `policy:` mapping
    completion_col: int = 0
    hover_line: int = 0  # a `system_prompt:` key
    hover_col: int = 0


def _profile(i: int, ind: str, style: str, state: str, middle: int, first: bool) -> str:
    """One profile's text, its key at indentation `ind`."""
    f = ind + "  "  # the profile's own fields
    slug = f"agent-{i:06d}"
    lines = [f"{ind}{slug}:"]
    if state == "profile-slug-mismatch" and i % 5 == 3:
        lines.append(f"{f}slug: agent-{i + 1:06d}")
    elif state == "schema-pattern" and i == middle:
        lines.append(f"{f}slug: Agent_{i}!")
    else:
        lines.append(f"{f}slug: {slug}")
    lines.append(f"{f}display_name: Agent {i}")
    if state == "duplicate-key" and i == middle:
        lines.append(f"{f}display_name: Agent {i} again")
    if state == "half-typed" and i == middle:
        lines.append(f"{f}descrip")
    lines.append(f"{f}description: Generated profile number {i} for benchmarks.")
    tools_key = "tols" if state == "schema-unknown-key" and i == middle else "tools"
    allow = "sometimes" if state == "schema-type" and i == middle else "true"
    if style == "block":
        lines += [
            f"{f}runtime:",
            f"{f}  system_prompt: You are assistant number {i}. Be brief and precise.",
            f"{f}  middlewares:",
            f"{f}    - name: logging",
            f"{f}      config: {{level: info, sample: {i % 7}}}",
            f"{f}    - name: agentmode",
            f"{f}  {tools_key}: [calculator, search, shell]",
            f"{f}  step_settings_patch:",
            f"{f}    ai-chat:",
            f"{f}      ai-engine: gpt-4o-mini",
            f"{f}      ai-temperature: 0.{i % 10}",
            f"{f}policy:",
            f"{f}  allow_overrides: {allow}",
            f"{f}  allowed_override_keys: [system_prompt, tools]",
            f"{f}metadata: {{version: {i % 5 + 1}, source: bench}}",
        ]
    elif first:  # the anchors every later profile refers to
        lines += [
            f"{f}runtime:",
            f"{f}  system_prompt: You are assistant number {i}. Be brief and precise.",
            f"{f}  middlewares: &middlewares",
            f"{f}    - {{name: logging, config: &logcfg {{level: info, sample: 0}}}}",
            f"{f}    - {{name: agentmode}}",
            f"{f}  {tools_key}: &tools [calculator, search, shell]",
            f"{f}  step_settings_patch: &patch {{ai-chat: {{ai-engine: gpt-4o-mini, ai-temperature: 0.5}}}}",
            f"{f}policy: &policy",
            f"{f}  allow_overrides: {allow}",
            f"{f}  allowed_override_keys: [system_prompt, tools]",
            f"{f}metadata: {{version: 1, source: bench, tags: [shared]}}",
        ]
    else:
        lines += [
            f"{f}runtime:",
            f"{f}  system_prompt: You are assistant number {i}. Be brief and precise.",
            f"{f}  middlewares: *middlewares",
            f"{f}  {tools_key}: *tools",
            f"{f}  step_settings_patch: *patch",
            f"{f}policy:",
            f"{f}  <<: *policy",
            f"{f}  allow_overrides: {allow}",
            f"{f}  read_only: {'true' if i % 3 == 0 else 'false'}",
            f"{f}metadata: {{version: {i % 5 + 1}, source: bench}}",
        ]
    return "\n".join(lines) + "\n"


def _registry_head(ind: str, slug: str, default: str | None, number: int) -> list[str]:
    head = [f"{ind}slug: {slug}", f"{ind}display_name: Registry {number}",
            f"{ind}description: Generated registry for the matrix benchmark."]
    if default is not None:
        head.append(f"{ind}default_profile_slug: {default}")
    head.append(f"{ind}profiles:")
    return head


def _groups(n: int, form: str) -> list[range]:
    """The profile numbers of each registry of the document."""
    if form == "single":
        return [range(n)]
    return [range(k * n // BUNDLE_REGISTRIES, (k + 1) * n // BUNDLE_REGISTRIES) for k in range(BUNDLE_REGISTRIES)]


def _registry_slug(form: str, k: int) -> str:
    return "default" if form == "single" else f"team-{k}"


def profile_key(i: int) -> str:
    """The key (and slug) of profile number `i`."""
    return f"agent-{i:06d}"


def registry_holding(i: int, n: int, form: str) -> str:
    """The slug of the registry that holds profile number `i` in `registry(n, form, ...)`."""
    return _registry_slug(form, next(k for k, group in enumerate(_groups(n, form)) if i in group))


def registry(n: int, form: str = "single", state: str = "valid", style: str = "block") -> Shape:
    if form not in FORMS or state not in STATES or style not in STYLES:
        raise ValueError(f"unknown shape {form}/{state}/{style}")
    middle = n // 2
    groups = _groups(n, form)
    # the registry holding the middle profile carries the registry-level problem
    target = next(k for k, g in enumerate(groups) if middle in g)
    out = ["# Generated by bench/shapes.py"]
    if form == "bundle":
        out.append("registries:")
    reg_ind = "" if form == "single" else "    "
    prof_ind = reg_ind + "  "
    registry_line = 0
    for k, group in enumerate(groups):
        if form == "bundle":
            out.append(f"  team-{k}:")
        first = f"agent-{group[0]:06d}" if len(group) else None
        default: str | None = first
        if k == target and state == "default-profile-required":
            default = None
        elif k == target and state == "default-profile-unknown":
            default = f"agent-{n + 7:06d}"
        if k == target:
            registry_line = len(out)  # the registry's first own field
        out += _registry_head(reg_ind, _registry_slug(form, k), default, k)
        text = "".join(_profile(i, prof_ind, style, state, middle, i == 0) for i in group)
        out += text.rstrip("\n").split("\n") if text else []
    text = "\n".join(out) + "\n"
    lines = text.split("\n")
    return _landmarks(text, lines, n, registry_line, reg_ind, state)


def _landmarks(text: str, lines: list[str], n: int, registry_line: int, reg_ind: str, state: str) -> Shape:
    edited = n // 2 + 1 if n > 2 else 0
    key = f"agent-{edited:06d}:"
    start = next(i for i, line in enumerate(lines) if line.strip() == key)
    display = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("display_name:"))
    display_col = lines[display].index(":") + 2
    prompt = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("system_prompt:"))
    policy = next(i for i in range(start, len(lines)) if lines[i].strip() == "policy:" or
                  lines[i].strip().startswith("policy: "))
    last_policy = policy + 1
    while last_policy + 1 < len(lines) and lines[last_policy + 1].startswith(lines[policy + 1][:len(
            lines[policy + 1]) - len(lines[policy + 1].lstrip())]) and lines[last_policy + 1].strip() and \
            not lines[last_policy + 1].strip().startswith("metadata"):
        last_policy += 1
    field_indent = len(lines[policy + 1]) - len(lines[policy + 1].lstrip())
    shape = Shape(
        text=text, profile_edit_line=display, profile_edit_col=display_col,
        profile_edit_value=lines[display][display_col:], registry_line=registry_line,
        completion_line=last_policy + 1, completion_col=field_indent,
        hover_line=prompt, hover_col=lines[prompt].index("system_prompt") + 3,
    )
    own_fields = range(registry_line, next(i for i in range(registry_line, len(lines))
                                           if lines[i] == f"{reg_ind}profiles:"))
    if state == "default-profile-required":
        # typing the missing field on a new line above `profiles:`, one key at a time
        shape.registry_line = own_fields[-1] + 1
        shape.registry_edits = _typing(shape.registry_line, f"{reg_ind}default_profile_slug: agent-{0:06d}")
    else:
        shape.registry_line = next(i for i in own_fields if lines[i].strip().startswith("default_profile_slug:"))
        line = lines[shape.registry_line]
        # retyping the last character of the default's value
        shape.registry_edits = [(shape.registry_line, len(line) - 1, shape.registry_line, len(line), ""),
                                (shape.registry_line, len(line) - 1, shape.registry_line, len(line) - 1, line[-1])]
    return shape


def _typing(line: int, typed: str) -> list[tuple[int, int, int, int, str]]:
    """Type `typed` on a new line before `line`, one key at a time, then delete it the same way."""
    out = [(line, 0, line, 0, "\n")]
    out += [(line, i, line, i, ch) for i, ch in enumerate(typed)]
    out += [(line, i, line, i + 1, "") for i in range(len(typed) - 1, -1, -1)]
    out.append((line, 0, line + 1, 0, ""))
    return out


def parse_shapes(text: str) -> list[tuple[str, str]]:
    """A benchmark's `--shapes FORM/STYLE,...` option."""
    pairs = []
    for item in filter(None, text.split(",")):
        form, _, style = item.partition("/")
        if form not in FORMS or style not in STYLES:
            raise SystemExit(f"--shapes {item!r}: expected FORM/STYLE, FORM one of {FORMS}, STYLE one of {STYLES}")
        pairs.append((form, style))
    return pairs


def parse_broken_states(text: str, option: str) -> list[str]:
    """A benchmark's option naming broken states, comma-separated ('' none)."""
    states = [state for state in text.split(",") if state]
    unknown = [state for state in states if state not in BROKEN_STATES]
    if unknown:
        raise SystemExit(f"{option}: unknown state {unknown[0]!r} (one of {', '.join(BROKEN_STATES)})")
    return states
