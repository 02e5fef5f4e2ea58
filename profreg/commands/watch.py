"""`profreg watch [R]`: change events of a store as JSON lines, until interrupted."""
from __future__ import annotations

import json
import sys

import click

from ._common import STORE_ENV, complete_registry, registry_slug_arg, store_option
from ..client import connect
from ..errors import UsageError


@click.command("watch")
@click.argument("registry", required=False, shell_complete=complete_registry)
@store_option
def watch_command(registry: str | None, store_spec: str | None) -> None:
    """Print a JSON line `{"registry": R, "version": N}` for every change to the store
    (to REGISTRY only, if given) until interrupted (Ctrl-C exits 130).

    Changes by anyone are reported: this or another process, a person saving the YAML
    file. `version` is null for a registry that was deleted.
    """
    if not store_spec:
        raise UsageError(f"no store given: use --store SPEC or set {STORE_ENV}")
    slug = registry_slug_arg(registry) if registry is not None else None
    with connect(store_spec) as client:
        events = client.watch(slug)
        click.echo(f"profreg: watching {store_spec}{f' ({slug})' if slug else ''}; Ctrl-C to stop", err=True)
        for event in events:
            sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
            sys.stdout.flush()
