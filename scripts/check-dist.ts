/**
 * Fails when the committed dist/ is not what src/ builds: rebuilds into a scratch folder and
 * compares every file both ways (a new or missing file counts, not only changed ones).
 */
import { execFileSync } from 'node:child_process'
import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const scratch = path.join(root, '.tmp', 'dist-check')
await rm(scratch, { recursive: true, force: true })
execFileSync(
  process.execPath,
  [
    path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
    'build',
    'src/index.ts',
    '-o',
    scratch,
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
const list = async (dir: string) =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort()
const built = await list(scratch)
const committed = await list(path.join(root, 'dist')).catch((): string[] => [])
const problems: string[] = []
for (const file of new Set([...built, ...committed])) {
  if (!built.includes(file)) problems.push(`dist/${file} is not produced by the build any more`)
  else if (!committed.includes(file)) problems.push(`dist/${file} is built but missing from dist/`)
  else if (!(await readFile(path.join(scratch, file))).equals(await readFile(path.join(root, 'dist', file))))
    problems.push(`dist/${file} differs from the build`)
}
await rm(scratch, { recursive: true, force: true })
if (problems.length > 0) {
  console.error(`dist/ is out of date: run 'npm run bundle' and commit dist/.\n${problems.map((p) => `- ${p}`).join('\n')}`)
  process.exit(1)
}
console.log(`dist/ matches the build of src/ (${built.length} files)`)
