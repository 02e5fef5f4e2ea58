#!/usr/bin/env bash
# A PostgreSQL server for the PostgreSQL store tests (scripts/with-postgres starts it):
# Debian's `postgresql` package, installed when no initdb/pg_ctl is found.
set -euo pipefail
. "$(dirname "$0")/../lib/postgres-bin.sh"
if ! postgres_bin_dir >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
postgres_bin_dir >/dev/null || { echo "PostgreSQL server binaries not found after installing postgresql" >&2; exit 1; }
