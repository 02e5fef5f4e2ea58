"""`profreg init [PATH]`: a new, commented starter registry file to edit by hand.

The file is valid as written (the test reads it with the validation engine and resolves
its profile), in bundle form, as the YAML store writes new files, so `--store PATH`
writes go straight into it and keep its comments.
"""
from __future__ import annotations

import os
import shlex

import click

from ..errors import StoreError, UsageError

DEFAULT_PATH = "profiles.yaml"
YAML_SUFFIXES = (".yaml", ".yml")

STARTER = """\
# profreg
# A profile registry: named presets (system prompt, middlewares, tools, settings patch)
# that applications resolve at run time. The first line marks the file as a registry for
# the language server and `profreg validate DIR`.
#
#   profreg validate {path}
#   profreg resolve assistant --store {path}
#   profreg profile create default/NAME --system-prompt "..." --store {path}
#
# Writes through `--store {path}` keep these comments. Reference: `profreg schema`.

registries:
  default:                          # `default` is the registry used when none is named
    display_name: Default registry
    default_profile_slug: assistant   # resolved when a request names no profile
    profiles:
      # An example profile: change it, copy it, or delete it.
      assistant:
        display_name: Assistant
        description: A helpful general-purpose assistant.
        runtime:
          system_prompt: You are a helpful assistant. Answer briefly.
          # middlewares run in order; each has a name and an optional config
          middlewares:
            - name: logging
              config: {{level: info}}
          tools: [search]
          # merged (RFC 7386) over the caller's base settings; `null` removes a key
          step_settings_patch:
            ai-chat:
              ai-engine: gpt-4o-mini
              ai-temperature: 0.2
        policy:
          # what a request may override (`resolve --set KEY=VALUE`); without a policy,
          # nothing may be overridden
          allow_overrides: true
          allowed_override_keys: [system_prompt, tools, step_settings_patch]
          read_only: false
"""


@click.command("init")
@click.argument("path", required=False, metavar="[PATH]")
def init_command(path: str | None) -> None:
    """Write a new registry file (default: ./profiles.yaml; a folder gets profiles.yaml in it)
    with one commented example profile. An existing file is never replaced (exit 2)."""
    target = path or DEFAULT_PATH
    if os.path.isdir(target):
        target = os.path.join(target, DEFAULT_PATH)
    if not target.lower().endswith(YAML_SUFFIXES):
        raise UsageError(f"{target}: a registry file's name ends in .yaml or .yml (so --store reads it as YAML)")
    text = STARTER.format(path=_shell_word(target))
    parent = os.path.dirname(target)
    try:
        if parent:
            os.makedirs(parent, exist_ok=True)
        # O_EXCL: a file that appears meanwhile is not replaced either. Private, as new stores are.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise UsageError(f"{target} already exists; not replaced (choose another PATH)") from None
    except OSError as exc:
        raise StoreError(f"cannot create {target}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"wrote {target}: registry default with the example profile assistant; "
               f"try: profreg resolve assistant --store {_shell_word(target)}")


def _shell_word(text: str) -> str:
    return shlex.quote(text)
