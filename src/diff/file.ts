/**
 * The data diff of one file about to replace a published one: for a table (CSV, also gzipped or
 * tab-separated, by the names of both files), what changes in its rows and columns (table.ts), the
 * published file downloaded for it (download.ts); for any other file (a spreadsheet replaced by a
 * CSV among them), or a file above the size bound, its size and checksum before and after. A diff that cannot be made says why in `note`: it never stops a publication.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CsvReadError } from '../files/csv.js'
import { hashFile, isSupportedChecksum } from '../files/hash.js'
import { formatBytes } from '../util/text.js'
import { toErrorMessage } from '../util/errors.js'
import { download, type DownloadOptions } from './download.js'
import { diffTables, type TableDiff } from './table.js'

export interface FileDiff {
  /** The local file, as the run's messages name it. */
  source: string
  /** The resource whose file it replaces. */
  resource: { id: string; title: string }
  /** `table`: rows compared; `file`: size and checksum; `sizes`: sizes only (see `note`). */
  kind: 'table' | 'file' | 'sizes'
  size: { before: number | null; after: number }
  checksum?: { type: string; before: string | null; after: string | null }
  table?: TableDiff
  /** Why the diff says no more than it does. */
  note?: string
}

/** A local file and the published one it replaces. */
export interface DiffTarget {
  source: string
  /** Absolute path of the local file. */
  path: string
  size: number
  /** Key columns the entry names. */
  key?: readonly string[]
  /** The local checksum, when the plan computed it. */
  checksum?: { type: string; value: string }
  resource: {
    id: string
    title: string
    url: string
    filesize?: number | null | undefined
    checksum?: { type: string; value: string } | null | undefined
  }
}

export interface DiffOptions extends Omit<DownloadOptions, 'maxBytes'> {
  /** `diff-max-size`: above it, in either file, sizes only; 0: never download. */
  maxBytes: number
}

/** Extensions read as tables: CSV as udata takes it, gzipped, or tab-separated. */
const TABLE = /\.(csv|tsv|csv\.gz|tsv\.gz)$/i

export async function diffFile(target: DiffTarget, options: DiffOptions): Promise<FileDiff> {
  const before = target.resource.filesize ?? null
  const base = {
    source: target.source,
    resource: { id: target.resource.id, title: target.resource.title },
    size: { before, after: target.size },
  }
  const bound = boundNote(options.maxBytes, before, target.size)
  if (bound !== undefined) return { ...base, kind: 'sizes', ...knownChecksums(target), note: bound }
  if (!TABLE.test(target.path)) return { ...base, kind: 'file', checksum: await checksums(target) }
  const published = urlPath(target.resource.url)
  if (!TABLE.test(published)) {
    const note = `the published file (${path.posix.basename(published)}) is not a CSV: size and checksum only`
    return { ...base, kind: 'file', checksum: await checksums(target), note }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'datagouv-diff-'))
  try {
    return await diffTable(target, base, path.join(dir, 'published'), options)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

type Base = Pick<FileDiff, 'source' | 'resource' | 'size'>

async function diffTable(
  target: DiffTarget,
  base: Base,
  published: string,
  options: DiffOptions,
): Promise<FileDiff> {
  let got
  try {
    got = await download(target.resource.url, published, options)
  } catch (error) {
    const note = `the published file could not be downloaded (${toErrorMessage(error)}): sizes only`
    return { ...base, kind: 'sizes', ...knownChecksums(target), note }
  }
  if (got.kind === 'too-large') {
    const size = got.size ?? base.size.before
    const note = `the published file is larger than diff-max-size (${options.maxBytes} bytes): sizes only`
    return {
      ...base,
      size: { ...base.size, before: size },
      kind: 'sizes',
      ...knownChecksums(target),
      note,
    }
  }
  const checksum = {
    type: 'sha1',
    before: got.sha1,
    after:
      target.checksum?.type === 'sha1'
        ? target.checksum.value
        : await hashFile(target.path, 'sha1'),
  }
  const size = { before: got.size, after: target.size }
  try {
    const table = await diffTables(published, target.path, target.key ? { key: target.key } : {})
    return { ...base, size, kind: 'table', checksum, table }
  } catch (error) {
    if (!(error instanceof CsvReadError)) throw error
    const which = error.path === published ? 'the published file' : 'the local file'
    const why = toErrorMessage(error).replace(`${error.path}: `, '')
    return {
      ...base,
      size,
      kind: 'file',
      checksum,
      note: `${which} is not readable as CSV (${why}): size and checksum only`,
    }
  }
}

/** The path of a URL (its query left out), decoded; the URL as given when it is not one. */
function urlPath(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname)
  } catch {
    return url
  }
}

/** Why only sizes are given, when the bound says so. */
function boundNote(maxBytes: number, before: number | null, after: number): string | undefined {
  if (maxBytes === 0) return 'diff-max-size is 0: sizes only'
  const larger = Math.max(before ?? 0, after)
  if (larger <= maxBytes) return undefined
  const which = (before ?? 0) > after ? 'published' : 'local'
  return `the ${which} file (${formatBytes(larger)}) is larger than diff-max-size (${maxBytes} bytes): sizes only`
}

/** The checksums known without reading anything: the server's, the plan's. */
function knownChecksums(target: DiffTarget): Pick<FileDiff, 'checksum'> {
  const server = target.resource.checksum ?? undefined
  const local = target.checksum
  const type = server?.type ?? local?.type
  if (type === undefined) return {}
  return {
    checksum: {
      type,
      before: server?.value ?? null,
      after: local !== undefined && local.type === type ? local.value : null,
    },
  }
}

/** The server's checksum, and the local file's of the same type (computed when not known). */
async function checksums(target: DiffTarget): Promise<NonNullable<FileDiff['checksum']>> {
  const server = target.resource.checksum ?? undefined
  const type = server !== undefined && isSupportedChecksum(server.type) ? server.type : 'sha1'
  const after =
    target.checksum?.type === type ? target.checksum.value : await hashFile(target.path, type)
  return { type, before: server?.type === type ? server.value : null, after }
}
