import { defineConfig } from 'vitest/config'

/**
 * `npm run test:udata`: the conformance suite against real udata (test/udata/, every version of
 * the kit of real udata, test/udata/kit.ts). Apart from `npm test`: it needs the kit's Debian packages.
 */
export default defineConfig({
  test: {
    include: ['test/udata/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file starts its own udata servers (one Python process per version): two files at once.
    maxWorkers: 2,
    reporters: [
      'default',
      ['json', { outputFile: process.env.VITEST_JSON_REPORT || '.tmp/vitest-report-udata.json' }],
    ],
  },
})
