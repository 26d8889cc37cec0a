/**
 * The npm package as a user gets it: `npm pack`, then installed from the tarball into an empty
 * folder, offline. It holds the CLI and the emulator (not the action's bundle), installs nothing
 * else, every bin answers `--help`, and the README's "CLI + local emulator in five minutes" runs
 * as written in bash with the installed bins: its install line installs the tarball instead of
 * the GitHub release, and the emulator listens on a free port instead of 8080 (the only two
 * changes). The bins run on $ACTION_NODE (scripts/test-node24.sh: Node 24) through their
 * `#!/usr/bin/env node` line, as npm's links run them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentReferences, root } from '../../scripts/release-refs.js'
import { actionNode } from '../../scripts/run-action.js'
import { VERSION } from '../../src/version.js'
import { codeBlocks } from '../helpers/readme/markdown.js'
import { bash } from '../helpers/readme/terminal.js'

const FIVE_MINUTES = 'CLI + local emulator in five minutes'

interface PackageJson {
  name: string
  private?: boolean
  bin: Record<string, string>
}

const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as PackageJson
/** PATH with the Node under test first: `#!/usr/bin/env node` finds it. */
const env = {
  PATH: `${path.dirname(actionNode())}:${process.env.PATH ?? ''}`,
  HOME: process.env.HOME ?? '/tmp',
  npm_config_update_notifier: 'false',
}

let out = ''
let tarball = ''
let files: string[] = []
let unpackedSize = 0

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'package-'))
  const packed = await bash(`npm pack --json --pack-destination '${out}'`, root, {
    ...env,
    PATH: process.env.PATH ?? '',
  })
  expect(packed.code, packed.stderr).toBe(0)
  const [info] = JSON.parse(packed.stdout) as Array<{
    filename: string
    unpackedSize: number
    files: Array<{ path: string }>
  }>
  tarball = path.join(out, info?.filename ?? '')
  files = (info?.files ?? []).map((f) => f.path).sort()
  unpackedSize = info?.unpackedSize ?? 0
})

afterAll(async () => {
  await rm(out, { recursive: true, force: true })
})

/** Installs the tarball into `dir` offline, as a user does into a new folder. */
async function install(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const done = await bash(`npm install --offline --no-audit --no-fund '${tarball}'`, dir, env)
  expect(done.code, done.stderr).toBe(0)
}

describe('the npm package', () => {
  it('is named as its CLI and publishable, and holds the CLI, the emulator and their docs only', () => {
    console.log(`npm pack: ${files.length} files, ${(unpackedSize / 1e6).toFixed(2)} MB unpacked`)
    expect(pkg.name).toBe('datagouv-publish')
    expect(Object.keys(pkg.bin)).toContain(pkg.name)
    expect(pkg.private).toBeUndefined()
    expect(files).toEqual(
      [
        'LICENSE',
        'README.md',
        'dist/cli/index.js',
        'dist/cli/licenses.txt',
        'dist/cli/package.json',
        'dist/emulator/index.js',
        'dist/emulator/licenses.txt',
        'dist/emulator/package.json',
        // The emulator's --help points to its README, which cites the protocol notes by section.
        'docs/udata-protocol.md',
        'emulator/README.md',
        'package.json',
      ].sort(),
    )
  })

  it('installs offline into an empty folder with nothing else, and every bin answers --help', async () => {
    const prefix = path.join(out, 'bins')
    await install(prefix)
    const modules = (await readdir(path.join(prefix, 'node_modules'))).filter(
      (d) => !d.startsWith('.'),
    )
    expect(modules).toEqual([pkg.name])
    for (const bin of Object.keys(pkg.bin)) {
      const help = await bash(`npx ${bin} --help`, prefix, env)
      expect(help.code, `${bin}: ${help.stderr}`).toBe(0)
      expect(help.stdout, bin).toMatch(new RegExp(`Usage: ${bin}\\b`))
    }
    const version = await bash('npx datagouv-publish --version', prefix, env)
    expect(version.stdout.trim()).toBe(VERSION)
    // The bins run on the Node under test: the one `#!/usr/bin/env node` finds first.
    const node = await bash(`node --version && '${actionNode()}' --version`, prefix, env)
    const [found, wanted] = node.stdout.trim().split('\n')
    expect(found).toBe(wanted)
  }, 180_000)

  it(`runs "${FIVE_MINUTES}" of the README as written, with the installed bins`, async () => {
    const blocks = codeBlocks(await readFile(path.join(root, 'README.md'), 'utf8')).filter(
      (b) => b.heading === FIVE_MINUTES,
    )
    expect(blocks.map((b) => b.lang)).toEqual(['sh', 'sh'])
    const [first, second] = blocks.map((b) => b.text) as [string, string]
    const { repository, version } = currentReferences()
    const release = `npm install git+https://github.com/${repository}.git#v${version.split('.')[0]}`
    expect(first).toContain(release)
    expect(first).toMatch(/^npx udata-emulator$/m)
    const base = path.join(out, 'five-minutes')
    await mkdir(base)

    const emulator = spawn(
      'bash',
      [
        '-e',
        '-c',
        first
          .replace(release, `npm install --offline --no-audit --no-fund '${tarball}'`)
          .replace(/^npx udata-emulator$/m, 'exec npx udata-emulator --port 0'),
      ],
      { cwd: base, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    try {
      const url = await listening(emulator)
      const run = await bash(
        `set -e\n${second.split('http://127.0.0.1:8080').join(url)}`,
        base,
        env,
      )
      expect(run.code, run.stdout + run.stderr).toBe(0)
      // The last line: what the API holds, the file published by the second command among it.
      expect(run.stdout).toContain('"title": "ventes.csv"')
      // What the prose says: the dry run writes nothing, the third run finds nothing to send.
      const requests = (await (await fetch(`${url}/__emulator/requests`)).json()) as Array<{
        method: string
        path: string
      }>
      const writes = requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')
      expect(writes.filter((w) => w.path.endsWith('/upload/'))).toHaveLength(1)
    } finally {
      if (emulator.pid !== undefined && emulator.exitCode === null)
        process.kill(-emulator.pid, 'SIGINT')
      await new Promise((resolve) => emulator.once('close', resolve))
    }
    // An npm install and six npx starts: on a loaded two-core runner this outlasts the default
    // minute (measured 60.5 s at a load average of 11), though nothing is wrong.
  }, 240_000)
})

/** The emulator's URL, from the JSON line it prints once listening (npm's lines come before). */
async function listening(child: ChildProcess): Promise<string> {
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  return new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('{"url"')) resolve((JSON.parse(line) as { url: string }).url)
    })
    child.once('exit', (code) => reject(new Error(`the first terminal ended (${code}): ${stderr}`)))
  })
}
