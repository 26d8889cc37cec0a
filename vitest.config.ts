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
    // Three workers on two cores: the tests mostly wait (timeouts, backoff, a server that holds a
    // request), and a third file waiting beside two costs little (36 s instead of 50 s, measured).
    maxWorkers: 3,
    // What a test printed is shown when it fails: the recording runner prints there where an error
    // that failed the step was thrown.
    silent: 'passed-only',
    // `npm test` turns it on (vitest run --coverage): what the tests run of src/, in process (the
    // bundles' runs in test/bundle/ are not counted). Per file: .tmp/coverage/coverage-summary.json.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: '.tmp/coverage',
      // A failing run still says what it covered.
      reportOnFailure: true,
      // Below today's figures (about 92 % of lines, 82 % of branches) with room to spare: a floor
      // that catches the source dropping out of the tests, not a target.
      thresholds: { lines: 85, statements: 85, functions: 85, branches: 75 },
    },
    // The JSON report lets .ci/run print one closing line of counts (VITEST_JSON_REPORT: the Node 24 run's own file).
    reporters: [
      'default',
      ['json', { outputFile: process.env.VITEST_JSON_REPORT || '.tmp/vitest-report.json' }],
    ],
  },
})
