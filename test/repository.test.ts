/**
 * What users copy and install: the README's examples name this repository and its current major
 * tag, and parse; the package needs nothing but its bundles; dist/ is marked generated. The
 * examples run in test/readme.test.ts, the packed package in test/bundle/package.test.ts.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import {
  expectedFiles,
  fillReferences,
  pinnedMajors,
  repositoryOf,
  root,
} from '../scripts/release-refs.js'

const run = promisify(execFile)

interface PackageJson {
  name: string
  version: string
  dependencies?: Record<string, string>
  devDependencies: Record<string, string>
  repository: { type: string; url: string }
  bugs: { url: string }
  homepage: string
  bin: Record<string, string>
}

const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as PackageJson
const readme = await readFile(path.join(root, 'README.md'), 'utf8')

describe('references to the repository', () => {
  it('package.json names the repository once, and bugs and homepage agree with it', () => {
    const repository = repositoryOf(pkg)
    expect(repository).toMatch(/^[\w.-]+\/[\w.-]+$/)
    expect(pkg.repository.type).toBe('git')
    expect(pkg.bugs.url).toBe(`https://github.com/${repository}/issues`)
    expect(pkg.homepage).toBe(`https://github.com/${repository}#readme`)
  })

  it('README, CHANGELOG, CONTRIBUTING and src/version.ts are what scripts/release-refs.ts fills in from it', () => {
    for (const { file, now, expected } of expectedFiles())
      expect(now, `${file}: run tsx scripts/release-refs.ts`).toBe(expected)
    const uses = [...readme.matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@(\S+)/g)].map(
      (m) => `${m[1]}@${m[2]}`,
    )
    expect(uses).toContain(`${repositoryOf(pkg)}@v${pkg.version.split('.')[0]}`)
    expect(uses.filter((u) => u.startsWith('actions/checkout@'))).not.toHaveLength(0)
    for (const u of uses)
      expect(u, 'an example older than what the workflows pin').not.toMatch(
        /^actions\/(checkout|upload-artifact|download-artifact)@v[1-6]$/,
      )
  })

  it('fills in a new name, a new major, and the majors the workflows pin', () => {
    const text = [
      '      - uses: actions/checkout@v4',
      '      - uses: old-owner/old-name@v0',
      'npm install -g git+https://github.com/old-owner/old-name.git#v0',
      '[Unreleased]: https://github.com/old-owner/old-name/commits/main',
      '      - uses: actions/cache@v4',
    ].join('\n')
    const pinned = pinnedMajors([
      '      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1',
    ])
    expect(fillReferences(text, { repository: 'new/repo', version: '1.2.3', pinned })).toBe(
      [
        '      - uses: actions/checkout@v7',
        '      - uses: new/repo@v1',
        'npm install -g git+https://github.com/new/repo.git#v1',
        '[Unreleased]: https://github.com/new/repo/commits/main',
        '      - uses: actions/cache@v4',
      ].join('\n'),
    )
  })
})

describe('README examples', () => {
  const steps = (): Array<Record<string, unknown>> => {
    const found: Array<Record<string, unknown>> = []
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk)
      else if (node !== null && typeof node === 'object') {
        const record = node as Record<string, unknown>
        if (
          typeof record.uses === 'string' &&
          !record.uses.startsWith('actions/') &&
          typeof record.with === 'object'
        )
          found.push(record.with as Record<string, unknown>)
        Object.values(record).forEach(walk)
      }
    }
    for (const block of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      for (const document of parseAllDocuments(block[1] ?? '')) {
        expect(document.errors, block[1]).toEqual([])
        walk(document.toJS())
      }
    }
    return found
  }

  it('parse, and their plain lists (files, remove) hold no comment after a name', () => {
    const withs = steps()
    expect(withs.length).toBeGreaterThanOrEqual(5)
    const lists = withs.flatMap((w) =>
      ['files', 'remove'].flatMap((input) => (typeof w[input] === 'string' ? [w[input]] : [])),
    )
    expect(lists.some((l) => l.includes('0f9f5c1e-4b8a-4c39-8a6e-2f3a9b0c1d2e'))).toBe(true)
    for (const list of lists) {
      for (const line of list.split('\n').map((l) => l.trim())) {
        if (line.startsWith('#')) continue
        expect(line, 'a # after a name is part of the name').not.toContain('#')
      }
    }
  })
})

describe('the package', () => {
  it('has no runtime dependency: every library src/ imports is bundled in dist/ and listed as a devDependency', async () => {
    expect(pkg.dependencies ?? {}).toEqual({})
    const imported = new Set<string>()
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const file = path.join(dir, e.name)
        if (e.isDirectory()) await walk(file)
        else if (file.endsWith('.ts')) {
          for (const m of (await readFile(file, 'utf8')).matchAll(
            /^import [^'"]*from '([^'.][^']*)'/gm,
          )) {
            const spec = m[1] as string
            if (spec.startsWith('node:')) continue
            imported.add(
              spec.startsWith('@')
                ? spec.split('/').slice(0, 2).join('/')
                : (spec.split('/')[0] as string),
            )
          }
        }
      }
    }
    await walk(path.join(root, 'src'))
    expect(imported.size).toBeGreaterThan(3)
    for (const name of imported) expect(pkg.devDependencies, name).toHaveProperty(name)
  })

  it('marks dist/ as generated', async () => {
    const { stdout } = await run(
      'git',
      [
        'check-attr',
        'linguist-generated',
        '--',
        'dist/index.js',
        'dist/cli/index.js',
        'src/cli/main.ts',
      ],
      { cwd: root },
    )
    expect(stdout.trim().split('\n')).toEqual([
      'dist/index.js: linguist-generated: true',
      'dist/cli/index.js: linguist-generated: true',
      'src/cli/main.ts: linguist-generated: unspecified',
    ])
  })
})
