/**
 * `file-checks` (src/engine/checks.ts): each tabular file to publish against what data.gouv.fr
 * converts; units on real files, then through the action against the emulator (warn, error, off).
 */
import { open as openFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { checkFile, formatOf, headerProblems } from '../src/engine/checks.js'
import type { FileEntry } from '../src/engine/manifest.js'
import { splitName } from '../src/engine/plan/releases.js'
import { normalizeFilename } from '../src/files/normalize.js'
import { fixture, resourcesOutput, type Fixture } from './helpers/fixture.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'checks-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A file entry for `content`, or of `size` bytes (the content, then a hole). */
async function entry(name: string, content: string | Buffer, size?: number): Promise<FileEntry> {
  const p = path.join(dir, name)
  await writeFile(p, content)
  if (size !== undefined) {
    const file = await openFile(p, 'r+')
    await file.truncate(size)
    await file.close()
  }
  const bytes = size ?? Buffer.byteLength(content)
  return {
    kind: 'file',
    label: 'files',
    source: name,
    path: p,
    name,
    size: bytes,
    storedName: normalizeFilename(name),
  }
}

const MiB = 1024 * 1024

describe('checkFile', () => {
  it('a good CSV: UTF-8, commas, a header and rows; converted', async () => {
    const check = await checkFile(await entry('good.csv', 'mois,total\n2026-10,12\n'))
    expect(check).toEqual({
      format: 'csv',
      limit: 100 * MiB,
      converted: true,
      platform:
        'data.gouv.fr will convert it into a table: a preview on its page and the tabular API',
      csv: { encoding: 'utf-8', bom: false, separator: ',', columns: 2 },
      warnings: [],
      notes: [],
    })
  })

  it('latin-1 and semicolons: a warning for the encoding, a note for the separator', async () => {
    const check = await checkFile(
      await entry('latin1.csv', Buffer.from('année;région\n2024;Île\n', 'latin1')),
    )
    expect(check?.csv).toEqual({ encoding: 'iso-8859-1', bom: false, separator: ';', columns: 2 })
    expect(check?.warnings).toEqual([
      'encoded in iso-8859-1, not UTF-8: data.gouv.fr guesses the encoding, but recommends UTF-8 (accented letters may show wrongly)',
    ])
    expect(check?.notes).toEqual([
      'separated by semicolons: data.gouv.fr detects it, but recommends commas',
    ])
  })

  it('empty, or a header only', async () => {
    const empty = await checkFile(await entry('empty.csv', ''))
    expect(empty).toMatchObject({
      converted: false,
      warnings: ['empty: no header, no row; data.gouv.fr has nothing to show'],
    })
    expect(empty?.platform).toContain('will not convert it (it is empty)')
    const header = await checkFile(await entry('header.csv', 'a,b\n'))
    expect(header?.warnings).toEqual([
      'a header and no row: the preview and the tabular API will be empty',
    ])
  })

  it('bytes that are not UTF-8 far into the file: read to the end, said', async () => {
    const body = Buffer.concat([
      Buffer.from('a,b\n' + '1,2\n'.repeat(50_000)),
      Buffer.from([0xff, 0x0a]),
    ])
    const check = await checkFile(await entry('late.csv', body))
    expect(check?.converted).toBe(false)
    expect(check?.warnings).toEqual([
      expect.stringMatching(/^not readable as CSV: not valid utf-8 within bytes \d+–\d+$/),
    ])
  })

  it('a CSV beyond 100 MiB: not converted, and csv.gz suggested; a csv.gz is read through gunzip', async () => {
    const big = await checkFile(await entry('big.csv', 'a,b\n1,2\n', 100 * MiB + 1))
    expect(big?.converted).toBe(false)
    expect(big?.warnings).toEqual([
      '104857601 bytes, beyond the 104857600 bytes up to which data.gouv.fr converts a csv file: no preview and no tabular API for it; compress it as .csv.gz, which data.gouv.fr recommends for large files',
    ])
    const gz = await checkFile(await entry('data.csv.gz', gzipSync('a;b\n1;2\n')))
    expect(gz).toMatchObject({
      format: 'csv.gz',
      converted: true,
      csv: { separator: ';', columns: 2 },
    })
  })

  it('reads a CSV as a stream: memory does not grow with the file (96 MiB decoded to its end)', async () => {
    const p = path.join(dir, 'large.csv')
    const file = await openFile(p, 'w')
    const block = Buffer.from(
      'mois,région,total\n' + '2026-10,Île-de-France,12345\n'.repeat(40_000),
    )
    for (let written = 0; written < 96 * MiB; written += block.length) await file.write(block)
    const { size } = await file.stat()
    await file.close()
    const large = { ...(await entry('unused.csv', '')), path: p, size }
    const before = process.memoryUsage()
    let peak = 0
    const sampler = setInterval(() => {
      const now = process.memoryUsage()
      const grown = now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers
      peak = Math.max(peak, grown)
    }, 5)
    try {
      const check = await checkFile(large)
      expect(check).toMatchObject({ converted: true, warnings: [], csv: { columns: 3 } })
    } finally {
      clearInterval(sampler)
    }
    // A whole-file read holds 96 MiB of bytes, and more of text; a stream, chunks not yet collected.
    expect(peak).toBeLessThan(48 * MiB)
    await rm(p)
  })

  it('XLSX beyond 12.5 MiB, parquet within 50 MiB; JSON is no table', async () => {
    const xlsx = await checkFile(await entry('t.xlsx', 'PK', 13 * MiB))
    expect(xlsx).toMatchObject({ format: 'xlsx', converted: false, limit: 12.5 * MiB })
    expect(xlsx?.warnings[0]).toContain(
      'beyond the 12.5 MiB up to which data.gouv.fr converts a xlsx file',
    )
    expect(await checkFile(await entry('t.parquet', 'PAR1', 40 * MiB))).toMatchObject({
      converted: true,
      warnings: [],
    })
    expect(await checkFile(await entry('t.json', '[]'))).toBeUndefined()
  })
})

describe('headerProblems', () => {
  it('names longer than 63 bytes (UTF-8, as PostgreSQL counts), duplicated (after trimming) or empty', () => {
    const long = 'x'.repeat(64)
    expect(headerProblems(['id', long, 'nom', ' nom', '', 'ok'])).toEqual([
      "column names longer than 63 bytes (UTF-8; an accented letter takes two), which data.gouv.fr's tables do not take, so it will not convert the file: 'xxxxxxxxxxxxxxxxxxxx…' (64)",
      "duplicated column names: 'nom' (the tabular API names each column once)",
      '1 column without a name',
    ])
    expect(headerProblems(['x'.repeat(63), `${'é'.repeat(31)}e`])).toEqual([])
    expect(headerProblems(['2026-10', '12', ' 3,5 '])).toEqual([
      "the first row looks like data ('2026-10', '12', '3,5'), not a header: data.gouv.fr names the columns after the first row; add a header row",
    ])
    expect(headerProblems(['2026', 'total'])).toEqual([])
    // 32 letters, 64 bytes: too long for PostgreSQL although short in characters.
    expect(headerProblems(['é'.repeat(32)])).toEqual([
      expect.stringContaining(`'${'é'.repeat(20)}…' (64)`),
    ])
  })
})

describe('formatOf and splitName', () => {
  it.each([
    ['ventes.csv', 'csv'],
    ['ventes.csv.gz', 'csv.gz'],
    ['Tableau.XLSX', 'xlsx'],
    ['carte.geojson', 'geojson'],
    ['notice.pdf', undefined],
    ['archive.tar.gz', undefined],
  ])('%s -> %s', (name, format) => {
    expect(formatOf(name)).toBe(format)
  })

  it.each([
    ['ventes.csv', 'ventes', '.csv'],
    ['ventes.csv.gz', 'ventes', '.csv.gz'],
    ['data.2022.csv', 'data.2022', '.csv'],
    ['README', 'README', ''],
  ])('%s -> %s + %s', (name, base, extension) => {
    expect(splitName(name)).toEqual({ base, extension })
  })
})

describe('through the action', () => {
  let f: Fixture | undefined
  afterEach(async () => {
    await f?.close()
    f = undefined
  })

  it('warn: the plan warns, the summary and the output say what data.gouv.fr will do; the file goes', async () => {
    f = await fixture()
    await f.write('out/ventes.csv', `mois;${'m'.repeat(70)};mois\n2026-10;1;2\n`)
    const run = await f.run({ files: 'out/ventes.csv', 'create-missing': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toContain(
      "::warning::out/ventes.csv: duplicated column names: 'mois' (the tabular API names each column once)",
    )
    expect(run.stdout).toContain('::warning::out/ventes.csv: column names longer than 63 bytes')
    expect(run.summary).toContain('#### Files checked for data.gouv.fr')
    expect(run.summary).toMatch(
      /\| `out\/ventes.csv` \| csv, 93 B \| utf-8, `;` \| 3 \| will not convert it \| ⚠ column names longer/,
    )
    expect(resourcesOutput(run)[0]).toMatchObject({
      action: 'created',
      checks: {
        format: 'csv',
        separator: ';',
        columns: 3,
        converted: false,
        platform:
          'data.gouv.fr will store it for download, but will not convert it (a column name is ' +
          'longer than 63 bytes): no preview, no tabular API for this csv file',
      },
    })
  })

  it('error: what the platform will not do stops the run before any write; off checks nothing', async () => {
    f = await fixture()
    await f.write('out/vide.csv', 'a,b\n')
    const run = await f.run({
      files: 'out/vide.csv',
      'create-missing': 'true',
      'file-checks': 'error',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "out/vide.csv: a header and no row: the preview and the tabular API will be empty (input 'file-checks' is 'error'; 'warn' lets it go)",
    )
    expect(f.writes()).toEqual([])
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'not-published' })

    const off = await f.run({
      files: 'out/vide.csv',
      'create-missing': 'true',
      'file-checks': 'off',
    })
    expect(off.code, off.stdout).toBe(0)
    expect(off.stdout).not.toContain('::warning::')
    expect(off.summary).not.toContain('Files checked')
    expect(resourcesOutput(off)[0]).not.toHaveProperty('checks')
  })

  it('a file that is not sent (unchanged) is not checked; a bad value of the input is refused', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: 'a,b\n' })
    await f.write('a.csv', 'a,b\n')
    const run = await f.run({ files: 'a.csv', 'file-checks': 'error' })
    expect(run.code, run.stdout).toBe(0)
    expect(resourcesOutput(run)[0]).toMatchObject({ action: 'skipped' })
    const bad = await f.run({ files: 'a.csv', 'file-checks': 'strict' })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(
      "input 'file-checks' must be one of 'warn', 'error', 'off', got 'strict'",
    )
  })
})
