import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The emulator as its users run it: the bundled entry as a child process (no tsx, no import of
 * the sources), driven by a bash script with curl as a data producer would write it.
 * The entry is `dist/emulator/index.js` when it exists, else a bundle built here with ncc from
 * emulator/cli.ts (what `npm run bundle` builds), or `$EMULATOR_ENTRY`.
 */

const ROOT = new URL('..', import.meta.url).pathname
const hasCurl = spawnSync('curl', ['--version']).status === 0
const work = mkdtempSync(join(tmpdir(), 'emulator-cli-'))

function entry(): string {
  const given = process.env['EMULATOR_ENTRY']
  if (given !== undefined && given !== '') return given
  const shipped = join(ROOT, 'dist/emulator/index.js')
  if (existsSync(shipped)) return shipped
  const out = join(work, 'bundle')
  const ncc = join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
  const built = spawnSync(
    process.execPath,
    [ncc, 'build', 'emulator/cli.ts', '-o', out, '--target', 'es2022', '--transpile-only', '-q'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
  if (built.status !== 0) throw new Error(`ncc failed: ${built.stderr}`)
  return join(out, 'index.js')
}

const SCRIPT = `#!/usr/bin/env bash
# Publish a CSV to a udata instance: what a data producer's script does, with curl only.
set -euo pipefail
API="$1/api/1"
KEY="$2"
ORG="$3"
H=(-H "X-API-KEY: $KEY" -H "Accept: application/json")

curl -fsS "\${H[@]}" "$API/me/" > me.json
curl -fsS "\${H[@]}" "$API/organizations/$ORG/" > org.json

curl -fsS "\${H[@]}" -H "Content-Type: application/json" \\
  -d "{\\"title\\": \\"Ventes 2024\\", \\"description\\": \\"Published by curl\\", \\"organization\\": \\"$ORG\\"}" \\
  "$API/datasets/" > created.json
id=$(sed -n 's/^{"id": *"\\([0-9a-f]*\\)".*/\\1/p' created.json)
test -n "$id"

printf 'region,total\\nBretagne,12\\n' > "Ventes Bretagne.csv"
curl -fsS "\${H[@]}" -F "file=@Ventes Bretagne.csv" "$API/datasets/$id/upload/" > uploaded.json
curl -fsS "\${H[@]}" "$API/datasets/$id/" > dataset.json
echo "$id"
`

async function start(
  args: string[],
): Promise<{ child: ChildProcess; summary: Record<string, unknown> }> {
  const child = spawn(process.execPath, [entry(), ...args], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`emulator exited (${code})`)))
  })
  return { child, summary: JSON.parse(firstLine) as Record<string, unknown> }
}

let bundled = ''
beforeAll(() => {
  bundled = entry()
}, 120_000)
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('emulator: the bundled command', () => {
  it('documents every option, the seed, fault rules and control endpoints in --help', () => {
    const help = spawnSync(process.execPath, [bundled, '--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    for (const word of [
      '--port',
      '--host',
      '--seed',
      '--data-dir',
      '--extensions',
      '--legacy',
      '--no-same-second-conflict',
      '--max-body-bytes',
      '--fault',
      '--quiet',
    ]) {
      expect(help.stdout).toContain(word)
    }
    for (const word of [
      'Seed format',
      '"organizations"',
      'Fault rule',
      'maxBodyBytes',
      '/__emulator/faults',
      'POST /datasets/',
    ])
      expect(help.stdout).toContain(word)
  })

  it('refuses a bad option readably', () => {
    const bad = spawnSync(process.execPath, [bundled, '--port', 'eighty'], { encoding: 'utf8' })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('--port')
  })

  it.skipIf(!hasCurl)(
    'serves a curl script: create a dataset for an organization, upload a file, read it back',
    async () => {
      const seed = {
        users: [{ apiKey: 'curl-key' }],
        organizations: [{ name: 'Région Test', members: [{ user: 'curl-key', role: 'admin' }] }],
        datasets: [],
      }
      writeFileSync(join(work, 'seed.json'), JSON.stringify(seed))
      writeFileSync(join(work, 'publish.sh'), SCRIPT)
      const { child, summary } = await start(['--port', '0', '--quiet', '--seed', 'seed.json'])
      try {
        const orgs = summary['organizations'] as Array<{ id: string; slug: string }>
        expect(orgs[0]!.slug).toBe('region-test')
        const run = spawnSync(
          'bash',
          ['publish.sh', summary['url'] as string, 'curl-key', orgs[0]!.id],
          { cwd: work, encoding: 'utf8', timeout: 30_000 },
        )
        expect(run.stderr).toBe('')
        expect(run.status).toBe(0)
        const dataset = JSON.parse(readFileSync(join(work, 'dataset.json'), 'utf8')) as Record<
          string,
          unknown
        >
        const content = 'region,total\nBretagne,12\n'
        expect(dataset).toMatchObject({
          id: run.stdout.trim(),
          slug: 'ventes-2024',
          owner: null,
          organization: { slug: 'region-test' },
        })
        expect(dataset['resources']).toEqual([
          expect.objectContaining({
            title: 'ventes-bretagne.csv',
            format: 'csv',
            filesize: content.length,
            checksum: { type: 'sha1', value: createHash('sha1').update(content).digest('hex') },
          }),
        ])
        const me = JSON.parse(readFileSync(join(work, 'me.json'), 'utf8')) as {
          organizations: Array<{ slug: string }>
        }
        expect(me.organizations.map((o) => o.slug)).toEqual(['region-test'])
        const file = await fetch((dataset['resources'] as Array<{ url: string }>)[0]!.url)
        expect(await file.text()).toBe(content)
      } finally {
        child.kill('SIGTERM')
      }
    },
    60_000,
  )
})
