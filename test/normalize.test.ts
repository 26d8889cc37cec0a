import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lastExtension, normalizeFilename, slugify } from '../src/files/normalize.js'

describe('normalizeFilename (udata utils.normalize)', () => {
  it.each([
    // udata's own test examples (docs/udata-protocol.md §3.2)
    ['Test.TXT', 'test.txt'],
    ['test with  spaces.txt', 'test-with-spaces.txt'],
    ['éàü@€.txt', 'eau-eur.txt'],
    ['test_update.txt', 'test-update.txt'],
    // awesome-slugify behaviours: apostrophes dropped, runs of separators collapse, dots kept
    ["l'été 2024.csv", 'lete-2024.csv'],
    ['Mes Données 2024.csv', 'mes-donnees-2024.csv'],
    ['  report (final).csv.gz ', 'report-final-.csv.gz'],
    ['Œuvres.json', 'oeuvres.json'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeFilename(input)).toBe(expected)
  })

  it('is idempotent, so the name sent is the name stored', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (name) => {
        const once = normalizeFilename(name)
        expect(normalizeFilename(once)).toBe(once)
        expect(once).toMatch(/^[a-z0-9.]*(-[a-z0-9.]+)*$/)
      }),
    )
  })
})

describe('lastExtension', () => {
  it('takes the last extension, lower-cased', () => {
    expect(lastExtension('a/b.CSV')).toBe('csv')
    expect(lastExtension('data.csv.gz')).toBe('gz')
    expect(lastExtension('README')).toBeUndefined()
    expect(lastExtension('trailing.')).toBeUndefined()
  })
})

// The table the emulator's own implementation is tested against (test/emulator-normalize.test.ts):
// both sides of the protocol must agree with udata on every case, each written from udata's behaviour
// (its formats are the emulator's alone: the client never derives a format).
describe('the shared table of udata cases (test/fixtures/normalize-cases.json)', () => {
  const table = JSON.parse(
    readFileSync(new URL('./fixtures/normalize-cases.json', import.meta.url), 'utf8'),
  ) as {
    filenames: Array<{ name: string; stored: string }>
    lastExtensions: Array<{ name: string; extension: string | null }>
    slugs: Array<{ title: string; slug: string }>
  }
  it.each(table.filenames.map((c) => [c.name, c.stored]))('%j is stored as %j', (name, stored) => {
    expect(normalizeFilename(name)).toBe(stored)
  })
  it.each(table.lastExtensions.map((c) => [c.name, c.extension]))(
    '%j is checked on the extension %j',
    (name, extension) => {
      expect(lastExtension(name) ?? null).toBe(extension)
    },
  )
  // create-dataset: the slug udata derives from a title, before any suffix for a taken one.
  it.each(table.slugs.map((c) => [c.title, c.slug]))(
    'a dataset titled %j gets the slug %j',
    (title, slug) => {
      expect(slugify(title)).toBe(slug)
    },
  )
})
