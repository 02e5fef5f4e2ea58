# Sourced: postgres_bin_dir prints the folder holding initdb and pg_ctl (PATH first, then
# Debian's /usr/lib/postgresql/N/bin, newest N), or fails.
postgres_bin_dir() {
  local found
  if found=$(command -v pg_ctl) && [ -x "$(dirname "$(readlink -f "$found")")/initdb" ]; then
    dirname "$(readlink -f "$found")"
    return 0
  fi
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] && [ -x "$found/pg_ctl" ] && [ -x "$found/initdb" ] || return 1
  echo "$found"
}
