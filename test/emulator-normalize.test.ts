import { readFileSync } from 'node:fs'

import { describe, expect, it } from 'vitest'

import { fileFormat, lastExtension, normalizeFilename, slugify } from '../emulator/normalize.js'

/** The shared table of udata's naming rules (also read by the client's tests). */
interface NormalizeCases {
  allowedExtensions: string[]
  filenames: Array<{ name: string; stored: string; source: 'udata' | 'derived' }>
  formats: Array<{ name: string; format: string | null; source: 'udata' | 'derived' }>
  lastExtensions: Array<{ name: string; extension: string | null }>
  slugs: Array<{ title: string; slug: string }>
}

const cases = JSON.parse(
  readFileSync(new URL('./fixtures/normalize-cases.json', import.meta.url), 'utf8'),
) as NormalizeCases
const allowed = new Set(cases.allowedExtensions)

describe('emulator: udata naming rules (test/fixtures/normalize-cases.json)', () => {
  it.each(cases.filenames.map((c) => [c.name, c.stored, c.source]))(
    'stores %j as %j (%s)',
    (name, stored) => {
      expect(normalizeFilename(name)).toBe(stored)
    },
  )

  it('is idempotent on every stored name', () => {
    for (const { stored } of cases.filenames) expect(normalizeFilename(stored)).toBe(stored)
  })

  it.each(cases.formats.map((c) => [c.name, c.format, c.source]))(
    'gives %j the format %j (%s)',
    (name, format) => {
      expect(fileFormat(name, allowed)).toBe(format)
    },
  )

  it.each(cases.lastExtensions.map((c) => [c.name, c.extension]))(
    'checks %j on the extension %j',
    (name, extension) => {
      expect(lastExtension(name) ?? null).toBe(extension)
    },
  )

  it.each(cases.slugs.map((c) => [c.title, c.slug]))('slugs the title %j as %j', (title, slug) => {
    expect(slugify(title)).toBe(slug)
  })

  it('cuts dataset slugs at 255 characters on a word boundary first', () => {
    const slug = slugify(`${'a'.repeat(250)} bcdefgh ijk`)
    expect(slug).toBe(`${'a'.repeat(250)}-ijk`)
    expect(slugify('x'.repeat(300))).toHaveLength(255)
  })
})
