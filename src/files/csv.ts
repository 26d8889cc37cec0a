/**
 * A CSV file read as a stream: its encoding, separator and header sniffed from its first bytes
 * (`sniffCsv`), then its rows one at a time (`csvRows`), parsed by csv-parse. Memory holds the
 * sample and one record, whatever the file size. A gzip file (`.csv.gz`) is read through gunzip.
 *
 *   const sniffed = await sniffCsv('out/sales.csv')   // { encoding, bom, gzip, separator, header }
 *   for await (const row of csvRows('out/sales.csv', sniffed)) ...   // the rows after the header
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Transform, Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { parse } from 'csv-parse'
import { toErrorMessage } from '../util/errors.js'

/**
 * What the bytes are: UTF-8, UTF-16 (only with its byte order mark), else a single-byte legacy
 * encoding: `windows-1252` when a byte in 0x80–0x9F (cp1252's €, œ, typographic quotes…) is
 * there, `iso-8859-1` (latin-1) otherwise. Both decode the same way (WHATWG names latin-1 an alias
 * of windows-1252): the two names tell what the file most likely is.
 */
export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252' | 'iso-8859-1'

export type CsvSeparator = ',' | ';' | '\t' | '|'

const SEPARATORS: readonly CsvSeparator[] = [',', ';', '\t', '|']

export interface CsvSniff {
  readonly encoding: CsvEncoding
  /** The file starts with a byte order mark (UTF-8's EF BB BF, or UTF-16's). */
  readonly bom: boolean
  /** The file is gzip-compressed (read through gunzip). */
  readonly gzip: boolean
  /** `,` when no candidate appears on the first lines (a single column). */
  readonly separator: CsvSeparator
  /** The first record; `[]` for a file with no record (empty, or blank lines only). */
  readonly header: readonly string[]
}

/** How much of the (decompressed) start of a file decides the encoding and the separator. */
const SAMPLE_BYTES = 64 * 1024
/** A record longer than this is an error rather than memory growing with the file. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024

/** The file could not be read as CSV: bytes not in its encoding, or a malformed record. */
export class CsvReadError extends Error {
  override readonly name = 'CsvReadError'
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${message}`, options)
  }
}

/** The encoding, byte order mark, compression, separator and header of a CSV file. */
export async function sniffCsv(path: string): Promise<CsvSniff> {
  const { bytes, gzip } = await sample(path)
  const { encoding, bom } = detectEncoding(bytes)
  const text = new TextDecoder(encoding).decode(bytes)
  const base = { encoding, bom, gzip, separator: detectSeparator(text), header: [] }
  for await (const record of records(path, base)) return { ...base, header: record }
  return base
}

/** The rows after the header, each as its fields; rows may have more or fewer fields than it. */
export async function* csvRows(path: string, sniffed: CsvSniff): AsyncGenerator<string[]> {
  let first = true
  for await (const record of records(path, sniffed)) {
    if (!first) yield record
    first = false
  }
}

/**
 * Reads the whole file through its decoder, parsing nothing: a CsvReadError says where bytes not
 * in the sniffed encoding are (the sample only saw the first 64 KiB).
 */
export async function checkDecoding(path: string, sniffed: CsvSniff): Promise<void> {
  const stages: Array<Readable | Transform> = [createReadStream(path)]
  if (sniffed.gzip) stages.push(createGunzip())
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() })
  await pipeline([...stages, decoder(path, sniffed.encoding), sink]).catch((error: unknown) => {
    throw error instanceof CsvReadError
      ? error
      : new CsvReadError(path, `not readable: ${toErrorMessage(error)}`, { cause: error })
  })
}

async function sample(path: string): Promise<{ bytes: Uint8Array; gzip: boolean }> {
  const file = await open(path)
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES)
    const { bytesRead } = await file.read(buffer, 0, SAMPLE_BYTES, 0)
    const head = buffer.subarray(0, bytesRead)
    if (!isGzip(head)) return { bytes: head, gzip: false }
    return { bytes: await gunzippedHead(path), gzip: true }
  } finally {
    await file.close()
  }
}

function isGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b
}

/** The first SAMPLE_BYTES of a gzip file's content, decompressing no more than that. */
async function gunzippedHead(path: string): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let length = 0
  const stream = createReadStream(path).pipe(createGunzip())
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk)
      length += chunk.length
      if (length >= SAMPLE_BYTES) break
    }
  } catch (error) {
    if (length === 0) throw new CsvReadError(path, 'not a valid gzip file', { cause: error })
  } finally {
    stream.destroy()
  }
  return Buffer.concat(chunks).subarray(0, SAMPLE_BYTES)
}

/** The encoding of a file from its first bytes (see CsvEncoding). */
export function detectEncoding(bytes: Uint8Array): { encoding: CsvEncoding; bom: boolean } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return { encoding: 'utf-8', bom: true }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', bom: true }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', bom: true }
  try {
    // `stream: true`: a character cut at the end of the sample is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true })
    return { encoding: 'utf-8', bom: false }
  } catch {
    const cp1252 = bytes.some((b) => b >= 0x80 && b <= 0x9f)
    return { encoding: cp1252 ? 'windows-1252' : 'iso-8859-1', bom: false }
  }
}

/**
 * The separator of a CSV text: among `,` `;` tab `|`, the one found the same number of times on
 * each of the first complete lines (quoted fields ignored), the most often; else the one found the
 * most often on the first line; `,` when none is found.
 */
export function detectSeparator(text: string): CsvSeparator {
  const lines = firstLines(text, 20)
  const counts = SEPARATORS.map((separator) => ({
    separator,
    perLine: lines.map((line) => count(line, separator)),
  }))
  const steady = counts.filter(
    ({ perLine }) => perLine.length > 0 && perLine.every((n) => n > 0 && n === perLine[0]),
  )
  const ranked = (steady.length > 0 ? steady : counts)
    .map(({ separator, perLine }) => ({ separator, n: perLine[0] ?? 0 }))
    .filter(({ n }) => n > 0)
    .sort((a, b) => b.n - a.n)
  return ranked[0]?.separator ?? ','
}

/**
 * The first `max` lines of a text, line breaks inside quoted fields kept within their line, and
 * quoted fields blanked (their separators do not count). A last line cut by the sample's end is
 * left out, unless it is the only one.
 */
function firstLines(text: string, max: number): string[] {
  const lines: string[] = []
  let line = ''
  let quoted = false
  for (const char of text) {
    if (char === '"') quoted = !quoted
    else if (!quoted && (char === '\n' || char === '\r')) {
      if (line !== '') lines.push(line)
      line = ''
      if (lines.length === max) return lines
    } else if (!quoted) line += char
  }
  if (lines.length === 0 && line !== '') lines.push(line)
  return lines
}

function count(line: string, separator: string): number {
  let n = 0
  for (const char of line) if (char === separator) n++
  return n
}

/** Every record of the file, the header first, parsed as it is read. */
async function* records(path: string, sniffed: Omit<CsvSniff, 'header'>): AsyncGenerator<string[]> {
  const parser = parse({
    delimiter: sniffed.separator,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
  })
  const stages: Readable[] = [createReadStream(path)]
  if (sniffed.gzip) stages.push(createGunzip())
  const done = pipeline([...stages, decoder(path, sniffed.encoding), parser]).catch(() => {})
  try {
    for await (const record of parser as AsyncIterable<string[]>) yield record
  } catch (error) {
    throw error instanceof CsvReadError
      ? error
      : new CsvReadError(path, `not readable as CSV: ${toErrorMessage(error)}`, { cause: error })
  } finally {
    parser.destroy()
    await done
  }
}

/** Bytes in `encoding` to UTF-8 text (the byte order mark dropped); bytes not in it are an error. */
function decoder(path: string, encoding: CsvEncoding): Transform {
  const text = new TextDecoder(encoding, { fatal: true })
  let offset = 0
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk === undefined ? text.decode() : text.decode(chunk, { stream: true })
    } catch (error) {
      const where =
        chunk === undefined ? 'at its end' : `within bytes ${offset}–${offset + chunk.length}`
      throw new CsvReadError(path, `not valid ${encoding} ${where}`, { cause: error })
    } finally {
      offset += chunk?.length ?? 0
    }
  }
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        callback(null, decode(chunk))
      } catch (error) {
        callback(error as Error)
      }
    },
    flush(callback) {
      try {
        callback(null, decode())
      } catch (error) {
        callback(error as Error)
      }
    },
  })
}
