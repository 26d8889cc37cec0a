/**
 * The data diff: two CSV files compared as streams (src/diff/table.ts) on real files, then through
 * the action and the CLI against the emulator, whose static host serves the published file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { FileDiff } from '../src/diff/file.js'
import { diffTables, type TableDiff } from '../src/diff/table.js'
import { diffText } from '../src/engine/report/diff.js'
import { fixture, sha1, type Fixture } from './helpers/fixture.js'
import { runCli } from './helpers/run-cli.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'diff-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A table's diff as the run reports it. */
function fileDiff(table: TableDiff): FileDiff {
  return {
    source: 'out/communes.csv',
    resource: { id: 'r1', title: 'Communes' },
    kind: 'table',
    size: { before: 1, after: 1 },
    table,
  }
}

let n = 0
/** Two files, the published one and the local one. */
async function files(
  before: string | Buffer,
  after: string | Buffer,
  ext = 'csv',
): Promise<[string, string]> {
  n++
  const a = path.join(dir, `${n}-published.${ext}`)
  const b = path.join(dir, `${n}-local.${ext}`)
  await writeFile(a, before)
  await writeFile(b, after)
  return [a, b]
}

describe('two CSV files', () => {
  it('by the entry key: rows added, removed and changed, with the first of each and what changed', async () => {
    const [a, b] = await files(
      'code,name,population\n01001,Abergement,776\n01002,Abergement-de-Varey,248\n01004,Ambérieu,14204\n01005,Ambérieux,1720\n',
      'code,name,population\n01001,Abergement,780\n01002,Abergement-de-Varey,248\n01005,Ambérieux,1731\n01006,Ambléon,111\n',
    )
    const diff = await diffTables(a, b, { key: ['code'] })
    expect(diff.key).toEqual({ columns: ['code'], from: 'entry' })
    expect(diff.rows).toEqual({
      before: 4,
      after: 4,
      added: 1,
      removed: 1,
      changed: 2,
      unchanged: 1,
    })
    expect(diff.examples).toEqual({
      added: [{ code: '01006', name: 'Ambléon', population: '111' }],
      removed: [{ code: '01004', name: 'Ambérieu', population: '14204' }],
      changed: [
        { key: { code: '01001' }, changes: { population: { before: '776', after: '780' } } },
        { key: { code: '01005' }, changes: { population: { before: '1720', after: '1731' } } },
      ],
    })
    expect(diff.format).toBeUndefined()
    expect(diff.columns).toEqual({ added: [], removed: [], renamed: [], reordered: false })
  })

  it('a new column and another separator and encoding: the rows compare on the shared columns', async () => {
    const latin1 = Buffer.from('id;ville;prix\n1;Orléans;3\n2;Besançon;4\n', 'latin1')
    const [a, b] = await files(
      'id,ville\n1,Orléans\n2,Besançon\n',
      Buffer.concat([latin1, Buffer.from('3;Nîmes;5\n', 'latin1')]),
    )
    const diff = await diffTables(a, b)
    expect(diff.format).toEqual({
      before: { encoding: 'utf-8', separator: ',' },
      after: { encoding: 'iso-8859-1', separator: ';' },
    })
    expect(diff.columns.added).toEqual(['prix'])
    expect(diff.key).toEqual({ columns: ['id'], from: 'first column' })
    expect(diff.rows).toMatchObject({ added: 1, removed: 0, changed: 0, unchanged: 2 })
    expect(diff.examples.added).toEqual([{ id: '3', ville: 'Nîmes', prix: '5' }])
  })

  it('the same rows written with another separator and encoding: no row differs, the format change is said', async () => {
    const rows = [
      ['code', 'commune', 'population'],
      ['01001', "L'Abergement-Clémenciat", '776'],
      ['01004', 'Ambérieu-en-Bugey', '14204'],
    ]
    const [a, b] = await files(
      rows.map((r) => r.join(',')).join('\n') + '\n',
      Buffer.from(rows.map((r) => r.join(';')).join('\r\n') + '\r\n', 'latin1'),
    )
    const diff = await diffTables(a, b)
    expect(diff.format).toEqual({
      before: { encoding: 'utf-8', separator: ',' },
      after: { encoding: 'iso-8859-1', separator: ';' },
    })
    expect(diff.rows).toEqual({
      before: 2,
      after: 2,
      added: 0,
      removed: 0,
      changed: 0,
      unchanged: 2,
    })
    expect(diff.columns).toEqual({ added: [], removed: [], renamed: [], reordered: false })
    const text = diffText([fileDiff(diff)]).split('\n')
    expect(text).toContain("    separator ',' -> ';'")
    expect(text).toContain('    encoding utf-8 -> iso-8859-1')
    expect(text).toContain(
      '    2 -> 2 rows: +0 added, -0 removed, ~0 changed, 2 unchanged (key code, the first column)',
    )
  })

  it('a column removed, one renamed in place (its changed values show), columns reordered', async () => {
    const [a, b] = await files(
      'id,old_name,obsolete,value\n1,a,x,10\n2,b,y,20\n',
      'value,id,new_name\n10,1,a\n20,2,B\n',
    )
    const diff = await diffTables(a, b, { key: ['id'] })
    expect(diff.columns).toEqual({
      added: [],
      removed: ['obsolete'],
      renamed: [{ from: 'old_name', to: 'new_name' }],
      reordered: true,
    })
    expect(diff.rows).toMatchObject({ changed: 1, unchanged: 1 })
    expect(diff.examples.changed).toEqual([
      { key: { id: '2' }, changes: { new_name: { before: 'b', after: 'B' } } },
    ])
  })

  it('without a unique first column, by content: repeated rows count one by one', async () => {
    const [a, b] = await files(
      'year,region\n2024,north\n2024,north\n2024,south\n',
      'year,region\n2024,north\n2024,south\n2025,east\n',
    )
    const diff = await diffTables(a, b)
    expect(diff.key).toBeNull()
    expect(diff.note).toBeUndefined()
    expect(diff.rows).toEqual({
      before: 3,
      after: 3,
      added: 1,
      removed: 1,
      changed: 0,
      unchanged: 2,
    })
    expect(diff.examples.removed).toEqual([{ year: '2024', region: 'north' }])
    expect(diff.examples.added).toEqual([{ year: '2025', region: 'east' }])
  })

  it('an entry key that is missing or not unique: by content, saying why', async () => {
    const [a, b] = await files('id,v\n1,a\n2,b\n', 'id,v\n1,a\n1,c\n')
    expect((await diffTables(a, b, { key: ['id'] })).note).toBe(
      "key 'id' is not unique in the local file: rows compared by content",
    )
    expect((await diffTables(a, b, { key: ['code'] })).note).toBe(
      "key 'code' is not a column of both files (shared: 'id', 'v'): rows compared by content",
    )
    const byContent = await diffTables(a, b, { key: ['code'] })
    expect(byContent.rows).toMatchObject({ added: 1, removed: 1, unchanged: 1 })
  })

  it('reads gzipped CSV, and cuts long values in the examples', async () => {
    const long = 'x'.repeat(200)
    const [a, b] = await files(
      gzipSync('id,text\n1,short\n'),
      gzipSync(`id,text\n1,short\n2,${long}\n`),
      'csv.gz',
    )
    const diff = await diffTables(a, b)
    expect(diff.rows).toMatchObject({ added: 1, unchanged: 1 })
    expect(diff.examples.added[0]?.text).toBe(`${'x'.repeat(59)}…`)
  })

  it('many rows: the counts hold beyond the examples shown', async () => {
    const rows = (from: number, to: number, bump = -1) =>
      Array.from(
        { length: to - from },
        (_, i) => `${from + i},${from + i === bump ? 'x' : (from + i) % 7}`,
      )
    const [a, b] = await files(
      `id,v\n${rows(0, 5000).join('\n')}\n`,
      `id,v\n${[...rows(100, 5000, 2500), ...rows(9000, 9300)].join('\n')}\n`,
    )
    const diff = await diffTables(a, b)
    expect(diff.rows).toEqual({
      before: 5000,
      after: 5200,
      added: 300,
      removed: 100,
      changed: 1,
      unchanged: 4899,
    })
    expect(diff.examples.removed.map((r) => r.id)).toEqual(['0', '1', '2'])
    expect(diff.examples.added.map((r) => r.id)).toEqual(['9000', '9001', '9002'])
  })
})

let f: Fixture
afterEach(async () => {
  await f?.close()
})

const V1 = 'code,name,population\n01001,Abergement,776\n01002,Varey,248\n01004,Ambérieu,14204\n'
const V2 =
  'code;name;population;region\n01001;Abergement;780;ARA\n01002;Varey;248;ARA\n01006;Ambléon;111;ARA\n'

function diffOutput(run: { outputs: Record<string, string> }): FileDiff[] {
  return JSON.parse(run.outputs.diff ?? 'null') as FileDiff[]
}

/** Requests to the static host (the published files), with whether the key went along. */
function staticGets(): Array<{ path: string; key: boolean }> {
  return f.emulator.requests
    .filter((r) => r.path.startsWith('/static/'))
    .map((r) => ({ path: r.path, key: 'x-api-key' in r.headers }))
}

describe('through the action', () => {
  it('a real run: the summary tells what changed in the data, the diff output holds it, the key never goes to the file', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'communes.csv',
      content: V1,
      title: 'Communes',
    })
    await f.write('out/communes.csv', V2)
    const run = await f.run({
      resources: '- path: out/communes.csv\n  key: code',
    })

    expect(run.code, run.stdout).toBe(0)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(V2))
    const [diff] = diffOutput(run)
    expect(diff).toMatchObject({
      source: 'out/communes.csv',
      resource: { id: r.id, title: 'Communes' },
      kind: 'table',
      size: { before: Buffer.byteLength(V1), after: Buffer.byteLength(V2) },
      checksum: { type: 'sha1', before: sha1(V1), after: sha1(V2) },
      table: {
        key: { columns: ['code'], from: 'entry' },
        rows: { before: 3, after: 3, added: 1, removed: 1, changed: 1, unchanged: 1 },
        columns: { added: ['region'] },
        format: { before: { separator: ',' }, after: { separator: ';' } },
      },
    })
    expect(run.summary).toContain('#### What the uploads changed in the data')
    expect(run.summary).toContain(
      '**`out/communes.csv`** → Communes: 3 -> 3 rows: +1 added, -1 removed, ~1 changed, 1 unchanged (key code)',
    )
    expect(run.summary).toContain("- separator ',' -> ';'")
    expect(run.summary).toContain('| ~ | 01001 | 776 → 780 |')
    expect(run.stdout).toMatch(/^::group::Data diff: what the uploads change$/m)
    expect(staticGets()).toEqual([{ path: expect.stringContaining('communes.csv'), key: false }])
  })

  it('a real run whose upload fails: the diff says the file was not published, in the summary, the log and the output', async () => {
    f = await fixture()
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'communes.csv',
      content: V1,
      title: 'Communes',
    })
    await f.write('out/communes.csv', V2)
    f.emulator.faults.push({ method: 'POST', path: '/upload/$', status: 400 })
    const run = await f.run({ resources: '- path: out/communes.csv\n  key: code' })

    expect(run.code).toBe(1)
    expect(f.emulator.getResource(f.dataset.id, r.id)?.checksum?.value).toBe(sha1(V1))
    const [diff] = diffOutput(run)
    expect(diff).toMatchObject({
      source: 'out/communes.csv',
      outcome: 'failed',
      outcomeNote: 'not published (failed): what the upload would have changed',
    })
    expect(run.summary).toContain(
      '**`out/communes.csv`** → Communes: 3 -> 3 rows: +1 added, -1 removed, ~1 changed, 1 unchanged (key code)\n\n_not published (failed): what the upload would have changed._',
    )
    expect(run.stdout).toContain('    not published (failed): what the upload would have changed')
  })

  it('a value or a column name holding a line break stays on its line of the log: the data starts no workflow command', async () => {
    f = await fixture()
    const header = 'id,"note\n::stop-commands::x"\n'
    f.emulator.addFileResource(f.dataset.id, {
      filename: 'notes.csv',
      content: `${header}1,a\n`,
      title: 'Notes',
    })
    await f.write('notes.csv', `${header}1,"b\n::warning::from the data"\n`)
    const run = await f.run({ files: 'notes.csv', 'dry-run': 'true' })

    expect(run.code, run.stdout).toBe(0)
    expect(diffOutput(run)[0]?.table?.examples.changed).toEqual([
      {
        key: { id: '1' },
        changes: {
          'note\n::stop-commands::x': { before: 'a', after: 'b\n::warning::from the data' },
        },
      },
    ])
    expect(run.stdout).toContain(
      '    ~ id=1: note ::stop-commands::x a -> b ::warning::from the data\n',
    )
    expect(run.stdout).not.toMatch(/^\s*::(stop-commands|warning)::/m)
  })

  it('a file above diff-max-size: sizes only, nothing downloaded; 0 never downloads', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'big.csv', content: V1, title: 'Big' })
    await f.write('big.csv', `${V1}${'01009,x,1\n'.repeat(200)}`)
    const run = await f.run({ files: 'big.csv', 'dry-run': 'true', 'diff-max-size': '1kB' })

    expect(run.code, run.stdout).toBe(0)
    expect(diffOutput(run)).toEqual([
      expect.objectContaining({
        kind: 'sizes',
        checksum: { type: 'sha1', before: sha1(V1), after: null },
        size: { before: Buffer.byteLength(V1), after: Buffer.byteLength(V1) + 2000 },
        note: 'the local file (2.03 KiB) is larger than diff-max-size (1000 bytes): sizes only',
      }),
    ])
    expect(run.summary).toContain('larger than diff-max-size')
    const off = await f.run({ files: 'big.csv', 'dry-run': 'true', 'diff-max-size': '0' })
    expect(diffOutput(off)[0]?.note).toBe('diff-max-size is 0: sizes only')
    expect(staticGets()).toEqual([])
  })

  it('a published file larger than the bound, which the server did not say: the download stops at the bound', async () => {
    f = await fixture()
    const big = `${V1}${'01009,x,1\n'.repeat(300)}`
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'c.csv',
      content: big,
      title: 'C',
    })
    // The resource's metadata has no size: only the download can tell.
    f.emulator.getResource(f.dataset.id, r.id)!.filesize = null
    await f.write('c.csv', V1)
    const run = await f.run({ files: 'c.csv', 'dry-run': 'true', 'diff-max-size': '2KiB' })
    expect(run.code, run.stdout).toBe(0)
    expect(diffOutput(run)[0]).toMatchObject({
      kind: 'sizes',
      size: { before: Buffer.byteLength(big) },
      note: 'the published file is larger than diff-max-size (2048 bytes): sizes only',
    })
  })

  it('a file that is not a table: size and checksum; a creation, an unchanged file: no diff', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, {
      filename: 'notice.pdf',
      content: '%PDF-1',
      title: 'Notice',
    })
    f.emulator.addFileResource(f.dataset.id, { filename: 'same.csv', content: V1, title: 'Same' })
    await f.write('notice.pdf', '%PDF-2 longer')
    await f.write('same.csv', V1)
    await f.write('new.csv', V2)
    const run = await f.run({
      files: 'notice.pdf\nsame.csv\nnew.csv',
      'create-missing': 'true',
      'dry-run': 'true',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(diffOutput(run)).toEqual([
      {
        source: 'notice.pdf',
        resource: { id: expect.any(String), title: 'Notice' },
        kind: 'file',
        size: { before: 6, after: 13 },
        checksum: { type: 'sha1', before: sha1('%PDF-1'), after: sha1('%PDF-2 longer') },
      },
    ])
    expect(run.summary).toContain('**`notice.pdf`** → Notice: 6 B -> 13 B, sha1 ')
    expect(staticGets()).toEqual([])
  })

  it('a spreadsheet replaced by a CSV: not read as a table, size and checksum only, nothing downloaded', async () => {
    f = await fixture()
    const xlsx = 'PK\u0003\u0004 (the zip of a spreadsheet)'
    const r = f.emulator.addFileResource(f.dataset.id, {
      filename: 'communes.xlsx',
      content: xlsx,
      title: 'Communes',
    })
    await f.write('communes.csv', V1)
    const run = await f.run({
      resources: `- path: communes.csv\n  id: ${r.id}`,
      'dry-run': 'true',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(diffOutput(run)).toEqual([
      {
        source: 'communes.csv',
        resource: { id: r.id, title: 'Communes' },
        kind: 'file',
        size: { before: Buffer.byteLength(xlsx), after: Buffer.byteLength(V1) },
        checksum: { type: 'sha1', before: sha1(xlsx), after: sha1(V1) },
        note: 'the published file (communes.xlsx) is not a CSV: size and checksum only',
      },
    ])
    expect(staticGets()).toEqual([])
  })

  it('a published file that cannot be downloaded: a note, and the run goes on', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, { filename: 'a.csv', content: V1, title: 'A' })
    f.emulator.faults.push({ method: 'GET', path: '^/static/', status: 404 })
    await f.write('a.csv', V2)
    const run = await f.run({ files: 'a.csv', 'dry-run': 'true' })
    expect(run.code, run.stdout).toBe(0)
    expect(diffOutput(run)[0]).toMatchObject({
      kind: 'sizes',
      note: expect.stringMatching(
        /^the published file could not be downloaded \(GET .*a\.csv answered 404\): sizes only$/,
      ),
    })
    expect(run.summary).toContain('1 planned: upload')
  })

  it('a key on a remote entry, or of the wrong type, is refused naming the entry', async () => {
    f = await fixture()
    const run = await f.run({
      resources: '- path: a.csv\n  key: {a: 1}\n- url: https://example.org/x.csv\n  key: id',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "input 'resources', entry resources[0].key: must be a column name or a list of column names",
    )
    expect(run.stdout).toContain("input 'resources', entry resources[1]: unknown key 'key'")
  })
})

describe('through the CLI', () => {
  it('--diff prints the diff after the results; --json carries it; without --diff nothing is downloaded', async () => {
    f = await fixture()
    f.emulator.addFileResource(f.dataset.id, {
      filename: 'communes.csv',
      content: V1,
      title: 'Communes',
    })
    await f.write('communes.csv', V2)
    const args = [
      '--api-url',
      f.emulator.url,
      '--dataset',
      f.dataset.id,
      '--files',
      'communes.csv',
      '--dry-run',
    ]
    const options = { cwd: f.workspace }

    const plain = await runCli(args, options)
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).not.toContain('Data diff')
    expect(staticGets()).toEqual([])

    const text = await runCli([...args, '--diff'], options)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(
      ['Data diff:', `  communes.csv -> Communes (${f.dataset.resources[0]?.id ?? ''}`]
        .join('\n')
        .slice(0, 30),
    )
    expect(text.stdout).toMatch(
      /^ {4}3 -> 3 rows: \+1 added, -1 removed, ~1 changed, 1 unchanged \(key code, the first column\)$/m,
    )
    expect(text.stdout).toContain('    columns: +region')
    expect(text.stdout).toContain("    separator ',' -> ';'")
    expect(text.stdout).toContain('    ~ code=01001: population 776 -> 780')

    const json = await runCli([...args, '--diff', '--json'], options)
    const document = JSON.parse(json.stdout) as { diff: FileDiff[] }
    expect(document.diff[0]?.table?.rows).toMatchObject({ added: 1, removed: 1, changed: 1 })
    const noDiff = JSON.parse((await runCli([...args, '--json'], options)).stdout) as {
      diff: unknown
    }
    expect(noDiff.diff).toBeNull()
  })
})
