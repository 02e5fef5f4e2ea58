#!/usr/bin/env bash
# ajv and yaml-language-server for the schema-reuse tests and the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/../../tests/node"
npm ci --no-audit --no-fund --loglevel=error
