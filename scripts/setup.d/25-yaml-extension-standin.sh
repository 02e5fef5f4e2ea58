#!/usr/bin/env bash
# Packages tests/editors/yaml-extension (a test stand-in for Red Hat's YAML extension,
# which cannot be installed here: it is published on the marketplaces only) as a .vsix
# for the side-by-side end-to-end test. Uses vsce from the profreg extension's tools.
set -euo pipefail
. "$(dirname "$0")/../lib/npm-ci-cached.sh"
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here/tests/editors/yaml-extension"
npm_ci_cached yaml-extension-standin
build_key=$(cat package.json package-lock.json extension.js | sha256sum | cut -c1-64)
if [ -e yaml-standin.vsix ] && [ "$(cat .build-key 2>/dev/null)" = "$build_key" ]; then
  exit 0
fi
log=$(mktemp)
"$here/editors/vscode/node_modules/.bin/vsce" package --allow-missing-repository --skip-license \
  --out yaml-standin.vsix >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
echo "$build_key" > .build-key
