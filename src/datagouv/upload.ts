/**
 * File uploads (reference §3, §4, §5): one multipart request up to the chunk size, the chunked
 * protocol above it. Bodies stream from disk with an exact Content-Length; the local sha1 is
 * computed from the bytes as they are sent. Every upload ends by comparing the server's size and
 * checksum with the local ones.
 */
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { hashFile, isSupportedChecksum, SequentialHasher } from '../files/hash.js'
import { normalizeFilename } from '../files/normalize.js'
import type { DatagouvClient } from './client.js'
import { ApiError, isRetryable, NetworkError, ProtocolError, toErrorMessage } from './errors.js'
import { retryDelay, sleep } from './retry.js'
import { ChunkStatusSchema, ResourceSchema, type Resource } from './schemas.js'

export interface UploadRequest {
  datasetId: string
  /** Existing resource whose file is replaced in place; absent: a new resource is created. */
  resourceId?: string | undefined
  /** Absolute local path. */
  path: string
  size: number
  /** Name sent to the server (it stores, and titles the resource with, its normalised form). */
  uploadName: string
  chunkSize: number
  /** Ids the dataset held before, to recognise a new resource the server created without answering. */
  knownResourceIds: ReadonlySet<string>
  /**
   * New resources the run's uploads already obtained (created, or found after a lost answer),
   * shared by them all and added to here: a lost answer is never matched to another entry's resource.
   */
  claimedResourceIds: Set<string>
  /** Called as bytes leave (first sends and re-sends alike). */
  onProgress?: (sentBytes: number) => void
}

export interface UploadOutcome {
  resource: Resource
  sha1: string
  /** Requests sent, retries included. */
  requests: number
  /** True when a lost answer was recovered by reading the dataset instead of sending again. */
  recovered: boolean
}

/** The server stored something other than the local file. */
export class VerificationError extends Error {
  override readonly name = 'VerificationError'
  constructor(
    message: string,
    /** The resource as the server answered, holding the wrong file. */
    readonly resource: Resource,
  ) {
    super(message)
  }
}

const CHUNK_SIZE_MISMATCH = 'Chunk size mismatch'

interface UploadState {
  requests: number
  recovered: boolean
  /** What is being sent: the parts, or the request that creates or replaces the stored file. */
  phase: 'parts' | 'final'
  /** That request failed in a way that may hide a success: look before sending it again. */
  mayHaveActed: boolean
  /** The last failure of that request. */
  lastFailure?: unknown
}

/** One attempt at the whole file: where it goes, and what every request of it shares. */
interface Round {
  client: DatagouvClient
  /** The request, with the resource this round replaces (a restart may have one the first round created). */
  upload: UploadRequest
  endpoint: string
  expected: number[]
  hasher: SequentialHasher
  state: UploadState
}

export async function uploadFile(client: DatagouvClient, upload: UploadRequest): Promise<UploadOutcome> {
  const state: UploadState = { requests: 0, recovered: false, phase: 'parts', mayHaveActed: false }
  const hasher = new SequentialHasher(upload.size)
  const chunked = upload.size > upload.chunkSize
  let resourceId = upload.resourceId

  for (let round = 0; ; round++) {
    const endpoint = resourceId === undefined ? `/datasets/${upload.datasetId}/upload/` : `/datasets/${upload.datasetId}/resources/${resourceId}/upload/`
    const expected = resourceId === undefined ? [201, 200] : [200, 201]
    try {
      const current: Round = { client, upload: { ...upload, resourceId }, endpoint, expected, hasher, state }
      const resource = chunked ? await sendChunked(current) : await sendSingle(current)
      if (upload.resourceId === undefined) upload.claimedResourceIds.add(resource.id)
      const sha1 = hasher.digest()
      if (sha1 === undefined) throw new ProtocolError('the upload finished before the whole file was read')
      await verify(resource, upload, sha1)
      return { resource, sha1, requests: state.requests, recovered: state.recovered }
    } catch (error) {
      // One restart from scratch with a new uuid, for what a fresh attempt can cure: a stored file
      // that does not match, or a chunked finalisation answering 500, its parts gone or unreadable
      // (reference §5.5). A part that keeps failing, or a gateway that keeps answering 502-504, is
      // not cured by sending every part again.
      const restartable = error instanceof VerificationError || (chunked && state.phase === 'final' && error instanceof ApiError && error.status === 500)
      if (round >= 1 || !restartable) throw error
      // A new resource that received the wrong file is now replaced in place, never created again.
      if (error instanceof VerificationError) resourceId = error.resource.id
      client.logger.warning(`${toErrorMessage(error)}; uploading ${upload.uploadName} again from the start`)
    }
  }
}

async function sendSingle(round: Round): Promise<Resource> {
  const { upload, hasher } = round
  return sendFinal(round, () => multipart([], { path: upload.path, start: 0, end: upload.size, filename: upload.uploadName }, hasher, upload.onProgress))
}

async function sendChunked(round: Round): Promise<Resource> {
  const { client, upload, endpoint, hasher, state } = round
  const uuid = randomUUID()
  const parts = partRanges(upload.size, upload.chunkSize)
  state.phase = 'parts'
  const common: Array<[string, string]> = [
    ['uuid', uuid],
    ['filename', upload.uploadName],
    ['totalparts', String(parts.length)],
  ]
  for (const [index, part] of parts.entries()) {
    const fields: Array<[string, string]> = [
      ...common,
      ['partindex', String(index)],
      ['partbyteoffset', String(part.start)],
      ['chunksize', String(part.end - part.start)],
    ]
    let mismatchRetried = false
    // Whether an earlier attempt of this part may have been stored although it got no answer.
    let mayBeStored = false
    for (let attempt = 0; ; attempt++) {
      state.requests++
      try {
        const answer = await client.send('POST', endpoint, {
          body: () => multipart(fields, { path: upload.path, start: part.start, end: part.end, filename: 'blob' }, hasher, upload.onProgress),
          expect: [200],
        })
        const status = client.parse(answer, ChunkStatusSchema, 'POST', endpoint)
        if (!status.success) throw new ProtocolError(`part ${index + 1}/${parts.length} refused: ${status.error ?? 'no reason given'}`)
        break
      } catch (error) {
        // A part the server stored before its answer was lost cannot be stored again: a retry
        // answers 500 (FileExists). After such a loss, that 500 is taken as stored and the final
        // checksum check has the last word; after an answered failure (a 503), a 500 is a failure.
        if (mayBeStored && error instanceof ApiError && error.status === 500) {
          client.logger.debug(`part ${index + 1}/${parts.length} answered 500 on retry after a lost answer: taken as already stored`)
          break
        }
        // A spurious size mismatch (a server-side multipart bug, reference §5.3) is worth one retry.
        const mismatch = error instanceof ApiError && error.status === 400 && error.apiMessage.includes(CHUNK_SIZE_MISMATCH) && !mismatchRetried
        if (mismatch) mismatchRetried = true
        if (!mismatch && (!isRetryable(error) || attempt >= client.retry.maxRetries)) {
          throw annotate(error, `part ${index + 1}/${parts.length}`)
        }
        mayBeStored ||= mayHideSuccess(error)
        await backoff(client, error, attempt)
      }
    }
  }
  state.phase = 'final'
  return sendFinal(round, () => multipart(common, undefined, hasher, undefined))
}

/**
 * A failure after which the server may have acted, or may still be acting: no answer at all
 * (connection lost, timeout), or a gateway's 502/504 while the application behind it goes on.
 */
function mayHideSuccess(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status === 502 || error.status === 504))
}

/**
 * The request that creates or replaces the stored file (the single upload, or the chunked
 * finalisation). Its answer can be lost after the server acted, or come after the timeout while
 * the server goes on. So after a retryable failure, and again just before a re-send that follows a
 * failure that may hide a success, the dataset is read: when it holds this file (same size and
 * sha1), that is the result. A new resource is never created twice; and a chunked re-send keeps
 * the uuid, whose parts the server deletes once it has stored the file, so a re-send after a
 * finalisation that did succeed answers 500 (missing part) instead of storing the file again.
 */
async function sendFinal(round: Round, body: () => MultipartBody): Promise<Resource> {
  const { client, endpoint, expected, state } = round
  state.phase = 'final'
  for (let attempt = 0; ; attempt++) {
    if (state.mayHaveActed) {
      const found = await lookForUpload(round, state.lastFailure)
      if (found !== undefined) return found
    }
    state.requests++
    try {
      const answer = await client.send('POST', endpoint, { body, expect: expected })
      return client.parse(answer, ResourceSchema, 'POST', endpoint)
    } catch (error) {
      if (!isRetryable(error)) throw error
      state.lastFailure = error
      const found = await lookForUpload(round, error)
      if (found !== undefined) return found
      if (attempt >= client.retry.maxRetries) throw error
      // Once a request may have acted unseen, it may still do so: every later send is preceded by a look.
      state.mayHaveActed ||= mayHideSuccess(error)
      await backoff(client, error, attempt)
    }
  }
}

/**
 * After `error` on a request that stores the file: the resource holding this exact file, if the
 * server stored it all the same. Nothing to look for before the whole file was read (and so sent).
 */
async function lookForUpload(round: Round, error: unknown): Promise<Resource | undefined> {
  const { client, upload, hasher, state } = round
  const sha1 = hasher.digest()
  if (sha1 === undefined) return undefined
  let found: Resource | undefined
  try {
    found = await findUploaded(client, upload, sha1)
  } catch (lookError) {
    throw new Error(
      `${toErrorMessage(error)}; then reading the dataset, to see whether the server stored ${upload.uploadName} all the same, failed: ${toErrorMessage(lookError)}`,
      { cause: lookError },
    )
  }
  if (found === undefined) return undefined
  client.logger.warning(`${toErrorMessage(error)}; the server holds the file all the same (resource ${found.id}), not sending it again`)
  if (upload.resourceId === undefined) upload.claimedResourceIds.add(found.id)
  state.recovered = true
  state.mayHaveActed = false
  return found
}

/**
 * The resource holding this exact file, if the server stored it. For a new resource: one that was
 * not in the dataset before the run, that no other upload of the run obtained, and that bears the
 * name the server gives this upload (as title or stored file name), so that another entry's new
 * resource with the same content is never taken for this one.
 */
async function findUploaded(client: DatagouvClient, upload: UploadRequest, sha1: string): Promise<Resource | undefined> {
  const dataset = await client.getDataset(upload.datasetId)
  const holds = (r: Resource): boolean => r.filesize === upload.size && r.checksum?.type === 'sha1' && r.checksum.value.toLowerCase() === sha1
  if (upload.resourceId !== undefined) return dataset.resources.find((r) => r.id === upload.resourceId && holds(r))
  const claimed = upload.claimedResourceIds
  const name = normalizeFilename(upload.uploadName)
  return dataset.resources.find((r) => !upload.knownResourceIds.has(r.id) && !claimed.has(r.id) && (r.title === name || r.url.endsWith(`/${name}`)) && holds(r))
}

async function verify(resource: Resource, upload: UploadRequest, sha1: string): Promise<void> {
  if (resource.filesize !== undefined && resource.filesize !== null && resource.filesize !== upload.size) {
    throw new VerificationError(`the server stored ${resource.filesize} bytes for resource ${resource.id}, the local file has ${upload.size}`, resource)
  }
  const checksum = resource.checksum
  if (checksum === undefined || checksum === null) {
    if (resource.filesize === undefined || resource.filesize === null)
      throw new VerificationError(`the server reported neither size nor checksum for resource ${resource.id}: the upload cannot be verified`, resource)
    return
  }
  const type = checksum.type.toLowerCase()
  if (!isSupportedChecksum(type)) return
  const local = type === 'sha1' ? sha1 : await hashFile(upload.path, type)
  if (checksum.value.toLowerCase() !== local) {
    throw new VerificationError(`the server's ${type} for resource ${resource.id} is ${checksum.value}, the local file's is ${local}`, resource)
  }
}

async function backoff(client: DatagouvClient, error: unknown, attempt: number): Promise<void> {
  const delay = retryDelay(client.retry, attempt + 1, error instanceof ApiError ? error.retryAfterMs : undefined)
  client.logger.warning(
    `${error instanceof Error ? error.message : String(error)}; retry ${attempt + 1}/${client.retry.maxRetries} in ${(delay / 1000).toFixed(1)} s`,
  )
  await sleep(delay)
}

function annotate(error: unknown, what: string): unknown {
  if (error instanceof Error && !error.message.startsWith(what)) error.message = `${what}: ${error.message}`
  return error
}

/** Byte ranges [start, end) of the parts, in order: every byte exactly once; none for an empty file. */
export function partRanges(size: number, chunkSize: number): Array<{ start: number; end: number }> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`chunk size must be a positive integer, not ${chunkSize}`)
  const parts: Array<{ start: number; end: number }> = []
  for (let start = 0; start < size; start += chunkSize) parts.push({ start, end: Math.min(size, start + chunkSize) })
  return parts
}

/**
 * Bytes per read of an upload. Every read is a fresh buffer (the HTTP client may still hold the
 * previous ones), which V8 frees only at its next collection. Measured on 1 GiB (BENCHMARKS.md):
 * 64 KiB to 1 MiB reads send equally fast, 1 MiB with the least CPU and about 4 MiB more garbage
 * in flight; only reads of 16 KiB or less keep the peak under 100 MiB, at twice the sending time.
 */
const READ_SIZE = 1024 * 1024

interface MultipartBody {
  stream: AsyncIterable<Uint8Array>
  length: number
  contentType: string
}

interface FileRange {
  path: string
  start: number
  end: number
  filename: string
}

/**
 * A multipart/form-data body (fields first, file part last, as the web front sends it) whose
 * length is known before a byte is read. The file range streams from disk in `READ_SIZE` reads.
 */
export function multipart(
  fields: ReadonlyArray<readonly [string, string]>,
  file: FileRange | undefined,
  hasher: SequentialHasher | undefined,
  onProgress: ((bytes: number) => void) | undefined,
): MultipartBody {
  const boundary = `----datagouv-publish-${randomUUID()}`
  const head = Buffer.from(
    fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`).join('') +
      (file === undefined
        ? ''
        : `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
  )
  const tail = Buffer.from(`${file === undefined ? '' : '\r\n'}--${boundary}--\r\n`)
  const fileLength = file === undefined ? 0 : file.end - file.start
  async function* stream(): AsyncGenerator<Uint8Array> {
    yield head
    if (file !== undefined && fileLength > 0) {
      let offset = file.start
      for await (const chunk of createReadStream(file.path, { start: file.start, end: file.end - 1, highWaterMark: READ_SIZE })) {
        const bytes = chunk as Buffer
        hasher?.feed(offset, bytes)
        offset += bytes.length
        onProgress?.(bytes.length)
        yield bytes
      }
      if (offset !== file.end) throw new Error(`${file.path} shrank while it was being sent (${offset - file.start} of ${fileLength} bytes read)`)
    }
    yield tail
  }
  return { stream: stream(), length: head.length + fileLength + tail.length, contentType: `multipart/form-data; boundary=${boundary}` }
}

/** Quoted-string escaping of the HTML multipart encoding: `"`, CR and LF percent-encoded. */
function quote(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}
