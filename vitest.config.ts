import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The conformance suite against real udata runs apart: npm run test:udata (vitest.udata.config.ts).
    exclude: ['test/udata/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The action and the CLI run in process against the emulator (test/helpers/runner.ts); only
    // test/bundle/ spawns the bundles. Files run in parallel workers, the tests of a file in order.
    maxWorkers: 2,
    // What a test printed is shown when it fails: the recording runner prints there where an error
    // that failed the step was thrown.
    silent: 'passed-only',
    // The JSON report lets .ci/run print one closing line of counts (VITEST_JSON_REPORT: the Node 24 run's own file).
    reporters: [
      'default',
      ['json', { outputFile: process.env.VITEST_JSON_REPORT || '.tmp/vitest-report.json' }],
    ],
  },
})
