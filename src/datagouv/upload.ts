/**
 * File uploads (reference §3, §4, §5): one multipart request up to the chunk size, the chunked
 * protocol above it. Bodies stream from disk with an exact Content-Length; the local sha1 is
 * computed from the bytes as they are sent. Every upload ends by comparing the server's size and
 * checksum with the local ones.
 */
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { hashFile, isSupportedChecksum, SequentialHasher } from '../hash.js'
import type { DatagouvClient } from './client.js'
import { ApiError, isRetryable, ProtocolError } from './errors.js'
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

export async function uploadFile(client: DatagouvClient, upload: UploadRequest): Promise<UploadOutcome> {
  const state = { requests: 0, recovered: false }
  const hasher = new SequentialHasher(upload.size)
  const chunked = upload.size > upload.chunkSize
  let resourceId = upload.resourceId

  for (let round = 0; ; round++) {
    const endpoint = resourceId === undefined ? `/datasets/${upload.datasetId}/upload/` : `/datasets/${upload.datasetId}/resources/${resourceId}/upload/`
    const expected = resourceId === undefined ? [201, 200] : [200, 201]
    try {
      const resource = chunked
        ? await sendChunked(client, { ...upload, resourceId }, endpoint, expected, hasher, state)
        : await sendSingle(client, { ...upload, resourceId }, endpoint, expected, hasher, state)
      const sha1 = hasher.digest()
      if (sha1 === undefined) throw new ProtocolError('the upload finished before the whole file was read')
      await verify(resource, upload, sha1)
      return { resource, sha1, ...state }
    } catch (error) {
      // One restart from scratch with a new uuid, for what a fresh attempt can cure: a stored file
      // that does not match, or a chunked finalisation whose parts are gone (reference §5.5).
      const restartable = error instanceof VerificationError || (chunked && error instanceof ApiError && error.status >= 500)
      if (round >= 1 || !restartable) throw error
      // A new resource that received the wrong file is now replaced in place, never created again.
      if (error instanceof VerificationError) resourceId = error.resource.id
      client.logger.warning(`${error instanceof Error ? error.message : String(error)}; uploading ${upload.uploadName} again from the start`)
    }
  }
}

async function sendSingle(
  client: DatagouvClient,
  upload: UploadRequest,
  endpoint: string,
  expected: number[],
  hasher: SequentialHasher,
  state: { requests: number; recovered: boolean },
): Promise<Resource> {
  return sendFinal(client, upload, endpoint, expected, hasher, state, () =>
    multipart([], { path: upload.path, start: 0, end: upload.size, filename: upload.uploadName }, hasher, upload.onProgress),
  )
}

async function sendChunked(
  client: DatagouvClient,
  upload: UploadRequest,
  endpoint: string,
  expected: number[],
  hasher: SequentialHasher,
  state: { requests: number; recovered: boolean },
): Promise<Resource> {
  const uuid = randomUUID()
  const parts = partRanges(upload.size, upload.chunkSize)
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
        // A part the server stored before an answer was lost cannot be stored again: a retry
        // answers 500 (FileExists). Take that as stored; the final checksum check has the last word.
        if (attempt > 0 && error instanceof ApiError && error.status === 500) {
          client.logger.debug(`part ${index + 1}/${parts.length} answered 500 on retry: taken as already stored`)
          break
        }
        // A spurious size mismatch (a server-side multipart bug, reference §5.3) is worth one retry.
        const mismatch = error instanceof ApiError && error.status === 400 && error.apiMessage.includes(CHUNK_SIZE_MISMATCH) && !mismatchRetried
        if (mismatch) mismatchRetried = true
        if (!mismatch && (!isRetryable(error) || attempt >= client.retry.maxRetries)) {
          throw annotate(error, `part ${index + 1}/${parts.length}`)
        }
        await backoff(client, error, attempt)
      }
    }
  }
  return sendFinal(client, upload, endpoint, expected, hasher, state, () => multipart(common, undefined, hasher, undefined))
}

/**
 * The request that creates or replaces the stored file (the single upload, or the chunked
 * finalisation). Its answer can be lost after the server acted, so before any retry the dataset is
 * read and, when it already holds this file, that is the result: a new resource is never created twice.
 */
async function sendFinal(
  client: DatagouvClient,
  upload: UploadRequest,
  endpoint: string,
  expected: number[],
  hasher: SequentialHasher,
  state: { requests: number; recovered: boolean },
  body: () => MultipartBody,
): Promise<Resource> {
  for (let attempt = 0; ; attempt++) {
    state.requests++
    try {
      const answer = await client.send('POST', endpoint, { body, expect: expected })
      return client.parse(answer, ResourceSchema, 'POST', endpoint)
    } catch (error) {
      if (!isRetryable(error)) throw error
      const sha1 = hasher.digest()
      if (sha1 !== undefined) {
        const found = await findUploaded(client, upload, sha1)
        if (found !== undefined) {
          client.logger.warning(
            `${error instanceof Error ? error.message : String(error)}; the server holds the file all the same (resource ${found.id}), not sending it again`,
          )
          state.recovered = true
          return found
        }
      }
      if (attempt >= client.retry.maxRetries) throw error
      await backoff(client, error, attempt)
    }
  }
}

/** The resource holding this exact file after a lost answer, if the server did act. */
async function findUploaded(client: DatagouvClient, upload: UploadRequest, sha1: string): Promise<Resource | undefined> {
  const dataset = await client.getDataset(upload.datasetId)
  const candidates =
    upload.resourceId === undefined
      ? dataset.resources.filter((r) => !upload.knownResourceIds.has(r.id))
      : dataset.resources.filter((r) => r.id === upload.resourceId)
  return candidates.find((r) => r.filesize === upload.size && r.checksum?.type === 'sha1' && r.checksum.value.toLowerCase() === sha1)
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
 * length is known before a byte is read. The file range streams from disk in 1 MiB reads.
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
      for await (const chunk of createReadStream(file.path, { start: file.start, end: file.end - 1, highWaterMark: 1 << 20 })) {
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
