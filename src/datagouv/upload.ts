/**
 * File uploads (docs/udata-protocol.md §3, §4, §5): one multipart request up to the chunk size,
 * the chunked protocol above it. Bodies stream from disk with an exact Content-Length. Every
 * upload ends by comparing the server's size and checksum with the local ones.
 *
 * Retries go through the client's one policy (`client.retrier`); this module only says, for each
 * request, what a failure means (a part the server may hold already, a final request that may
 * have stored the file) and where to look before sending again.
 */
import { randomUUID } from 'node:crypto'
import { open } from 'node:fs/promises'
import { hashFile, isSupportedChecksum, SequentialHasher } from '../files/hash.js'
import { mapConcurrent } from '../util/concurrency.js'
import type { DatagouvClient } from './client.js'
import type { Scope } from './scope.js'
import { ApiError, isRetryable, NetworkError, ProtocolError, toErrorMessage } from './errors.js'
import { retryDelay, sleep, type Settled } from './retry.js'
import { ChunkStatusSchema, ResourceSchema, type Resource } from './schemas.js'

export interface UploadRequest {
  /** Where the file goes: the dataset's own resources, or community resources. */
  scope: Scope
  /**
   * The resource whose file is replaced in place, with its stored file's URL before the upload;
   * absent: a new resource.
   */
  target?: { id: string; url: string } | undefined
  /** Absolute local path. */
  path: string
  size: number
  /** Name sent to the server (it stores, and titles the resource with, its normalised form). */
  uploadName: string
  /** What the server stores this name as (docs/udata-protocol.md §3.2 step 3). */
  storedName: string
  chunkSize: number
  /** Parts of this file in flight at once. */
  partConcurrency: number
  /**
   * For a new resource: whether a resource found in the dataset after a lost answer may be this
   * upload's (the run knows which resources existed before and which its other uploads obtained).
   */
  isNew: (resource: Resource) => boolean
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
  /** The chunk size that worked (smaller than asked after a 413). */
  chunkSize: number
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

/** Bytes per request, as the data.gouv.fr web front sends them (docs/udata-protocol.md §5.3). */
export const DEFAULT_CHUNK_SIZE = 20_000_000

/** The smallest part a 413 makes the upload fall back to. */
export const MIN_CHUNK_SIZE = 1024 * 1024

const CHUNK_SIZE_MISMATCH = 'Chunk size mismatch'

/** One attempt at the whole file, with what every request of it shares. */
interface Round {
  client: DatagouvClient
  upload: UploadRequest
  /** The resource this round replaces (a restart may have one that the first round created). */
  target: { id: string; url: string } | undefined
  chunkSize: number
  endpoint: string
  /**
   * The local sha1: fed by the bytes as they leave when they leave in order, else hashed alongside.
   */
  hasher: SequentialHasher | undefined
  sha1: () => Promise<string | undefined>
  counts: { requests: number; recovered: boolean }
  /** What is being sent: the parts, or the request that creates or replaces the stored file. */
  phase: 'parts' | 'final'
  /** The final request failed in a way that may hide a success: look before sending it again. */
  mayHaveActed: boolean
}

export async function uploadFile(
  client: DatagouvClient,
  upload: UploadRequest,
): Promise<UploadOutcome> {
  const counts = { requests: 0, recovered: false }
  let target = upload.target
  let chunkSize = upload.chunkSize
  let parallelHash: Promise<string> | undefined
  for (let round = 0; ; round++) {
    const chunked = upload.size > chunkSize
    const inOrder = !chunked || upload.partConcurrency <= 1
    const hasher = inOrder ? new SequentialHasher(upload.size) : undefined
    if (!inOrder) parallelHash ??= hashFile(upload.path, 'sha1')
    const sha1 = async (): Promise<string | undefined> =>
      hasher !== undefined ? hasher.digest() : parallelHash
    const current: Round = {
      client,
      upload,
      target,
      chunkSize,
      endpoint: upload.scope.uploadPath(target?.id),
      hasher,
      sha1,
      counts,
      phase: 'parts',
      mayHaveActed: false,
    }
    try {
      const resource = chunked ? await sendChunked(current) : await sendSingle(current)
      const local = await sha1()
      if (local === undefined)
        throw new ProtocolError('the upload finished before the whole file was read')
      await verify(resource, upload, local)
      return { resource, sha1: local, ...counts, chunkSize }
    } catch (error) {
      const restart = round === 0 ? restartFor(error, current, chunked) : undefined
      if (restart === undefined) throw explain(error, current, chunked)
      client.logger.warning(`${toErrorMessage(error)}; ${restart.why}`)
      chunkSize = restart.chunkSize
      target = restart.target
    }
  }
}

/**
 * One restart from scratch with a new uuid, for what a fresh attempt can cure: a stored file that
 * does not match, a chunked finalisation answering 500 (its parts gone or unreadable, §5.5), or a
 * request too large for a proxy (413), then in parts half the size. A part that keeps failing, or
 * a gateway that keeps answering 502-504, is not cured by sending every part again.
 */
function restartFor(
  error: unknown,
  round: Round,
  chunked: boolean,
): { why: string; chunkSize: number; target: Round['target'] } | undefined {
  const { upload } = round
  if (error instanceof VerificationError) {
    // A new resource that received the wrong file is now replaced in place, never created again.
    return {
      why: `uploading ${upload.uploadName} again from the start`,
      chunkSize: round.chunkSize,
      target: { id: error.resource.id, url: error.resource.url },
    }
  }
  if (error instanceof ApiError && error.status === 413) {
    const refused = chunked ? round.chunkSize : upload.size
    const smaller = Math.max(MIN_CHUNK_SIZE, Math.floor(refused / 2))
    if (smaller >= refused || upload.size <= smaller) return undefined
    return {
      why:
        `the request was too large for the server or a proxy in front of it; uploading ${upload.uploadName} ` +
        `again in parts of ${smaller} bytes`,
      chunkSize: smaller,
      target: round.target,
    }
  }
  if (chunked && round.phase === 'final' && error instanceof ApiError && error.status === 500) {
    return {
      why: `uploading ${upload.uploadName} again from the start`,
      chunkSize: round.chunkSize,
      target: round.target,
    }
  }
  return undefined
}

/** Adds to the last error what the user can do about it. */
function explain(error: unknown, round: Round, chunked: boolean): unknown {
  if (error instanceof ApiError && error.status === 413 && error instanceof Error) {
    const size = chunked ? round.chunkSize : round.upload.size
    error.message +=
      ` (a request of about ${size} bytes was too large for the server or a proxy in front of it; ` +
      `set a smaller 'chunk-size', at least ${MIN_CHUNK_SIZE})`
  }
  return error
}

async function sendSingle(round: Round): Promise<Resource> {
  const { upload, hasher } = round
  const file = { path: upload.path, start: 0, end: upload.size, filename: upload.uploadName }
  return sendFinal(round, () => multipart([], file, hasher, upload.onProgress))
}

async function sendChunked(round: Round): Promise<Resource> {
  const { upload } = round
  const parts = partRanges(upload.size, round.chunkSize)
  const common: Array<[string, string]> = [
    ['uuid', randomUUID()],
    ['filename', upload.uploadName],
    ['totalparts', String(parts.length)],
  ]
  // In order, one at a time, the bytes feed the sha1 as they leave; in parallel, it is hashed
  // alongside.
  await mapConcurrent(
    parts,
    round.hasher === undefined ? upload.partConcurrency : 1,
    (part, index) => sendPart(round, common, part, index, parts.length),
  )
  return sendFinal(round, () => multipart(common, undefined, undefined, undefined))
}

async function sendPart(
  round: Round,
  common: ReadonlyArray<[string, string]>,
  part: ByteRange,
  index: number,
  total: number,
): Promise<void> {
  const { client, upload, endpoint, hasher } = round
  const fields: Array<[string, string]> = [
    ...common,
    ['partindex', String(index)],
    ['partbyteoffset', String(part.start)],
    ['chunksize', String(part.end - part.start)],
  ]
  const file = { path: upload.path, start: part.start, end: part.end, filename: 'blob' }
  // Whether an earlier attempt may have been stored although it got no answer.
  let mayBeStored = false
  let mismatchRetried = false
  const label = `part ${index + 1}/${total}`
  await client.retrier.run({
    label,
    send: async () => {
      round.counts.requests++
      const answer = await client.send('POST', endpoint, {
        body: () => multipart(fields, file, hasher, upload.onProgress),
        expect: [200],
      })
      const status = client.parse(answer, ChunkStatusSchema, 'POST', endpoint)
      if (!status.success)
        throw new ProtocolError(`${label} refused: ${status.error ?? 'no reason given'}`)
    },
    // A spurious size mismatch (a server-side multipart bug, §5.3) is worth one retry.
    retryable: (error) => {
      const mismatch =
        error instanceof ApiError &&
        error.status === 400 &&
        error.apiMessage.includes(CHUNK_SIZE_MISMATCH)
      if (mismatch && !mismatchRetried) return (mismatchRetried = true)
      return isRetryable(error)
    },
    // A part the server stored before its answer was lost cannot be stored again: a retry answers
    // 500 (FileExists). After such a loss, that 500 is taken as stored and the final checksum
    // check has the last word; after an answered failure (a 503), a 500 is a failure.
    settle: async (error) => {
      if (mayBeStored && error instanceof ApiError && error.status === 500) {
        client.logger.debug(
          `${label} answered 500 on retry after a lost answer: taken as already stored`,
        )
        return { done: undefined }
      }
      mayBeStored ||= mayHideSuccess(error)
      return undefined
    },
  })
}

/**
 * A failure after which the server may have acted, or may still be acting: no answer at all
 * (connection lost, timeout), or a gateway's 502/504 while the application behind it goes on.
 */
function mayHideSuccess(error: unknown): boolean {
  return (
    error instanceof NetworkError ||
    (error instanceof ApiError && (error.status === 502 || error.status === 504))
  )
}

/**
 * A failure after which the server may still be at work: the answer did not come in time (our
 * timeout, or a gateway's 504). A reset connection is different: the server acted already or never
 * will, and one look tells which.
 */
function mayStillAct(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 504
  const code =
    error instanceof NetworkError
      ? (error.cause as { code?: unknown } | undefined)?.code
      : undefined
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
}

/**
 * The request that creates or replaces the stored file (the single upload, or the chunked
 * finalisation). Its answer can be lost after the server acted, or come after the timeout while
 * the server goes on. So after a retryable failure, and again just before a re-send that follows a
 * failure that may hide a success, the dataset is read: when it holds this file, that is the
 * result. For a new resource, after an answer that did not come in time, the dataset is read again
 * and again, with backoff, for four times the timeout: a slow server is given time to finish
 * before anything is sent again, so a new resource is never created twice by a server up to five
 * times slower than the timeout. A chunked re-send keeps the uuid, whose parts the server deletes
 * once it has stored the file, so a re-send after a finalisation that did succeed answers 500
 * (missing part) instead of storing the file again.
 */
async function sendFinal(round: Round, body: () => MultipartBody): Promise<Resource> {
  round.phase = 'final'
  const expect = round.target === undefined ? [201, 200] : [200, 201]
  // The request that adds the resource, or changes it in place, under the scope's rule for writes
  // to the dataset's list (scope.ts `WriteKind`), held until its outcome is known: a request whose
  // answer was lost may still be at work on the server.
  const kind = round.target === undefined ? 'create' : 'in-place'
  return round.upload.scope.write(kind, () => storeOnce(round, body, expect))
}

async function storeOnce(
  round: Round,
  body: () => MultipartBody,
  expect: number[],
): Promise<Resource> {
  const { client, endpoint } = round
  return client.retrier.run<Resource>({
    label: `POST ${client.display(endpoint)}`,
    send: async (attempt) => {
      if (attempt > 0 && round.mayHaveActed) {
        const found = await lookForUpload(round, undefined)
        if (found !== undefined) return found
      }
      round.counts.requests++
      const answer = await client.send('POST', endpoint, { body, expect })
      return client.parse(answer, ResourceSchema, 'POST', endpoint)
    },
    settle: async (error) => settleFinal(round, error),
  })
}

async function settleFinal(round: Round, error: unknown): Promise<Settled<Resource>> {
  if (!isRetryable(error)) return undefined
  const found = await lookForUpload(round, error)
  if (found !== undefined) return { done: found }
  if (!mayHideSuccess(error)) return undefined
  // Once a request may have acted unseen, it may still do so: every later send is preceded by a
  // look.
  round.mayHaveActed = true
  if (round.target !== undefined || !mayStillAct(error) || (await round.sha1()) === undefined)
    return undefined
  const later = await keepLooking(round, error)
  return later === undefined ? undefined : { done: later }
}

/** Reads the dataset with backoff for four times the timeout, until it holds this upload. */
async function keepLooking(round: Round, error: unknown): Promise<Resource | undefined> {
  const { client } = round
  const until = Date.now() + 4 * client.timeoutMs
  client.logger.info(
    `${toErrorMessage(error)}; looking for the new resource for up to ${Math.round((4 * client.timeoutMs) / 1000)} ` +
      `s before sending again`,
  )
  for (let look = 1; Date.now() < until; look++) {
    await sleep(Math.min(retryDelay(client.retrier.policy, look), Math.max(0, until - Date.now())))
    const found = await lookForUpload(round, error)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * After a failure of a request that stores the file: the resource holding this exact file, if the
 * server stored it all the same. Nothing to look for before the whole file was read (and so sent).
 */
async function lookForUpload(round: Round, error: unknown): Promise<Resource | undefined> {
  const { client, upload } = round
  const sha1 = await round.sha1()
  if (sha1 === undefined) return undefined
  let found: Resource | undefined
  try {
    found = await findUploaded(round, sha1)
  } catch (lookError) {
    const before = error === undefined ? 'before sending again' : `${toErrorMessage(error)}; then`
    throw new Error(
      `${before} reading the dataset, to see whether the server stored ${upload.uploadName} all ` +
        `the same, failed: ${toErrorMessage(lookError)}`,
      {
        cause: lookError,
      },
    )
  }
  if (found === undefined) return undefined
  const why = error === undefined ? 'before sending again' : `${toErrorMessage(error)};`
  client.logger.warning(
    `${why} the server holds the file all the same (resource ${found.id}), not sending it again`,
  )
  round.counts.recovered = true
  round.mayHaveActed = false
  return found
}

/**
 * The resource holding this exact file (same size and sha1), if the server stored it. For a
 * resource replaced in place: only if its stored file changed (every upload gets a new URL), so
 * that a file equal to the one it held before is never taken for a new upload. For a new resource:
 * one that the run accepts as new, bearing the name the server gives this upload.
 */
async function findUploaded(round: Round, sha1: string): Promise<Resource | undefined> {
  const { upload, target } = round
  const resources = await upload.scope.list()
  const holds = (r: Resource): boolean =>
    r.filesize === upload.size &&
    r.checksum?.type === 'sha1' &&
    r.checksum.value.toLowerCase() === sha1
  if (target !== undefined)
    return resources.find((r) => r.id === target.id && r.url !== target.url && holds(r))
  const name = upload.storedName
  return resources.find(
    (r) => upload.isNew(r) && (r.title === name || r.url.endsWith(`/${name}`)) && holds(r),
  )
}

async function verify(resource: Resource, upload: UploadRequest, sha1: string): Promise<void> {
  if (
    resource.filesize !== undefined &&
    resource.filesize !== null &&
    resource.filesize !== upload.size
  ) {
    throw new VerificationError(
      `the server stored ${resource.filesize} bytes for resource ${resource.id}, the local file ` +
        `has ${upload.size}`,
      resource,
    )
  }
  const checksum = resource.checksum
  if (checksum === undefined || checksum === null) {
    if (resource.filesize === undefined || resource.filesize === null)
      throw new VerificationError(
        `the server reported neither size nor checksum for resource ${resource.id}: the upload cannot ` +
          `be verified`,
        resource,
      )
    return
  }
  const type = checksum.type.toLowerCase()
  if (!isSupportedChecksum(type)) return
  const local = type === 'sha1' ? sha1 : await hashFile(upload.path, type)
  if (checksum.value.toLowerCase() !== local) {
    throw new VerificationError(
      `the server's ${type} for resource ${resource.id} is ${checksum.value}, the local file's is ` +
        `${local}`,
      resource,
    )
  }
}

interface ByteRange {
  start: number
  end: number
}

/**
 * Byte ranges [start, end) of the parts, in order: every byte exactly once; none for an empty file.
 */
export function partRanges(size: number, chunkSize: number): ByteRange[] {
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0)
    throw new RangeError(`chunk size must be a positive integer, not ${chunkSize}`)
  const parts: ByteRange[] = []
  for (let start = 0; start < size; start += chunkSize)
    parts.push({ start, end: Math.min(size, start + chunkSize) })
  return parts
}

/**
 * Bytes per read of an upload, and how many read buffers one request body cycles through. The
 * buffers are allocated once per request and reused: a fresh buffer per read would leave up to
 * tens of MiB of garbage waiting for V8's next full collection (measured in BENCHMARKS.md).
 *
 * Reuse is safe because the HTTP client pulls the next chunk only once the socket has taken the
 * previous one: undici writes each chunk and, when the socket's queue is above its high-water
 * mark, waits for 'drain' before pulling again; below the mark, at most the queue's last
 * kilobytes wait, and those belong to the chunk just written, never to one two reads back.
 * The body must therefore go to undici as the generator itself, with no stream reading ahead.
 */
const READ_SIZE = 256 * 1024
const RING = 3

interface MultipartBody {
  stream: AsyncIterable<Uint8Array>
  length: number
  contentType: string
}

interface FileRange extends ByteRange {
  path: string
  filename: string
}

/**
 * A multipart/form-data body (fields first, file part last, as the web front sends it) whose
 * length is known before a byte is read. The file range streams from disk through `RING` reused
 * buffers of `READ_SIZE` bytes.
 */
export function multipart(
  fields: ReadonlyArray<readonly [string, string]>,
  file: FileRange | undefined,
  hasher: SequentialHasher | undefined,
  onProgress: ((bytes: number) => void) | undefined,
): MultipartBody {
  const boundary = `----datagouv-publish-${randomUUID()}`
  const head = Buffer.from(
    fields
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`,
      )
      .join('') +
      (file === undefined
        ? ''
        : `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.filename)}"\r\nContent-Type: ` +
          `application/octet-stream\r\n\r\n`),
  )
  const tail = Buffer.from(`${file === undefined ? '' : '\r\n'}--${boundary}--\r\n`)
  const fileLength = file === undefined ? 0 : file.end - file.start
  async function* stream(): AsyncGenerator<Uint8Array> {
    yield head
    if (file !== undefined && fileLength > 0) {
      for await (const bytes of fileRange(file)) {
        hasher?.feed(file.start + bytes.offset, bytes.chunk)
        onProgress?.(bytes.chunk.length)
        yield bytes.chunk
      }
    }
    yield tail
  }
  return {
    stream: stream(),
    length: head.length + fileLength + tail.length,
    contentType: `multipart/form-data; boundary=${boundary}`,
  }
}

/**
 * The bytes of a file range, read into `RING` buffers in turn; `offset` is relative to the range's
 * start.
 */
async function* fileRange(file: FileRange): AsyncGenerator<{ chunk: Buffer; offset: number }> {
  const handle = await open(file.path, 'r')
  try {
    const size = file.end - file.start
    const ring = Array.from({ length: Math.min(RING, Math.ceil(size / READ_SIZE)) }, () =>
      Buffer.allocUnsafe(Math.min(READ_SIZE, size)),
    )
    for (let offset = 0, turn = 0; offset < size; turn++) {
      const buffer = ring[turn % ring.length] as Buffer
      const { bytesRead } = await handle.read(
        buffer,
        0,
        Math.min(buffer.length, size - offset),
        file.start + offset,
      )
      if (bytesRead === 0)
        throw new Error(
          `${file.path} shrank while it was being sent (${offset} of ${size} bytes read)`,
        )
      yield { chunk: buffer.subarray(0, bytesRead), offset }
      offset += bytesRead
    }
  } finally {
    await handle.close()
  }
}

/** Quoted-string escaping of the HTML multipart encoding: `"`, CR and LF percent-encoded. */
function quote(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}
