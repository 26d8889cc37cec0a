#!/usr/bin/env bash
# The integration tests again, with the bundles (dist/index.js, dist/cli/index.js) run by Node 24,
# the runtime of `runs.using: node24`, fetched from the npm registry by scripts/node24.ts. Vitest
# itself stays on the Node that runs this script; the tests' child processes take $ACTION_NODE.
# The JSON report goes to .tmp/vitest-report-node24.json. Fails (exit 1) when Node 24 cannot be had.
#
#   npm run test:node24
set -euo pipefail
cd "$(dirname "$0")/.."
if ! node24=$(node_modules/.bin/tsx scripts/node24.ts); then
  echo "::error::cannot obtain Node 24 from the npm registry (scripts/node24.ts); the integration tests did not run on it" >&2
  exit 1
fi
# The test files that run a bundle: through the fixture, the CLI runner or scripts/run-action.ts.
mapfile -t files < <(grep -lE "helpers/(fixture|run-cli)|scripts/run-action" test/*.test.ts)
if [ "${#files[@]}" -eq 0 ]; then
  echo "::error::no integration test file found" >&2
  exit 1
fi
echo "Integration tests with the bundles on $("$node24" --version) ($node24): ${files[*]}"
ACTION_NODE="$node24" VITEST_JSON_REPORT=.tmp/vitest-report-node24.json node_modules/.bin/vitest run "${files[@]}"
