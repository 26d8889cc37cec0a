import { createHash } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { multipart, partRanges } from '../src/datagouv/multipart.js'
import { SequentialHasher, hashFile } from '../src/files/hash.js'

// At most a few thousand parts per case; exact multiples and the empty file drawn often.
const sizeAndChunk = fc.oneof(
  fc
    .nat({ max: 10_000_000 })
    .chain((size) =>
      fc.tuple(
        fc.constant(size),
        fc.integer({ min: Math.max(1, Math.ceil(size / 4000)), max: size + 10 }),
      ),
    ),
  fc
    .tuple(fc.nat({ max: 2000 }), fc.integer({ min: 1, max: 5000 }))
    .map(([parts, chunk]): [number, number] => [parts * chunk, chunk]),
  fc.integer({ min: 1, max: 1000 }).map((chunk): [number, number] => [0, chunk]),
)

describe('partRanges', () => {
  it('sends every byte exactly once, in order, in parts of at most the chunk size', () => {
    fc.assert(
      fc.property(sizeAndChunk, ([size, chunk]) => {
        const parts = partRanges(size, chunk)
        expect(parts.length).toBe(Math.ceil(size / chunk))
        let next = 0
        for (const [i, part] of parts.entries()) {
          expect(part.start).toBe(next)
          expect(part.end).toBeGreaterThan(part.start)
          expect(part.end - part.start).toBeLessThanOrEqual(chunk)
          if (i < parts.length - 1) expect(part.end - part.start).toBe(chunk)
          next = part.end
        }
        expect(next).toBe(size)
      }),
    )
  })

  it('matches the web front: 250 bytes in parts of 100 -> 100/100/50 at 0/100/200', () => {
    expect(partRanges(250, 100)).toEqual([
      { start: 0, end: 100 },
      { start: 100, end: 200 },
      { start: 200, end: 250 },
    ])
    expect(partRanges(200, 100)).toHaveLength(2)
    expect(partRanges(0, 100)).toEqual([])
  })

  it('refuses a chunk size that is not a positive integer', () => {
    expect(() => partRanges(10, 0)).toThrow(RangeError)
    expect(() => partRanges(10, 1.5)).toThrow(RangeError)
  })
})

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

describe('multipart', () => {
  it('announces exactly the length it streams, and hashes the file range once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'multipart-'))
    const file = path.join(dir, 'data.bin')
    const content = Buffer.alloc(3_500_000, 7)
    content.write('header', 0)
    await writeFile(file, content)
    const hasher = new SequentialHasher(content.length)
    let progress = 0
    const body = multipart(
      [
        ['uuid', 'u'],
        ['partindex', '0'],
      ],
      { path: file, start: 0, end: content.length, filename: 'Données "x".csv' },
      hasher,
      (n) => (progress += n),
    )
    const bytes = await collect(body.stream)
    expect(bytes.length).toBe(body.length)
    expect(progress).toBe(content.length)
    const text = bytes.toString('latin1')
    expect(text).toContain('name="uuid"\r\n\r\nu\r\n')
    expect(text).toContain(
      'filename="Données %22x%22.csv"'.replace('é', Buffer.from('é').toString('latin1')),
    )
    const boundary = /boundary=(.+)$/.exec(body.contentType)?.[1]
    expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true)
    expect(hasher.digest()).toBe(createHash('sha1').update(content).digest('hex'))
    expect(await hashFile(file)).toBe(hasher.digest())
  })

  it('builds a body without a file part for the chunked finalisation', async () => {
    const body = multipart([['totalparts', '3']], undefined, undefined, undefined)
    const bytes = await collect(body.stream)
    expect(bytes.length).toBe(body.length)
    expect(bytes.toString()).not.toContain('name="file"')
  })
})

describe('SequentialHasher', () => {
  it('hashes re-sent ranges once, whatever the overlap', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2000 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 20 }),
        (data, rewinds) => {
          const hasher = new SequentialHasher(data.length)
          let offset = 0
          let step = 0
          while (offset < data.length) {
            const end = Math.min(data.length, offset + 97)
            hasher.feed(offset, data.subarray(offset, end))
            const rewind = rewinds[step++] ?? 0
            offset = Math.max(0, end - rewind)
            if (step > 200) offset = end
          }
          expect(hasher.complete).toBe(true)
          expect(hasher.digest()).toBe(createHash('sha1').update(data).digest('hex'))
        },
      ),
    )
  })

  it('refuses to skip ahead and has no digest before the last byte', () => {
    const hasher = new SequentialHasher(10)
    expect(() => hasher.feed(5, new Uint8Array(5))).toThrow(/skipped/)
    hasher.feed(0, new Uint8Array(4))
    expect(hasher.digest()).toBeUndefined()
  })
})
