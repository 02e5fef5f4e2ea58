"""`profreg schema`: print the JSON Schema."""
from __future__ import annotations

import click
from ..schemafile import schema_text


@click.command("schema")
def schema_command() -> None:
    """Print the registry JSON Schema (draft 2020-12)."""
    click.echo(schema_text(), nl=False)
