import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CsvReadError,
  csvRows,
  detectEncoding,
  detectSeparator,
  sniffCsv,
} from '../src/files/csv.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'csv-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const p = path.join(dir, name)
  await writeFile(p, content)
  return p
}

async function rows(p: string): Promise<string[][]> {
  const all: string[][] = []
  for await (const row of csvRows(p, await sniffCsv(p))) all.push(row)
  return all
}

describe('sniffCsv', () => {
  it('UTF-8 with a byte order mark, semicolons: the header has no BOM', async () => {
    const p = await file('bom.csv', '\uFEFFcode;libellé\n01;Ain\n02;Aisne\n')
    expect(await sniffCsv(p)).toEqual({
      encoding: 'utf-8',
      bom: true,
      gzip: false,
      separator: ';',
      header: ['code', 'libellé'],
    })
    expect(await rows(p)).toEqual([
      ['01', 'Ain'],
      ['02', 'Aisne'],
    ])
  })

  it('latin-1 without bytes of 0x80–0x9F, decoded as such', async () => {
    const p = await file('latin1.csv', Buffer.from('année,région\n2024,Île-de-France\n', 'latin1'))
    const sniffed = await sniffCsv(p)
    expect(sniffed).toMatchObject({ encoding: 'iso-8859-1', bom: false, separator: ',' })
    expect(sniffed.header).toEqual(['année', 'région'])
    expect(await rows(p)).toEqual([['2024', 'Île-de-France']])
  })

  it('cp1252 when a byte of 0x80–0x9F is there (the euro sign, 0x80)', async () => {
    const bytes = Buffer.concat([
      Buffer.from('prix|devise\r\n12|'),
      Buffer.from([0x80]),
      Buffer.from('\r\n'),
    ])
    const p = await file('cp1252.csv', bytes)
    expect(await sniffCsv(p)).toMatchObject({ encoding: 'windows-1252', separator: '|' })
    expect(await rows(p)).toEqual([['12', '€']])
  })

  it('UTF-16LE with its byte order mark, tabs', async () => {
    const text = Buffer.from('a\tb\n1\t2\n', 'utf16le')
    const p = await file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), text]))
    expect(await sniffCsv(p)).toMatchObject({
      encoding: 'utf-16le',
      bom: true,
      separator: '\t',
      header: ['a', 'b'],
    })
    expect(await rows(p)).toEqual([['1', '2']])
  })

  it('an empty file, or blank lines only: no header, no rows', async () => {
    for (const content of ['', '\n\n\r\n']) {
      const p = await file('empty.csv', content)
      expect(await sniffCsv(p)).toEqual({
        encoding: 'utf-8',
        bom: false,
        gzip: false,
        separator: ',',
        header: [],
      })
      expect(await rows(p)).toEqual([])
    }
  })

  it('a header only: the header, no rows', async () => {
    const p = await file('header.csv', 'a;b;c\n')
    expect((await sniffCsv(p)).header).toEqual(['a', 'b', 'c'])
    expect(await rows(p)).toEqual([])
  })

  it('quoted fields: their separators and line breaks do not count', async () => {
    const p = await file(
      'quoted.csv',
      'nom;adresse\n"Dupont, Jean";"1, rue X\nParis"\n"Durand, Léa";"2, rue Y"\n',
    )
    expect((await sniffCsv(p)).separator).toBe(';')
    expect(await rows(p)).toEqual([
      ['Dupont, Jean', '1, rue X\nParis'],
      ['Durand, Léa', '2, rue Y'],
    ])
  })

  it('a gzip file is read through gunzip', async () => {
    const p = await file('data.csv.gz', gzipSync('x,y\n1,2\n3,4\n'))
    expect(await sniffCsv(p)).toMatchObject({ gzip: true, separator: ',', header: ['x', 'y'] })
    expect(await rows(p)).toEqual([
      ['1', '2'],
      ['3', '4'],
    ])
  })

  it('rows with more or fewer fields than the header are given as they are', async () => {
    const p = await file('ragged.csv', 'a,b\n1\n1,2,3\n')
    expect(await rows(p)).toEqual([['1'], ['1', '2', '3']])
  })
})

describe('reading errors', () => {
  it('bytes that are not UTF-8 after the sample: a CsvReadError naming the file and where', async () => {
    const head = 'a,b\n' + '1,2\n'.repeat(40_000) // 160 kB of ASCII, beyond the 64 KiB sample
    const p = await file('late.csv', Buffer.concat([Buffer.from(head), Buffer.from([0xe9, 0x0a])]))
    const sniffed = await sniffCsv(p)
    expect(sniffed.encoding).toBe('utf-8')
    const error = await rows(p).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CsvReadError)
    expect((error as Error).message).toMatch(/late\.csv: not valid utf-8 within bytes \d+–\d+/)
  })

  it('a quote never closed stops at 16 MiB instead of holding the whole file', async () => {
    const p = path.join(dir, 'unclosed.csv')
    const out = createWriteStream(p)
    out.write('a,b\n1,"')
    const block = 'x'.repeat(1 << 20)
    for (let i = 0; i < 20; i++) if (!out.write(block)) await once(out, 'drain')
    out.end()
    await once(out, 'finish')
    const error = await rows(p).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CsvReadError)
    expect((error as Error).message).toMatch(/unclosed\.csv: not readable as CSV: max record size/i)
  })

  it('a file that says gzip but is not', async () => {
    const p = await file('bad.csv.gz', Buffer.from([0x1f, 0x8b, 0x00, 0x01, 0x02]))
    await expect(sniffCsv(p)).rejects.toThrow(/bad\.csv\.gz: not a valid gzip file/)
  })

  it('stopping early releases the file: the next read starts over', async () => {
    const p = await file('early.csv', 'n\n1\n2\n3\n')
    const sniffed = await sniffCsv(p)
    for await (const row of csvRows(p, sniffed)) {
      expect(row).toEqual(['1'])
      break
    }
    expect(await rows(p)).toEqual([['1'], ['2'], ['3']])
  })
})

describe('detectSeparator', () => {
  it.each([
    ['a,b,c\n1,2,3\n', ','],
    ['a;b;c\n1;2,5;3\n', ';'], // decimal commas on the rows: semicolons are steady
    ['a\tb\n1\t2\n', '\t'],
    ['a|b\n1|2\n', '|'],
    ['single\n1\n', ','],
    ['a;b,c\n', ','], // one line, a tie (each once): the first of , ; tab |
  ])('%j -> %j', (text, expected) => {
    expect(detectSeparator(text)).toBe(expected)
  })
})

describe('detectEncoding', () => {
  it('UTF-8 cut in the middle of a character at the sample end is still UTF-8', () => {
    const bytes = Buffer.from('é', 'utf8').subarray(0, 1)
    expect(detectEncoding(Buffer.concat([Buffer.from('abc'), bytes]))).toEqual({
      encoding: 'utf-8',
      bom: false,
    })
  })
})
