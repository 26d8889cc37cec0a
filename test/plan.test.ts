import { describe, expect, it } from 'vitest'
import type { Dataset, Resource } from '../src/datagouv/schemas.js'
import type { FileEntry } from '../src/engine/manifest.js'
import { datasetProblems } from '../src/engine/plan/dataset.js'
import { metadataPatch } from '../src/engine/plan/fields.js'
import { checksumNeeded, decideFile } from '../src/engine/plan/files.js'
import { storedNameOf } from '../src/datagouv/schemas.js'
import { matchEntries } from '../src/engine/plan/match.js'
import { partSizeWarnings } from '../src/engine/preflight.js'

const RID = [
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
]

function resource(id: string, fields: Partial<Resource> = {}): Resource {
  return {
    id,
    title: 'x',
    filetype: 'file',
    type: 'main',
    url: `https://static.example/resources/ds/20260101-000000/${fields.title ?? 'x'}`,
    ...fields,
  }
}

function entry(name: string, fields: Partial<FileEntry> = {}): FileEntry {
  return {
    label: `files 'out/*'`,
    source: `out/${name}`,
    path: `/w/out/${name}`,
    name,
    size: 10,
    storedName: name.toLowerCase().replace(/ /g, '-'),
    kind: 'file',
    ...fields,
  }
}

const dataset = (resources: Resource[]): Dataset => ({
  id: 'd'.repeat(24),
  slug: 'ds',
  title: 'DS',
  resources,
})

describe('matchEntries', () => {
  const res = [
    resource(RID[0] as string, {
      title: 'Sales 2024',
      url: 'https://static.example/resources/ds/20260101-000000/sales.csv',
    }),
    resource(RID[1] as string, {
      title: 'report.csv',
      url: 'https://static.example/resources/ds/20260101-000000/old-name.csv',
    }),
    resource(RID[2] as string, { title: 'API', filetype: 'remote', url: 'https://api.example/v1' }),
  ]

  it('matches by stored file name first, then by title', () => {
    const { targets, problems } = matchEntries(
      [entry('Sales.csv'), entry('report.csv')],
      dataset(res),
      ['csv'],
      false,
    )
    expect(problems).toEqual([])
    expect(targets.map((t) => t.resource?.id)).toEqual([RID[0], RID[1]])
  })

  it('creates when asked, else names the file and the way out', () => {
    expect(
      matchEntries([entry('new.csv')], dataset(res), ['csv'], true).targets[0]?.resource,
    ).toBeUndefined()
    const { problems } = matchEntries([entry('new.csv')], dataset(res), ['csv'], false)
    expect(problems[0]).toMatch(
      /out\/new.csv.*no resource of dataset 'ds' has the stored file name 'new.csv'.*create-missing: true/,
    )
  })

  it('refuses unknown ids, remote targets, double targets, ambiguity and refused extensions, all together', () => {
    const twins = [
      resource(RID[0] as string, { title: 'a', url: 'https://s.example/one.csv' }),
      resource(RID[1] as string, { title: 'a', url: 'https://s.example/two.csv' }),
    ]
    const { problems, targets } = matchEntries(
      [
        entry('a.csv', { id: '99999999-9999-4999-8999-999999999999', label: 'resources[0]' }),
        entry('b.csv', { id: RID[2] as string, label: 'resources[1]' }),
        entry('c.csv', { id: RID[0] as string, label: 'resources[2]' }),
        entry('d.csv', { id: RID[0] as string, label: 'resources[3]' }),
        entry('run.exe'),
      ],
      dataset(res),
      ['csv'],
      false,
    )
    expect(targets).toHaveLength(1)
    expect(problems).toHaveLength(4)
    expect(problems[0]).toContain(
      'resources[0] (out/a.csv): resource 99999999-9999-4999-8999-999999999999 is not in dataset',
    )
    expect(problems[1]).toContain('is a remote resource')
    expect(problems[2]).toContain(
      `resources[3] (out/d.csv): resource ${RID[0]} is already the target of resources[2]`,
    )
    expect(problems[3]).toContain("does not accept '.exe' files (allowed: csv)")
    const ambiguous = matchEntries([entry('a')], dataset(twins), [], false).problems
    expect(ambiguous[0]).toMatch(/2 resources match by title 'a'/)
    const sameStoredName = matchEntries(
      [entry('a')],
      dataset([
        resource(RID[0] as string, { title: 'a' }),
        resource(RID[1] as string, { title: 'a' }),
      ]),
      [],
      false,
    ).problems
    expect(sameStoredName[0]).toMatch(/2 resources match by stored file name 'a'/)
  })
})

describe('decide', () => {
  const existing = resource(RID[0] as string, {
    title: 'Sales',
    url: 'https://static.example/resources/ds/20260101-000000/a.csv',
    filesize: 10,
    checksum: { type: 'sha1', value: 'ABC' },
  })
  it('asks for a checksum only when sizes are equal and the type is known', () => {
    expect(checksumNeeded({ entry: entry('a.csv'), resource: existing }, 'skip')).toBe('sha1')
    expect(
      checksumNeeded({ entry: entry('a.csv', { size: 11 }), resource: existing }, 'skip'),
    ).toBeUndefined()
    expect(checksumNeeded({ entry: entry('a.csv'), resource: existing }, 'upload')).toBeUndefined()
    expect(
      checksumNeeded(
        { entry: entry('a.csv'), resource: { ...existing, checksum: { type: 'crc', value: '1' } } },
        'skip',
      ),
    ).toBeUndefined()
    expect(checksumNeeded({ entry: entry('a.csv') }, 'skip')).toBeUndefined()
  })

  it('skips an unchanged file, uploads a changed one, says why', () => {
    expect(decideFile({ entry: entry('a.csv'), resource: existing }, 'skip', 'abc')).toMatchObject({
      action: 'skip',
      reason: 'unchanged (sha1 and size match)',
    })
    expect(decideFile({ entry: entry('a.csv'), resource: existing }, 'skip', 'abd')).toMatchObject({
      action: 'upload',
      reason: 'sha1 differs',
    })
    expect(
      decideFile({ entry: entry('a.csv', { size: 12 }), resource: existing }, 'skip'),
    ).toMatchObject({
      action: 'upload',
      reason: 'size differs (10 -> 12 bytes)',
    })
    expect(decideFile({ entry: entry('a.csv'), resource: existing }, 'upload')).toMatchObject({
      action: 'upload',
    })
    expect(decideFile({ entry: entry('a.csv') }, 'skip')).toMatchObject({ action: 'create' })
  })

  it('updates metadata alone when the file is unchanged but the entry says otherwise', () => {
    const step = decideFile(
      { entry: entry('a.csv', { title: 'Sales 2025', type: 'documentation' }), resource: existing },
      'skip',
      'abc',
    )
    expect(step).toMatchObject({ action: 'update', reason: 'unchanged file; title, type differ' })
  })
})

describe('metadataPatch', () => {
  it('restores the previous title after an upload overwrote it, and sends only what differs', () => {
    const uploaded = resource(RID[0] as string, {
      title: 'sales.csv',
      description: 'd',
      type: 'main',
    })
    expect(metadataPatch(entry('sales.csv'), uploaded, 'Sales 2024')).toEqual({
      title: 'Sales 2024',
    })
    expect(
      metadataPatch(entry('sales.csv', { description: 'd', type: 'main' }), uploaded, 'sales.csv'),
    ).toEqual({})
    expect(
      metadataPatch(entry('sales.csv', { title: 'T', description: 'new' }), uploaded, 'Old'),
    ).toEqual({ title: 'T', description: 'new' })
  })
  it('titles a new resource with the original file name', () => {
    expect(
      metadataPatch(
        entry('Mes Données.csv'),
        resource(RID[0] as string, { title: 'mes-donnees.csv' }),
        undefined,
      ),
    ).toEqual({ title: 'Mes Données.csv' })
  })
  it('compares schemas field by field', () => {
    const r = resource(RID[0] as string, {
      schema: { name: 'etalab/irve', version: '2.0', url: null },
    })
    expect(
      metadataPatch(
        entry('x', { title: 'x', schema: { name: 'etalab/irve', version: '2.0' } }),
        r,
        'x',
      ),
    ).toEqual({})
    expect(
      metadataPatch(entry('x', { title: 'x', schema: { name: 'etalab/irve' } }), r, 'x'),
    ).toEqual({ schema: { name: 'etalab/irve' } })
  })
})

describe('storedNameOf and datasetProblems', () => {
  it('reads the last URL segment, decoded', () => {
    expect(
      storedNameOf(
        resource('r', { url: 'https://s.example/resources/ds/20260101-000000/a%20b.csv' }),
      ),
    ).toBe('a b.csv')
    expect(storedNameOf(resource('r', { url: 'not a url' }))).toBeUndefined()
  })
  it('refuses a key without edit rights only when writing, and only when the server says so', () => {
    const ds = {
      ...dataset([]),
      permissions: { edit: false, edit_resources: false, delete: false },
    }
    expect(datasetProblems(ds, { resources: true, dataset: false })[0]).toMatch(
      /input 'api-key'.*may not edit the resources/,
    )
    expect(datasetProblems(ds, { resources: false, dataset: true })[0]).toMatch(
      /may not edit dataset 'ds'.*dataset-metadata/,
    )
    expect(datasetProblems(ds, { resources: false, dataset: false })).toEqual([])
    expect(datasetProblems(dataset([]), { resources: true, dataset: true })).toEqual([])
  })
})

describe('chunk-size above 32 MiB (udata 17 puts big parts together in quadratic time)', () => {
  const MiB = 1024 * 1024
  it('warns once, naming the input, its value and the largest file sent in such parts', () => {
    const entries = [entry('a.csv', { size: 100 * MiB }), entry('b.csv', { size: 300 * MiB })]
    const warnings = partSizeWarnings(64 * MiB, entries)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^input 'chunk-size' is 64\.0 MiB: out\/b\.csv \(300\.0 MiB\) goes in parts larger than 32 MiB, .* Use 32MiB or less/,
    )
  })
  it('says nothing at 32 MiB, nor when every file goes in one request', () => {
    expect(partSizeWarnings(32 * MiB, [entry('a.csv', { size: 100 * MiB })])).toEqual([])
    expect(partSizeWarnings(64 * MiB, [entry('a.csv', { size: 60 * MiB })])).toEqual([])
  })
})
