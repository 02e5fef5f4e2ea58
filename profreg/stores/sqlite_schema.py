"""The SQLite store's schema, as sqlite-utils migrations (set "profreg").

Imported only when a database has a migration pending (a new file, or one written by the
Go implementation): sqlite-utils is slow to import and an up-to-date database does not need
it (`SqliteStore` reads the migrations table itself). The set's and the table's names are
the ones `profreg.stores.sqlite` reads by; a test keeps the two modules in step (this one
imports nothing from the store, which imports it).
"""
from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .sqlrows import TABLE, VERSIONS_TABLE

MIGRATIONS = Migrations("profreg")


@MIGRATIONS(name="0001_profile_registries")
def _create_registries_table(db: Database) -> None:
    # IF NOT EXISTS: a database created by the Go implementation already has the table.
    db.execute(
        "CREATE TABLE IF NOT EXISTS profile_registries ("
        "slug TEXT PRIMARY KEY, "
        "payload_json TEXT NOT NULL, "
        "updated_at_ms INTEGER NOT NULL DEFAULT 0)"
    )


# One row per committed mutation; `id` orders them (a registry created again after a delete
# starts at version 1 again). A NULL payload records a deletion.
VERSIONS_COLUMNS = ("id INTEGER PRIMARY KEY, slug TEXT NOT NULL, version INTEGER NOT NULL, payload_json TEXT, "
                    "updated_at_ms INTEGER NOT NULL DEFAULT 0, updated_by TEXT NOT NULL DEFAULT '', "
                    "source TEXT NOT NULL DEFAULT ''")


@MIGRATIONS(name="0002_profile_registry_versions")
def _create_versions_table(db: Database) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} ({VERSIONS_COLUMNS})")
    db.execute(f"CREATE INDEX IF NOT EXISTS {VERSIONS_TABLE}_slug_id ON {VERSIONS_TABLE} (slug, id)")


def apply_migrations(conn: sqlite3.Connection) -> None:
    """Apply the pending migrations on `conn` (inside the caller's transaction)."""
    MIGRATIONS.apply(Database(conn, execute_plugins=False))
