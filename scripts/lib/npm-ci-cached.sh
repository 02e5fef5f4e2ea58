# Sourced by the setup steps: `npm ci` once per lock file, in a cache outside the repo,
# then linked in as node_modules, so a fresh clone (as in CI) does not download again.
# Usage: npm_ci_cached NAME  (run in the folder holding package.json and package-lock.json)
npm_ci_cached() {
  local cache="${PROFREG_CI_CACHE:-$HOME/.cache/profreg-ci}"
  local store
  store="$cache/npm/$1-$(sha256sum package-lock.json | cut -c1-16)"
  if [ ! -e "$store/.complete" ]; then
    rm -rf "$store" && mkdir -p "$store"
    cp package.json package-lock.json "$store/"
    (cd "$store" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$store/.complete"
  fi
  if [ "$(readlink node_modules || true)" != "$store/node_modules" ]; then
    rm -rf node_modules
    ln -s "$store/node_modules" node_modules
  fi
}
