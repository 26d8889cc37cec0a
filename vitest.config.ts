import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The conformance suite against real udata runs apart: npm run test:udata (vitest.udata.config.ts).
    exclude: ['test/udata/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn the bundled action and move large files: keep the 2-core machine calm.
    maxWorkers: 2,
    // The JSON report lets .ci/run print one closing line of counts (VITEST_JSON_REPORT: the Node 24 run's own file).
    reporters: [
      'default',
      ['json', { outputFile: process.env.VITEST_JSON_REPORT || '.tmp/vitest-report.json' }],
    ],
  },
})
