/**
 * The import rules of ARCHITECTURE.md, checked on every file of src/: a part imports only the
 * parts below it, and only the action's edge knows the runner (@actions/*); only the entry points
 * read the process; only test/bundle/ spawns the bundles.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { longFunctions } from './helpers/long-functions.js'

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src')

/** Each part and the project parts it may import (itself always allowed). */
const ALLOWED: Record<string, readonly string[]> = {
  action: ['engine', 'datagouv', 'files', 'util', 'version'],
  cli: ['engine', 'datagouv', 'files', 'util', 'version'],
  engine: ['datagouv', 'diff', 'files', 'util'],
  diff: ['datagouv', 'files', 'util'],
  datagouv: ['files', 'util'],
  files: ['util'],
  util: [],
  version: [],
}

/** Packages that belong to one part only. */
const PACKAGES_ONLY_IN: Record<string, string> = {
  '@actions/github': 'action',
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory()
        ? sources(path.join(dir, e.name))
        : Promise.resolve(e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []),
    ),
  )
  return nested.flat()
}

function partOf(file: string, root = SRC): string {
  const [first = ''] = path.relative(root, file).split(path.sep)
  return first.replace(/\.(ts|js)$/, '')
}

function importsOf(text: string): string[] {
  const specifiers: string[] = []
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm))
    specifiers.push(match[1] as string)
  for (const match of text.matchAll(/import\(\s*'([^']+)'\s*\)/g))
    specifiers.push(match[1] as string)
  return specifiers
}

/** Every import that crosses a forbidden line, as `file -> specifier (why)`. */
async function violations(root = SRC): Promise<string[]> {
  const found: string[] = []
  for (const file of await sources(root)) {
    const part = partOf(file, root)
    const allowed = ALLOWED[part]
    const where = path.relative(root, file)
    if (allowed === undefined) {
      found.push(`${where}: not in a known part (${Object.keys(ALLOWED).join(', ')})`)
      continue
    }
    for (const specifier of importsOf(await readFile(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = partOf(path.resolve(path.dirname(file), specifier), root)
        if (target !== part && !allowed.includes(target))
          found.push(`${where} -> ${specifier} (${part} may not import ${target})`)
        continue
      }
      const owner = Object.entries(PACKAGES_ONLY_IN).find(
        ([name]) => specifier === name || specifier.startsWith(`${name}/`),
      )?.[1]
      if (owner !== undefined && owner !== part)
        found.push(`${where} -> ${specifier} (only ${owner} may use it)`)
    }
  }
  return found.sort()
}

describe('architecture', () => {
  it('every import in src/ follows the rules of ARCHITECTURE.md', async () => {
    expect(await violations()).toEqual([])
  })

  it('the check sees a forbidden import', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'arch-'))
    const write = async (file: string, text: string) => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true })
      await writeFile(path.join(root, file), text)
    }
    try {
      await write(
        'engine/a.ts',
        "import { run } from '../action/main.js'\nimport { x } from './b.js'\n",
      )
      await write('datagouv/b.ts', "export { plan } from '../engine/plan.js'\n")
      await write('files/c.ts', "import * as github from '@actions/github'\n")
      await write(
        'cli/d.ts',
        "import { execute } from '../engine/engine.js'\nconst m = await import('../action/main.js')\n",
      )
      expect(await violations(root)).toEqual([
        'cli/d.ts -> ../action/main.js (cli may not import action)',
        'datagouv/b.ts -> ../engine/plan.js (datagouv may not import engine)',
        'engine/a.ts -> ../action/main.js (engine may not import action)',
        'files/c.ts -> @actions/github (only action may use it)',
      ])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('no function in src/ is longer than 60 lines without a written reason (`Long:`)', async () => {
    const files = await sources(SRC)
    const long = await Promise.all(
      files.map(async (file) =>
        longFunctions(path.relative(SRC, file), await readFile(file, 'utf8')),
      ),
    )
    expect(long.flat()).toEqual([])
  })

  it("only the entry points read the process's environment and working directory", async () => {
    // The rest takes them as arguments (a Runner, the CLI's Io, EngineOptions): a run in a test
    // has its own, and tests in one worker cannot leak into each other through them.
    const entries = new Set(['action/runner.ts', 'cli/index.ts'])
    const readers: string[] = []
    for (const file of await sources(SRC)) {
      const name = path.relative(SRC, file).split(path.sep).join('/')
      if (!entries.has(name) && /process\.(env|cwd\(|argv)/.test(await readFile(file, 'utf8')))
        readers.push(name)
    }
    expect(readers).toEqual([])
  })

  it('ARCHITECTURE.md states the same rules', async () => {
    const doc = await readFile(path.join(SRC, '../ARCHITECTURE.md'), 'utf8')
    for (const [part, allowed] of Object.entries(ALLOWED)) {
      if (part === 'version') continue
      const imports = allowed.length === 0 ? 'nothing' : allowed.map((a) => `\`${a}\``).join(', ')
      // One row of the table: the folder, what it holds, what it may import (cells padded or not).
      const line = new RegExp(`\\|\\s*\`src/${part}/\`\\s*\\|[^\\n]*\\|\\s*${imports}\\s*\\|`)
      expect(doc, part).toMatch(line)
    }
  })
})

describe('tests', () => {
  it('only test/bundle/ runs the bundles, which scripts/test-node24.sh runs again on Node 24', async () => {
    const tests = path.resolve(SRC, '../test')
    const spawners: string[] = []
    for (const entry of await readdir(tests, { withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.test.ts')) continue
      if (entry.name === path.basename(fileURLToPath(import.meta.url))) continue // names them
      const text = await readFile(path.join(tests, entry.name), 'utf8')
      if (/\b(runAction|runBundle|runCliBundle|startCli)\(/.test(text)) spawners.push(entry.name)
    }
    expect(spawners).toEqual([])
    expect(await readFile(path.resolve(SRC, '../scripts/test-node24.sh'), 'utf8')).toContain(
      'test/bundle/*.test.ts',
    )
  })
})
