/**
 * The requests of one upload round (docs/udata-protocol.md §3–§5): the parts of the chunked
 * protocol, and the request that stores the file (the single upload, or the chunked
 * finalisation); for each, what a failure means and where to look before sending it again.
 */
import { randomUUID } from 'node:crypto'
import type { SequentialHasher } from '../files/hash.js'
import { mapPaced } from '../util/concurrency.js'
import type { DatagouvClient } from './client.js'
import { ApiError, isRetryable, ProtocolError } from './errors.js'
import { multipart, partRanges, type ByteRange } from './multipart.js'
import { PartPacer } from './part-pacing.js'
import { createOnce, mayHaveActed, type Created } from './recovery.js'
import type { Attempt } from './retry.js'
import { ChunkStatusSchema, ResourceSchema, type Resource } from './schemas.js'
import type { UploadRequest } from './upload.js'

/** One round of an upload: the whole file sent once, parts and final request. */
export interface Round {
  client: DatagouvClient
  upload: UploadRequest
  /** The resource this round replaces (a restart may have one that the first round created). */
  target: { id: string; url: string } | undefined
  chunkSize: number
  endpoint: string
  /**
   * The local sha1, fed by the bytes as they leave when they leave in order; absent when the parts
   * go in parallel and the file is hashed alongside.
   */
  hasher: SequentialHasher | undefined
  /** The local sha1, once the whole file was read; `undefined` before. */
  sha1: () => Promise<string | undefined>
  /** Requests sent, counted as they leave (for the outcome). */
  tally: { requests: number }
}

type Fields = ReadonlyArray<readonly [string, string]>

const CHUNK_SIZE_MISMATCH = 'Chunk size mismatch'

/** The parts of a chunked upload; returns the fields that the finalisation repeats. */
export async function sendParts(round: Round): Promise<Fields> {
  const { upload } = round
  const parts = partRanges(upload.size, round.chunkSize)
  const common: Fields = [
    ['uuid', randomUUID()],
    ['filename', upload.storedName],
    ['totalparts', String(parts.length)],
  ]
  // In order, one at a time, the bytes feed the sha1 as they leave; in parallel, it is hashed
  // alongside, and the parts in flight follow `part-concurrency` (part-pacing.ts).
  const pacer = new PartPacer(round.hasher === undefined ? upload.partConcurrency : 1, (line) =>
    round.client.logger.debug(`${upload.storedName}: ${line}`),
  )
  await mapPaced(
    parts,
    () => pacer.limit,
    (part, index) =>
      sendPart(round, common, part, `part ${index + 1}/${parts.length}`, index, pacer),
  )
  return common
}

async function sendPart(
  round: Round,
  common: Fields,
  part: ByteRange,
  label: string,
  index: number,
  pacer: PartPacer,
): Promise<void> {
  const { client, upload, endpoint, hasher } = round
  const fields: Fields = [
    ...common,
    ['partindex', String(index)],
    ['partbyteoffset', String(part.start)],
    ['chunksize', String(part.end - part.start)],
  ]
  const file = { path: upload.path, start: part.start, end: part.end, filename: 'blob' }
  const ticket = pacer.start()
  let attempts = 0
  await client.http.retrier.run({
    label,
    send: async () => {
      round.tally.requests++
      attempts++
      const began = performance.now()
      const answer = await client.http.send('POST', endpoint, {
        body: () => multipart(fields, file, hasher, upload.onProgress),
        expect: [200],
      })
      const status = client.http.parse(answer, ChunkStatusSchema, 'POST', endpoint)
      if (!status.success)
        throw new ProtocolError(`${label} refused: ${status.error ?? 'no reason given'}`)
      if (attempts === 1) pacer.answered(ticket, part.end - part.start, performance.now() - began)
    },
    retryable: (error, attempt) =>
      isMismatch(error) ? !attempt.failures.some(isMismatch) : isRetryable(error),
    settle: async (error, attempt) => {
      if (!storedBefore(error, attempt)) return undefined
      client.logger.debug(
        `${label} answered 500 on retry after a lost answer: taken as already stored`,
      )
      return { done: undefined }
    },
  })
}

/** A spurious size mismatch (a server-side multipart bug, §5.3): worth one retry. */
function isMismatch(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.status === 400 &&
    error.apiMessage.includes(CHUNK_SIZE_MISMATCH)
  )
}

/**
 * A part the server stored before its answer was lost cannot be stored again: a retry answers 500
 * (FileExists). After such a loss, that 500 is taken as stored and the final checksum check has
 * the last word; after an answered failure (a 503), a 500 is a failure.
 */
function storedBefore(error: unknown, attempt: Attempt): boolean {
  return error instanceof ApiError && error.status === 500 && mayHaveActed(attempt)
}

/**
 * The request that creates or replaces the stored file: the single upload (`common` absent), or
 * the chunked finalisation. Sent once (recovery.ts): its answer can be lost after the server
 * acted, or come after the timeout while the server goes on, so the server is looked at before
 * anything is sent again. A chunked re-send keeps the uuid, whose parts the server deletes once it
 * has stored the file, so a re-send after a finalisation that did succeed answers 500 (missing
 * part) instead of storing the file again. It runs under the scope's rule for writes to the
 * dataset's list (scope.ts `WriteKind`), held until its outcome is known.
 */
export async function storeFile(
  round: Round,
  common: Fields | undefined,
): Promise<Created<Resource>> {
  const { client, upload, target, endpoint } = round
  const { http } = client
  const file = { path: upload.path, start: 0, end: upload.size, filename: upload.storedName }
  const body = () =>
    common === undefined
      ? multipart([], file, round.hasher, upload.onProgress)
      : multipart(common, undefined, undefined, undefined)
  const expect = target === undefined ? [201, 200] : [200, 201]
  const store = () =>
    createOnce(http, {
      label: `POST ${http.display(endpoint)}`,
      send: async () => {
        round.tally.requests++
        const answer = await http.send('POST', endpoint, { body, expect })
        return http.parse(answer, ResourceSchema, 'POST', endpoint)
      },
      // Nothing to look for before the whole file was read (and so sent).
      find: async () => {
        const sha1 = await round.sha1()
        return sha1 === undefined ? undefined : findUploaded(round, sha1)
      },
      findable: async () => (await round.sha1()) !== undefined,
      what: 'the file',
      where: 'reading the dataset',
      nameOf: (resource) => `resource ${resource.id}`,
      ...(target === undefined
        ? { creation: 'the new resource', taken: () => findTaken(round) }
        : {}),
    })
  return upload.scope.write(target === undefined ? 'create' : 'in-place', store)
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

/**
 * For a new resource whose creation udata refused (a second file of one name within a second,
 * docs/udata-protocol.md §3.2 step 5): the file resource another run created under this stored
 * name meanwhile, whatever file it holds; the upload then goes into it (upload.ts).
 */
async function findTaken(round: Round): Promise<Resource | undefined> {
  const { upload } = round
  return (await upload.scope.list()).find(
    (r) => upload.isNew(r) && r.filetype === 'file' && r.url.endsWith(`/${upload.storedName}`),
  )
}
