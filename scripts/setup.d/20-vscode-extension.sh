#!/usr/bin/env bash
# Builds the VS Code extension and packages it as editors/vscode/profreg.vsix
# (the code-server end-to-end test installs that file). npm ci only runs when the
# lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../../editors/vscode"
stamp=node_modules/.profreg-lock.sha256
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  sha256sum package-lock.json > "$stamp"
fi
npm run --silent compile
log=$(mktemp)
npx --no-install vsce package --out profreg.vsix >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
