/** The package version, checked against package.json by test/contract.test.ts. */
export const VERSION = '0.1.0'
