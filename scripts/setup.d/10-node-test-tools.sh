#!/usr/bin/env bash
# ajv and yaml-language-server for the schema-reuse tests and the benchmarks.
# npm ci runs only when the lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../../tests/node"
stamp=node_modules/.profreg-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
