/**
 * Fails when the committed dist/ is not what src/ builds: rebuilds into a scratch folder and
 * compares every file both ways (a new or missing file counts, not only changed ones).
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { bundle, root } from './bundle.js'

const scratch = path.join(root, '.tmp', 'dist-check')
await bundle(scratch)
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
  else if (
    !(await readFile(path.join(scratch, file))).equals(
      await readFile(path.join(root, 'dist', file)),
    )
  )
    problems.push(`dist/${file} differs from the build`)
}
await rm(scratch, { recursive: true, force: true })
if (problems.length > 0) {
  console.error(
    `dist/ is out of date: run 'npm run bundle' and commit dist/.\n${problems.map((p) => `- ${p}`).join('\n')}`,
  )
  process.exit(1)
}
console.log(`dist/ matches the build of src/ (${built.length} files)`)
