/**
 * Builds the three bundles with ncc, each in a process of its own, at the same time: the action
 * (src/action/index.ts -> <out>/index.js), the CLI (src/cli/index.ts -> <out>/cli/index.js) and
 * the udata emulator as a command of its own (emulator/cli.ts -> <out>/emulator/index.js).
 * Unminified ESM, with the licenses of what they include. The bundles package.json names as `bin`
 * start with `#!/usr/bin/env node` (their entries' first line, which ncc keeps) and are made
 * executable, so that npm's links to them run with Node. Then <out>/built-from.json: the sha256
 * of the build's inputs (`INPUTS`) and of every file written, with which scripts/check-dist.ts
 * tells that dist/ is current without building it again.
 *
 *   npm run bundle            # into dist/
 *   tsx scripts/bundle.ts DIR # into DIR (scripts/check-dist.ts)
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const ENTRIES: ReadonlyArray<readonly [entry: string, out: string]> = [
  ['src/action/index.ts', '.'],
  ['src/cli/index.ts', 'cli'],
  ['emulator/cli.ts', 'emulator'],
]

/**
 * What a build reads besides node_modules (which package-lock.json pins, ncc's version included):
 * the sources of the three entries, the compiler's settings, this script.
 */
const INPUTS = [
  'src',
  'emulator',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/bundle.ts',
]

/** In the folders of `INPUTS`, the files a build can read (not editors' or systems' leftovers). */
const SOURCE = /\.(ts|js|cjs|mjs|json)$/

/** Written by `bundle` beside the bundles: what they were built from. */
export const MANIFEST = 'built-from.json'

export interface Manifest {
  /** sha256 of every input file's path and content (`inputsHash`). */
  inputs: string
  /** sha256 of every file of the output folder but this one, by path relative to it. */
  files: Record<string, string>
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/** Files below `dir`, by path relative to it (`/`-separated), sorted. */
export async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
    .sort()
}

/** sha256 over the path and content of every input file, in path order. */
export async function inputsHash(): Promise<string> {
  const files: string[] = []
  for (const input of INPUTS) {
    const full = path.join(root, input)
    if ((await stat(full)).isDirectory())
      files.push(
        ...(await filesBelow(full)).filter((f) => SOURCE.test(f)).map((f) => `${input}/${f}`),
      )
    else files.push(input)
  }
  const hash = createHash('sha256')
  for (const file of files.sort()) {
    const content = await readFile(path.join(root, file))
    hash.update(`${file}\0${content.length}\0`).update(content)
  }
  return hash.digest('hex')
}

/** The sha256 of every file below `dir` but the manifest. */
export async function filesHashes(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {}
  for (const file of await filesBelow(dir))
    if (file !== MANIFEST) hashes[file] = sha256(await readFile(path.join(dir, file)))
  return hashes
}

export async function bundle(outDir: string): Promise<void> {
  const inputs = await inputsHash()
  await rm(outDir, { recursive: true, force: true })
  const ncc = path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
  // One process per bundle, all at once: 20 s instead of 31 s one after another, on 2 cores.
  await Promise.all(
    ENTRIES.map(async ([entry, out]) => {
      const args = [ncc, 'build', entry, '-o', path.join(outDir, out)]
      args.push('--license', 'licenses.txt', '--target', 'es2022', '-q')
      try {
        await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 1 << 26 })
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
        throw new Error(`ncc build ${entry} failed:\n${stdout}${stderr}`, { cause: error })
      }
    }),
  )
  await makeExecutable(outDir)
  const manifest: Manifest = { inputs, files: await filesHashes(outDir) }
  await writeFile(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`)
}

/**
 * Each `bin` of package.json (a path under dist/), as built into `outDir`: it must start with the
 * shebang (else npm's link runs it with the shell), and is made executable.
 */
async function makeExecutable(outDir: string): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>
  }
  for (const [name, bin] of Object.entries(pkg.bin ?? {})) {
    const file = path.join(outDir, path.relative('dist', bin))
    const head = (await readFile(file, 'utf8')).slice(0, 20)
    if (head !== '#!/usr/bin/env node\n')
      throw new Error(
        `${bin} (bin ${name}) does not start with #!/usr/bin/env node: add it to its entry`,
      )
    await chmod(file, 0o755)
  }
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  await bundle(path.resolve(root, process.argv[2] ?? 'dist'))
}
