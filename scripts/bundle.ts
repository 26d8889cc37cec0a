/**
 * Builds the two bundles with ncc: the action (src/action/index.ts -> <out>/index.js) and the CLI
 * (src/cli/index.ts -> <out>/cli/index.js), and the udata emulator as a command of its own
 * (emulator/cli.ts -> <out>/emulator/index.js). Unminified ESM, with the licenses of what they include.
 *
 *   npm run bundle            # into dist/
 *   tsx scripts/bundle.ts DIR # into DIR (scripts/check-dist.ts)
 */
import { execFileSync } from 'node:child_process'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export const ENTRIES: ReadonlyArray<readonly [entry: string, out: string]> = [
  ['src/action/index.ts', '.'],
  ['src/cli/index.ts', 'cli'],
  ['emulator/cli.ts', 'emulator'],
]

export async function bundle(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true })
  const ncc = path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
  for (const [entry, out] of ENTRIES) {
    execFileSync(
      process.execPath,
      [
        ncc,
        'build',
        entry,
        '-o',
        path.join(outDir, out),
        '--license',
        'licenses.txt',
        '--target',
        'es2022',
        '-q',
      ],
      {
        cwd: root,
        stdio: 'inherit',
      },
    )
  }
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  await bundle(path.resolve(root, process.argv[2] ?? 'dist'))
}
