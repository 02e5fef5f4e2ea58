"""`profreg migrate SRC DEST`: legacy YAML -> registry YAML, YAML -> SQLite, SQLite -> YAML."""
from __future__ import annotations

import click

from ._common import LOCK_TIMEOUT_META, lock_timeout_option, lock_wait_notice, registry_slug_arg
from ..migrate import LockWait, migrate


@click.command("migrate")
@click.argument("source", metavar="SRC", type=click.Path(dir_okay=False))
@click.argument("dest", metavar="DEST", type=click.Path(dir_okay=False))
@click.option("--registry", "-r", metavar="R",
              help="The slug a legacy SRC becomes (default: `default`); for other sources, copy only R.")
@click.option("--dry-run", is_flag=True, help="Print what would be written to stdout; write nothing.")
@click.option("--force", is_flag=True, help="Replace the content of a DEST that already holds data.")
@click.option("--show-secrets", is_flag=True, help="With --dry-run: print secret-looking values instead of `***`.")
@lock_timeout_option
def migrate_command(source: str, dest: str, registry: str | None, dry_run: bool, force: bool,
                    show_secrets: bool) -> None:
    """Copy every registry of SRC into DEST, keeping all metadata (versions included).

    Store files are named like `--store` specs: PATH.yaml/.yml, PATH.db/.sqlite/.sqlite3,
    yaml:PATH, sqlite:PATH. A DEST that holds data is refused (exit 2) without --force.
    YAML -> YAML keeps the source's text (comments, layout) where its form stays (bundle,
    single); a legacy or SQLite source becomes a bundle-form file (stderr says when comments
    are dropped). --lock-timeout bounds the wait for another writer of DEST (exit 6 after it).
    """
    timeout = click.get_current_context().meta.get(LOCK_TIMEOUT_META)
    migration = migrate(source, dest, registry=registry_slug_arg(registry) if registry else None,
                        dry_run=dry_run, force=force, lock=LockWait(timeout, lock_wait_notice(dest, timeout)))
    if migration.drops_comments:
        click.echo(f"profreg: note: the comments in {migration.source} are not carried over "
                   f"({migration.source_form} form rewritten as bundle form)", err=True)
    if dry_run:
        click.echo(migration.rendered(masked=not show_secrets), nl=False)
        kept = "; comments and layout kept" if migration.kept_text is not None else ""
        click.echo(f"dry run: would write {migration.summary()}{kept}; nothing written", err=True)
    else:
        click.echo(f"migrated {migration.summary()}")
