#!/usr/bin/env bash
# Builds the VS Code extension and packages it as editors/vscode/profreg.vsix
# (the code-server end-to-end test installs that file). Its node_modules are installed
# once per lock file under a cache outside the repo and linked in, so a fresh clone
# (as in CI) does not run npm ci again.
set -euo pipefail
. "$(dirname "$0")/../lib/npm-ci-cached.sh"
CACHE="${PROFREG_CI_CACHE:-$HOME/.cache/profreg-ci}"
cd "$(dirname "$0")/../../editors/vscode"

npm_ci_cached vscode-extension

# Rebuild only when the sources or the manifest changed since the last build.
build_key=$(cat package.json package-lock.json tsconfig.json .vscodeignore README.md LICENSE \
  $(find src -type f | sort) | sha256sum | cut -c1-64)
if [ -e profreg.vsix ] && [ "$(cat out/.build-key 2>/dev/null)" = "$build_key" ]; then
  exit 0
fi
npm run --silent compile
log=$(mktemp)
npx --no-install vsce package --allow-missing-repository --out profreg.vsix >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
echo "$build_key" > out/.build-key
