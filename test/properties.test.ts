/**
 * Property-based tests (fast-check) that go beyond the examples and properties beside each module:
 * the `resources` input round-trips, the udata file name normalisation is a separator-preserving
 * map that keeps extensions, the multipart bodies parse back (with busboy, the emulator's parser)
 * to exactly the fields and byte range sent, and Retry-After / backoff stay inside their bounds.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import busboy from 'busboy'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify as toYaml } from 'yaml'
import {
  CEILING_FACTOR,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from '../src/datagouv/retry.js'
import { RESOURCE_TYPES } from '../src/datagouv/schemas.js'
import { multipart, partRanges } from '../src/datagouv/multipart.js'
import { SequentialHasher } from '../src/files/hash.js'
import { InputError, parseResources } from '../src/engine/inputs.js'
import { lastExtension, normalizeFilename } from '../src/files/normalize.js'

// ---------------------------------------------------------------------------------------------
// The `resources` input

/** Keys an entry may have, whatever its kind (file, remote or release): never drawn as "unknown". */
const KNOWN_KEYS = new Set([
  'path',
  'id',
  'title',
  'description',
  'type',
  'schema',
  'extras',
  'url',
  'format',
  'kind',
  'key',
  'release',
  'name',
  'keep',
])

/** Text that is a title as given: non-blank, no surrounding whitespace, at most 350 characters. */
const title = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  .filter((t) => t.trim() === t && t !== '')

const schemaRef = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.record(
    {
      name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
      version: fc.stringMatching(/^\d{1,2}\.\d{1,2}\.\d{1,2}$/),
      url: fc.stringMatching(/^[a-z0-9]{1,12}$/).map((s) => `https://schema.example.org/${s}.json`),
    },
    { requiredKeys: [] },
  ),
)

/** A valid file entry of the list form, as a user would write it. */
const fileEntry = fc.record(
  {
    path: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    id: fc.uuid(),
    title,
    description: fc.string({ unit: 'grapheme', maxLength: 80 }),
    type: fc.constantFrom(...RESOURCE_TYPES),
    schema: schemaRef,
  },
  { requiredKeys: ['path'] },
)

/** A list item: a full entry, or a bare path (shorthand for `{path}`). */
const listItem = fc.oneof(
  fileEntry,
  fileEntry.map((e) => e.path),
)

type Written =
  string | { path: string; schema?: string | Record<string, string>; [key: string]: unknown }

/** What parseResources must return for a written item, labelled `label`. */
function expected(item: Written, label: string): Record<string, unknown> {
  if (typeof item === 'string') return { label, path: item }
  const { schema, ...rest } = item
  return {
    label,
    ...rest,
    ...(schema === undefined
      ? {}
      : { schema: typeof schema === 'string' ? { name: schema } : schema }),
  }
}

/** Compares ignoring the entry's `kind` discriminant, which these (file) entries may carry. */
function withoutKind(entries: ReadonlyArray<object>): Array<Record<string, unknown>> {
  return entries.map((entry) => {
    const { kind, ...rest } = entry as Record<string, unknown>
    if (kind !== undefined) expect(kind).toBe('file')
    return rest
  })
}

describe('parseResources (src/engine/inputs.ts)', () => {
  it('round-trips any list of valid entries written as YAML or as JSON: same entries, same order, labels by position', () => {
    fc.assert(
      fc.property(fc.array(listItem, { minLength: 1, maxLength: 6 }), (items) => {
        const want = items.map((item, index) => expected(item, `resources[${index}]`))
        expect(withoutKind(parseResources(toYaml(items)))).toEqual(want)
        expect(withoutKind(parseResources(JSON.stringify(items)))).toEqual(want)
        expect(withoutKind(parseResources(JSON.stringify(items, null, 2)))).toEqual(want)
      }),
    )
  })

  it('round-trips the shorthand mapping path: resource-id, in YAML and JSON, labelled by path', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.uuid()),
          { selector: ([p]) => p, minLength: 1, maxLength: 6 },
        ),
        (pairs) => {
          const mapping = Object.fromEntries(pairs)
          // In the order a mapping is read: JavaScript puts integer-like keys first.
          const want = Object.entries(mapping).map(([p, id]) => ({ label: `'${p}'`, path: p, id }))
          expect(withoutKind(parseResources(toYaml(mapping)))).toEqual(want)
          expect(withoutKind(parseResources(JSON.stringify(mapping)))).toEqual(want)
        },
      ),
    )
  })

  it('refuses an unknown key in any entry, naming that entry and the key, and only the faulty entries', () => {
    const unknownKey = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
      .filter((k) => !KNOWN_KEYS.has(k))
    fc.assert(
      fc.property(
        fc.array(fileEntry, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        unknownKey,
        fc.jsonValue(),
        fc.constantFrom('yaml', 'json'),
        (entries, pick, key, value, syntax) => {
          const index = pick % entries.length
          const items: Array<Record<string, unknown>> = entries.map((e) => ({ ...e }))
          Object.defineProperty(items[index], key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true,
          })
          const text = syntax === 'yaml' ? toYaml(items) : JSON.stringify(items)
          let message = ''
          try {
            parseResources(text)
          } catch (error) {
            expect(error).toBeInstanceOf(InputError)
            message = (error as Error).message
          }
          expect(message).toContain(
            `input 'resources', entry resources[${index}]: unknown key '${key}' (accepted: path, `,
          )
          const others = entries.map((_, i) => i).filter((i) => i !== index)
          for (const i of others) expect(message).not.toContain(`entry resources[${i}]`)
        },
      ),
    )
  })
})

// ---------------------------------------------------------------------------------------------
// File name normalisation (src/files/normalize.ts)

const asciiName = fc.string({ unit: 'grapheme-ascii', maxLength: 40 })
const anyName = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
const extension = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/)

describe('normalizeFilename (udata utils.normalize)', () => {
  it('never throws and only ever yields words of [a-z0-9.] joined by single dashes, even from lone surrogates', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        expect(normalizeFilename(name)).toMatch(/^([a-z0-9.]+(-[a-z0-9.]+)*)?$/)
      }),
    )
  })

  it('keeps every letter, digit and dot of an ASCII name, in order, lower-cased; drops everything else but the dashes between words', () => {
    fc.assert(
      fc.property(asciiName, (name) => {
        expect(normalizeFilename(name).replace(/-/g, '')).toBe(
          name.replace(/[^A-Za-z0-9.]/g, '').toLowerCase(),
        )
      }),
    )
  })

  it('maps a separator between two ASCII names to one dash (or none when a side is empty)', () => {
    const separator = fc.stringMatching(/^[ _\-()[\]@#,;+&]{1,4}$/)
    fc.assert(
      fc.property(asciiName, separator, asciiName, (a, sep, b) => {
        const parts = [normalizeFilename(a), normalizeFilename(b)].filter((p) => p !== '')
        expect(normalizeFilename(a + sep + b)).toBe(parts.join('-'))
      }),
    )
  })

  it('ignores the case of ASCII names', () => {
    fc.assert(
      fc.property(asciiName, (name) => {
        expect(normalizeFilename(name.toUpperCase())).toBe(normalizeFilename(name))
      }),
    )
  })

  it('keeps an ASCII extension, lower-cased, whatever the stem (any script)', () => {
    fc.assert(
      fc.property(anyName, extension, (stem, ext) => {
        const stored = normalizeFilename(`${stem}.${ext}`)
        expect(stored.endsWith(`.${ext.toLowerCase()}`)).toBe(true)
        // A stored name that is only dots and the extension (`.csv`) has none, as Python's splitext
        // says (test/fixtures/normalize-cases.json); any other keeps it.
        expect(lastExtension(stored)).toBe(
          /^\.+[^.]+$/.test(stored) ? undefined : ext.toLowerCase(),
        )
      }),
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Parts and multipart bodies (src/datagouv/multipart.ts)

describe('parts and multipart bodies', () => {
  let dir = ''
  let file = ''
  const content = randomBytes(2.5 * 1024 * 1024 + 17)
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'properties-'))
    file = path.join(dir, 'data.bin')
    await writeFile(file, content)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('part offsets are index × chunk size (the partbyteoffset field), and the chunked protocol is used exactly when size > chunk size', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), fc.integer({ min: 1024, max: 2 ** 31 }), (size, chunk) => {
        fc.pre(Math.ceil(size / chunk) <= 5000)
        const parts = partRanges(size, chunk)
        parts.forEach((part, index) => expect(part.start).toBe(index * chunk))
        // More than one part exactly when the file is larger than a chunk: the front's strict `>`.
        expect(parts.length > 1).toBe(size > chunk)
      }),
    )
  })

  it('a body parses back (busboy) to exactly the fields and the byte range sent, with the announced length, hashing the range', async () => {
    const fieldValue = fc.oneof(
      fc.uuid(),
      fc.nat().map(String),
      fc.string({ unit: 'grapheme', maxLength: 30 }).map(normalizeFilename),
    )
    const fields = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z]{1,14}$/), fieldValue), {
      selector: ([name]) => name,
      maxLength: 7,
    })
    const range = fc
      .tuple(fc.nat({ max: content.length }), fc.nat({ max: content.length }))
      .map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) }))
    const filename = fc.oneof(
      fc.constant('blob'),
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
        .map(normalizeFilename)
        .filter((n) => n !== ''),
    )
    await fc.assert(
      fc.asyncProperty(
        fields,
        fc.option(fc.tuple(range, filename), { nil: undefined }),
        async (formFields, filePart) => {
          const hasher = filePart === undefined ? undefined : new SequentialHasher(filePart[0].end)
          // Feed the hasher the bytes before the range, so that it can take the range next.
          if (filePart !== undefined && hasher !== undefined)
            hasher.feed(0, content.subarray(0, filePart[0].start))
          let progress = 0
          const body = multipart(
            formFields,
            filePart === undefined
              ? undefined
              : { path: file, ...filePart[0], filename: filePart[1] },
            hasher,
            (n) => (progress += n),
          )
          const chunks: Buffer[] = []
          for await (const chunk of body.stream) chunks.push(Buffer.from(chunk))
          const bytes = Buffer.concat(chunks)
          expect(bytes.length).toBe(body.length)
          const parsed = await parseForm(bytes, body.contentType)
          expect(parsed.fields).toEqual(formFields)
          if (filePart === undefined) {
            expect(parsed.files).toEqual([])
            return
          }
          const [{ start, end }, name] = filePart
          expect(parsed.files).toHaveLength(1)
          expect(parsed.files[0]?.name).toBe('file')
          expect(parsed.files[0]?.filename).toBe(name)
          expect(parsed.files[0]?.data.equals(content.subarray(start, end))).toBe(true)
          expect(progress).toBe(end - start)
          expect(hasher?.digest()).toBe(
            createHash('sha1').update(content.subarray(0, end)).digest('hex'),
          )
        },
      ),
      { numRuns: 60 },
    )
  })
})

/** Parses a multipart body as the emulator does (busboy, paths in file names kept, as Werkzeug keeps them). */
function parseForm(
  bytes: Buffer,
  contentType: string,
): Promise<{
  fields: Array<[string, string]>
  files: Array<{ name: string; filename: string | undefined; data: Buffer }>
}> {
  return new Promise((resolve, reject) => {
    const fields: Array<[string, string]> = []
    const files: Array<{ name: string; filename: string | undefined; data: Buffer }> = []
    const parser = busboy({
      headers: { 'content-type': contentType },
      defParamCharset: 'utf8',
      preservePath: true,
      limits: { fieldSize: 1 << 20 },
    })
    parser.on('field', (name, value) => fields.push([name, value]))
    parser.on('file', (name, stream, info) => {
      const data: Buffer[] = []
      stream.on('data', (chunk: Buffer) => data.push(chunk))
      stream.on('end', () =>
        files.push({ name, filename: info.filename, data: Buffer.concat(data) }),
      )
    })
    parser.on('error', reject)
    parser.on('close', () => resolve({ fields, files }))
    parser.end(bytes)
  })
}

// ---------------------------------------------------------------------------------------------
// Retry-After and backoff (src/datagouv/retry.ts)

describe('parseRetryAfter', () => {
  const whitespace = fc.stringMatching(/^[ \t]{0,3}$/)

  it('reads delta-seconds exactly, whatever the surrounding whitespace, and stays finite for absurd values', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 ** 9 }), whitespace, whitespace, (seconds, before, after) => {
        expect(parseRetryAfter(`${before}${seconds}${after}`)).toBe(seconds * 1000)
      }),
    )
    fc.assert(
      fc.property(fc.stringMatching(/^\d{16,400}$/), (digits) => {
        const ms = parseRetryAfter(digits)
        expect(Number.isSafeInteger(ms)).toBe(true)
        expect(ms).toBeGreaterThan(0)
      }),
    )
  })

  it('reads an HTTP-date (IMF-fixdate) as the time left until it, 0 when past', () => {
    const seconds = fc.integer({ min: 0, max: 253_402_300_799 }) // 1970 .. 9999, whole seconds
    fc.assert(
      fc.property(seconds, seconds, (dateSeconds, nowSeconds) => {
        const date = new Date(dateSeconds * 1000)
        expect(parseRetryAfter(date.toUTCString(), nowSeconds * 1000)).toBe(
          Math.max(0, (dateSeconds - nowSeconds) * 1000),
        )
      }),
    )
  })

  it('gives undefined for anything that is neither digits nor a date with letters', () => {
    fc.assert(
      fc.property(
        fc
          .string({ unit: 'grapheme-ascii', maxLength: 20 })
          .filter((s) => !/[a-z]/i.test(s) && !/^\s*\d+\s*$/.test(s)),
        (value) => {
          expect(parseRetryAfter(value)).toBeUndefined()
        },
      ),
    )
  })
})

describe('retryDelay', () => {
  const policy = fc.record(
    {
      maxRetries: fc.integer({ min: 0, max: 20 }),
      baseDelayMs: fc.integer({ min: 0, max: 5000 }),
      maxDelayMs: fc.integer({ min: 0, max: 600_000 }),
    },
    { requiredKeys: ['maxRetries', 'baseDelayMs'] },
  )
  const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
  const ceiling = (p: RetryPolicy): number => p.maxDelayMs ?? CEILING_FACTOR * p.baseDelayMs

  it('stays within [min(base, ceiling), ceiling] and never exceeds the exponential step, for any retry number', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 1, max: 5000 }), random, (p, retry, r) => {
        const delay = retryDelay({ ...p, random: () => r }, retry)
        expect(Number.isInteger(delay)).toBe(true)
        expect(delay).toBeLessThanOrEqual(ceiling(p))
        expect(delay).toBeGreaterThanOrEqual(Math.min(p.baseDelayMs, ceiling(p)))
        expect(delay).toBeLessThanOrEqual(
          Math.max(
            p.baseDelayMs,
            Math.min(ceiling(p), p.baseDelayMs * 2 ** Math.min(64, retry - 1)),
          ) + 1,
        )
      }),
    )
  })

  it('honours Retry-After up to the ceiling (60 × base unless given), and a longer Retry-After never shortens the wait', () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 30 }),
        random,
        fc.nat({ max: 10 ** 9 }),
        fc.nat({ max: 10 ** 9 }),
        (p, retry, r, a, b) => {
          const fixed = { ...p, random: () => r }
          const [short, long] = a <= b ? [a, b] : [b, a]
          const withShort = retryDelay(fixed, retry, short)
          expect(withShort).toBeGreaterThanOrEqual(Math.min(ceiling(p), short))
          expect(withShort).toBeLessThanOrEqual(ceiling(p))
          expect(retryDelay(fixed, retry, long)).toBeGreaterThanOrEqual(withShort)
          // A Retry-After shorter than the backoff changes nothing.
          expect(retryDelay(fixed, retry, 0)).toBe(retryDelay(fixed, retry))
        },
      ),
    )
  })
})
