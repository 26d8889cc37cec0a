#!/usr/bin/env bash
# The tests that run the bundles (dist/index.js, dist/cli/index.js) as child processes, again with
# the bundles run by Node 24, the runtime of `runs.using: node24`, fetched from the npm registry by
# scripts/node24.ts. They are the files of test/bundle/ (every other test runs the source in
# process: test/architecture.test.ts fails when a test elsewhere spawns a bundle). Vitest itself
# stays on the Node that runs this script; the tests' child processes take $ACTION_NODE. The JSON
# report goes to .tmp/vitest-report-node24.json. Fails (exit 1) when Node 24 cannot be had.
#
#   npm run test:node24
set -euo pipefail
cd "$(dirname "$0")/.."
if ! node24=$(node_modules/.bin/tsx scripts/node24.ts); then
  echo "::error::cannot obtain Node 24 from the npm registry (scripts/node24.ts); the bundles' tests did not run on it" >&2
  exit 1
fi
mapfile -t files < <(ls test/bundle/*.test.ts 2>/dev/null)
if [ "${#files[@]}" -eq 0 ]; then
  echo "::error::no test file in test/bundle/" >&2
  exit 1
fi
echo "The bundles' tests on $("$node24" --version) ($node24): ${files[*]}"
ACTION_NODE="$node24" VITEST_JSON_REPORT=.tmp/vitest-report-node24.json node_modules/.bin/vitest run "${files[@]}"
