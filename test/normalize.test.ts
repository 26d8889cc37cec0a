import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fileFormat, lastExtension, normalizeFilename } from '../src/files/normalize.js'

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

describe('fileFormat and lastExtension', () => {
  const allowed = new Set(['csv', 'tar', 'gz', 'geojson'])
  it.each([
    ['test.tar.gz', 'tar.gz'],
    ['test.2022.csv.tar.gz', 'csv.tar.gz'],
    ['test.geojson.csv', 'csv'],
    ['data.csv', 'csv'],
    ['noextension', undefined],
  ])('format of %s is %s', (name, format) => {
    expect(fileFormat(name, allowed)).toBe(format)
  })

  it('takes the last extension, lower-cased', () => {
    expect(lastExtension('a/b.CSV')).toBe('csv')
    expect(lastExtension('data.csv.gz')).toBe('gz')
    expect(lastExtension('README')).toBeUndefined()
    expect(lastExtension('trailing.')).toBeUndefined()
  })
})
