/**
 * Fails when the committed dist/ is not what src/ builds.
 *
 * dist/built-from.json, written by `npm run bundle` (scripts/bundle.ts), records the sha256 of the
 * build's inputs (src/, emulator/, package.json, package-lock.json, tsconfig.json, the bundle
 * script) and of every file of dist/. When the inputs hash the same now and dist/ holds exactly
 * those files with those contents, dist/ is what a build gives, and nothing is built (about a
 * second). Otherwise, or with `--rebuild`, the bundles are built into a scratch folder and every
 * file is compared both ways (a new or missing file counts, not only changed ones), the record
 * included: a dist/ built from other sources fails even where its bundles happen to match. The
 * _Check dist/_ workflow always rebuilds.
 *
 *   tsx scripts/check-dist.ts            # npm test
 *   tsx scripts/check-dist.ts --rebuild  # build and compare, whatever the record says
 */
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import {
  bundle,
  filesBelow,
  filesHashes,
  inputsHash,
  MANIFEST,
  root,
  type Manifest,
} from './bundle.js'

const dist = path.join(root, 'dist')

/** Why the record does not vouch for dist/, or `undefined` when it does. */
async function unrecorded(): Promise<string | undefined> {
  let recorded: Manifest
  try {
    recorded = JSON.parse(await readFile(path.join(dist, MANIFEST), 'utf8')) as Manifest
  } catch {
    return `dist/${MANIFEST} is missing or unreadable`
  }
  if (recorded.inputs !== (await inputsHash()))
    return 'the sources are not those dist/ was built from'
  const now = await filesHashes(dist)
  const names = new Set([...Object.keys(now), ...Object.keys(recorded.files)])
  for (const name of names)
    if (now[name] !== recorded.files[name]) return `dist/${name} is not the file built`
  return undefined
}

/** Builds into a scratch folder; what differs from dist/, file by file. */
async function rebuilt(): Promise<{ problems: string[]; count: number }> {
  const scratch = path.join(root, '.tmp', 'dist-check')
  await bundle(scratch)
  try {
    const built = await filesBelow(scratch)
    const committed = await filesBelow(dist).catch((): string[] => [])
    const problems: string[] = []
    for (const file of new Set([...built, ...committed])) {
      if (!built.includes(file)) problems.push(`dist/${file} is not produced by the build any more`)
      else if (!committed.includes(file))
        problems.push(`dist/${file} is built but missing from dist/`)
      else if (
        !(await readFile(path.join(scratch, file))).equals(await readFile(path.join(dist, file)))
      )
        problems.push(`dist/${file} differs from the build`)
    }
    return { problems, count: built.length }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

const why = process.argv.includes('--rebuild') ? '--rebuild' : await unrecorded()
if (why === undefined) {
  console.log(`dist/ is the build of these sources (dist/${MANIFEST}); nothing rebuilt`)
} else {
  console.log(`${why}: building to compare`)
  const { problems, count } = await rebuilt()
  if (problems.length > 0) {
    console.error(
      `dist/ is out of date: run 'npm run bundle' and commit dist/.\n${problems.map((p) => `- ${p}`).join('\n')}`,
    )
    process.exit(1)
  }
  console.log(`dist/ matches the build of src/ (${count} files)`)
}
