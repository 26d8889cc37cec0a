/**
 * File uploads (docs/udata-protocol.md §3, §4, §5): one multipart request up to the chunk size,
 * the chunked protocol above it (upload-requests.ts), bodies streamed from disk with an exact
 * length (multipart.ts). Every upload ends by comparing the server's size and checksum with the
 * local ones.
 *
 * Each request is retried through the client's one policy; what a retry of one request cannot
 * cure, one restart of the whole upload may (`restartFor`). A file that changes while it is sent
 * ends the upload (file-state.ts), saying what the server then holds.
 */
import { hashFile, isSupportedChecksum, SequentialHasher } from '../files/hash.js'
import type { DatagouvClient } from './client.js'
import { ApiError, ProtocolError, toErrorMessage } from './errors.js'
import { changedDuring, FileChangedError, fileState } from './file-state.js'
import type { PartConcurrency } from './part-pacing.js'
import type { Scope } from './scope.js'
import type { Resource } from './schemas.js'
import { sendParts, storeFile, type Round } from './upload-requests.js'

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
  /**
   * The name sent, and the one the server stores (docs/udata-protocol.md §3.2 step 3): already
   * normalised, so the server keeps it as it is and titles the resource with it.
   */
  storedName: string
  chunkSize: number
  /** Parts of this file in flight at once: a number, or `auto` (part-pacing.ts). */
  partConcurrency: PartConcurrency
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
  /**
   * For a new resource: the one another run created under the same name at the same time (udata
   * refused this creation, §3.2 step 5), taken instead of creating a second; `replaced` when it
   * held another file, which this upload then replaced.
   */
  adopted?: { id: string; replaced: boolean }
}

/** The server stored something other than the local file. */
class VerificationError extends Error {
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
const MIN_CHUNK_SIZE = 1024 * 1024

/** What a round is asked to do: which resource it stores into, in parts of which size. */
interface Plan {
  target: { id: string; url: string } | undefined
  chunkSize: number
}

/**
 * How a round ended: the verified file, or the failure and whether the final request failed;
 * `adopted`: the resource the storing request took from another run instead of creating one.
 */
type RoundEnd = { recovered: boolean; adopted?: string | undefined } & (
  | { ok: true; resource: Resource; sha1: string }
  | { ok: false; error: unknown; final: boolean; sha1?: string | undefined }
)

export async function uploadFile(
  client: DatagouvClient,
  upload: UploadRequest,
): Promise<UploadOutcome> {
  const before = await fileState(upload.path)
  if (before?.size !== upload.size)
    throw new FileChangedError(
      `the file changed before it was sent (${before === undefined ? 'it was removed' : `${upload.size} -> ${before.size} bytes`}); nothing was sent`,
      undefined,
    )
  const tally = { requests: 0 }
  // Hashed alongside once, whatever the rounds, when parts go in parallel.
  let alongside: Promise<string> | undefined
  const hashAlongside = () => (alongside ??= hashFile(upload.path, 'sha1'))
  let plan: Plan = { target: upload.target, chunkSize: upload.chunkSize }
  let recovered = false
  let adopted: string | undefined
  for (let round = 0; ; round++) {
    const end = await sendRound(client, upload, plan, tally, hashAlongside)
    recovered ||= end.recovered
    adopted ??= end.adopted
    const stored = end.ok ? end.resource : heldAfter(end.error)
    const changed = await changedDuring(upload.path, before, stored, end.sha1)
    if (changed !== undefined) throw changed
    if (end.ok) {
      const { resource, sha1 } = end
      const taken = adopted === undefined ? {} : { adopted: { id: adopted, replaced: round > 0 } }
      return {
        resource,
        sha1,
        requests: tally.requests,
        recovered,
        chunkSize: plan.chunkSize,
        ...taken,
      }
    }
    const restart = round === 0 ? restartFor(end, upload, plan) : undefined
    if (restart === undefined) throw explain(end.error, upload, plan)
    client.logger.warning(`${toErrorMessage(end.error)}; ${restart.why}`)
    plan = restart.plan
  }
}

/** The resource a failed round left holding some file, when the server answered with it. */
function heldAfter(error: unknown): Resource | undefined {
  return error instanceof VerificationError ? error.resource : undefined
}

/** The whole file once: the parts if it is larger than a part, the final request, the check. */
async function sendRound(
  client: DatagouvClient,
  upload: UploadRequest,
  plan: Plan,
  tally: Round['tally'],
  hashAlongside: () => Promise<string>,
): Promise<RoundEnd> {
  const chunked = upload.size > plan.chunkSize
  const inOrder = !chunked || upload.partConcurrency === 1
  const hasher = inOrder ? new SequentialHasher(upload.size) : undefined
  const sha1 = async (): Promise<string | undefined> =>
    hasher !== undefined ? hasher.digest() : hashAlongside()
  const endpoint = upload.scope.uploadPath(plan.target?.id)
  const round: Round = { client, upload, ...plan, endpoint, hasher, sha1, tally }
  let final = false
  let recovered = false
  let adopted: string | undefined
  let local: string | undefined
  try {
    const common = chunked ? await sendParts(round) : undefined
    final = true
    const stored = await storeFile(round, common)
    recovered = stored.recovered
    adopted = stored.adopted ? stored.value.id : undefined
    local = await sha1()
    if (local === undefined)
      throw new ProtocolError('the upload finished before the whole file was read')
    await verify(stored.value, upload, local)
    return { ok: true, resource: stored.value, sha1: local, recovered, adopted }
  } catch (error) {
    return { ok: false, error, final, recovered, adopted, sha1: local }
  }
}

/**
 * One restart from scratch with a new uuid, for what a fresh attempt can cure: a stored file that
 * does not match, a chunked finalisation answering 500 (its parts gone or unreadable, §5.5), or a
 * request too large for a proxy (413), then in parts half the size. A part that keeps failing, or
 * a gateway that keeps answering 502-504, is not cured by sending every part again.
 */
function restartFor(
  end: { error: unknown; final: boolean; adopted?: string | undefined },
  upload: UploadRequest,
  plan: Plan,
): { why: string; plan: Plan } | undefined {
  const { error } = end
  const chunked = upload.size > plan.chunkSize
  const again = `uploading ${upload.storedName} again from the start`
  if (error instanceof VerificationError) {
    // A new resource that received the wrong file is now replaced in place, never created again;
    // so is one another run created under the same name meanwhile, with its own file.
    const { id, url } = error.resource
    const why =
      end.adopted === id
        ? `resource ${id}, which another run created under the same name at the same time, holds ` +
          `another file: uploading ${upload.storedName} into it`
        : again
    return { why, plan: { ...plan, target: { id, url } } }
  }
  if (error instanceof ApiError && error.status === 413) {
    const refused = chunked ? plan.chunkSize : upload.size
    const smaller = Math.max(MIN_CHUNK_SIZE, Math.floor(refused / 2))
    if (smaller >= refused || upload.size <= smaller) return undefined
    return {
      why:
        `the request was too large for the server or a proxy in front of it; uploading ` +
        `${upload.storedName} again in parts of ${smaller} bytes`,
      plan: { ...plan, chunkSize: smaller },
    }
  }
  if (chunked && end.final && error instanceof ApiError && error.status === 500)
    return { why: again, plan }
  return undefined
}

/** Adds to the last error what the user can do about it. */
function explain(error: unknown, upload: UploadRequest, plan: Plan): unknown {
  if (error instanceof ApiError && error.status === 413) {
    const size = upload.size > plan.chunkSize ? plan.chunkSize : upload.size
    error.message +=
      ` (a request of about ${size} bytes was too large for the server or a proxy in front of it; ` +
      `set a smaller 'chunk-size', at least ${MIN_CHUNK_SIZE})`
  }
  return error
}

async function verify(resource: Resource, upload: UploadRequest, sha1: string): Promise<void> {
  const size = resource.filesize ?? undefined
  if (size !== undefined && size !== upload.size) {
    throw new VerificationError(
      `the server stored ${size} bytes for resource ${resource.id}, the local file has ` +
        `${upload.size}`,
      resource,
    )
  }
  const checksum = resource.checksum
  if (checksum === undefined || checksum === null) {
    if (size === undefined)
      throw new VerificationError(
        `the server reported neither size nor checksum for resource ${resource.id}: the upload ` +
          `cannot be verified`,
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
