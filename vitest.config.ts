import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn the bundled action and move large files: keep the 2-core machine calm.
    maxWorkers: 2,
    // The JSON report lets .ci/run print one closing line of counts.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-report.json' }]],
  },
})
