#!/usr/bin/env bash
# ajv and yaml-language-server for the schema-reuse tests and the benchmarks.
set -euo pipefail
. "$(dirname "$0")/../lib/npm-ci-cached.sh"
cd "$(dirname "$0")/../../tests/node"
npm_ci_cached test-tools
