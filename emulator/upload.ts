import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Readable, Writable } from 'node:stream'

import busboy from 'busboy'

import {
  intArgument,
  releaseStoredFile,
  requireDataset,
  requirePermission,
  requireResource,
  requireUser,
} from './api.js'
import { communityReply, requireCommunity, requireCommunityPermission } from './community.js'
import { MESSAGES, WERKZEUG, mimeFor } from './constants.js'
import type { Env } from './env.js'
import {
  HttpError,
  abort,
  header,
  internalError,
  isoDate,
  json,
  type Reply,
  type RequestContext,
} from './http.js'
import { fileFormat, lastExtension, normalizeFilename } from './normalize.js'
import { renderResource } from './render.js'
import { FileExists, FileNotFound, type Measured } from './storage.js'
import type { Checksum, CommunityResourceState, DatasetState, ResourceState } from './types.js'

/**
 * The two upload endpoints (docs/udata-protocol.md §3, §4) and the chunked protocol they share (§5): multipart
 * parsed with busboy, the `file` part streamed to disk while counted (and hashed), never buffered.
 */

interface UploadedPart {
  filename: string
  path: string
  size: number
  /** Undefined when the part was announced as a chunk before it arrived (hashing then useless). */
  sha1: string | undefined
}

interface UploadForm {
  fields: Map<string, string>
  file: UploadedPart | undefined
}

/** UploadStatus handler body: `{"success": false, "error": "...", "message": ""}`. */
function uploadStatus(status: number, error: string | null): HttpError {
  return new HttpError(status, { success: status < 400, error, message: '' })
}

/** A busboy parser for the request, or undefined when the body is not a form. */
function formParser(ctx: RequestContext): busboy.Busboy | undefined {
  try {
    return busboy({
      headers: ctx.headers,
      defParamCharset: 'utf8',
      preservePath: true,
      limits: { fieldSize: 1024 * 1024 },
    })
  } catch {
    return undefined
  }
}

/** An `application/octet-stream` part without filename: a plain field for Werkzeug (1 MiB kept). */
function readPartAsField(stream: Readable, onValue: (value: string) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size <= 1024 * 1024) chunks.push(chunk)
  })
  stream.on('end', () => onValue(Buffer.concat(chunks).toString('utf8')))
}

/**
 * Stream the upload's `file` part to a fresh temporary file: its path at once, the part once
 * received. Parts are usually announced (totalparts > 1) before the file part; it is hashed only
 * when it may be a whole file.
 */
function spoolFilePart(
  env: Env,
  stream: Readable,
  filename: string,
  fields: Map<string, string>,
): { path: string; received: Promise<UploadedPart> } {
  const path = env.storage.tmpPath()
  const totalparts = Number(fields.get('totalparts'))
  const hash = !(Number.isFinite(totalparts) && totalparts > 1)
  const received = env.storage.receive(stream, path, hash).then((measured) => ({
    filename,
    path,
    size: measured.size,
    sha1: hash ? measured.sha1 : undefined,
  }))
  return { path, received }
}

/**
 * Parse `multipart/form-data` (or urlencoded) like Werkzeug: a part with a filename is a file, the
 * first `file` part with a non-empty filename is the upload (`bool(FileStorage)`), other parts are
 * fields, the first value of a repeated field wins. Unparsable bodies are Werkzeug's 400.
 */
async function parseUploadForm(ctx: RequestContext, env: Env): Promise<UploadForm> {
  const fields = new Map<string, string>()
  const bb = formParser(ctx)
  // Not a form: no fields, no file (the body is drained by the server).
  if (bb === undefined) return { fields, file: undefined }
  let file: UploadedPart | undefined
  let claimed = false
  const pending: Array<Promise<void>> = []
  const spooled: string[] = []
  const setField = (name: string, value: string): void => {
    if (!fields.has(name)) fields.set(name, value)
  }

  bb.on('field', setField)
  bb.on('file', (name, stream, info) => {
    if (info.filename === undefined) {
      readPartAsField(stream, (value) => setField(name, value))
      return
    }
    if (name !== 'file' || claimed || info.filename === '') {
      stream.resume()
      return
    }
    claimed = true
    const spool = spoolFilePart(env, stream, info.filename, fields)
    spooled.push(spool.path)
    pending.push(
      spool.received.then((part) => {
        file = part
      }),
    )
  })

  try {
    await feed(ctx.body, bb)
    await Promise.all(pending)
  } catch {
    await Promise.allSettled(pending)
    await Promise.all(spooled.map((p) => rm(p, { force: true })))
    throw abort(400, WERKZEUG.badRequest)
  }
  return { fields, file }
}

/**
 * Pipe the body into the parser. Unlike `pipeline`, a parser error leaves the body alive (just
 * unpiped) so that the server can read the rest of it and still answer.
 */
function feed(body: Readable, parser: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onBodyError = (error: Error): void => {
      parser.destroy(error)
      reject(error)
    }
    body.once('error', onBodyError)
    parser.once('error', (error: Error) => {
      body.unpipe(parser)
      body.off('error', onBodyError)
      reject(error)
    })
    parser.once('close', () => {
      body.off('error', onBodyError)
      resolve()
    })
    body.pipe(parser)
  })
}

async function sha1Of(path: string): Promise<string> {
  const digest = createHash('sha1')
  for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer)
  return digest.digest('hex')
}

/** `chunks/<uuid>/...` must stay a single folder name (the real server does not check; we must). */
function chunkFolder(raw: string | undefined): string {
  const uuid = raw ?? 'None' // `str(None)`, as udata would name it
  if (uuid === '' || uuid === '.' || uuid === '..' || /[/\\\0]/.test(uuid))
    throw abort(400, 'Invalid uuid')
  return uuid
}

function checkExtension(ctx: RequestContext, env: Env, name: string): void {
  const extension = lastExtension(name)
  if (extension === undefined || !env.extensions.has(extension)) {
    const host = header(ctx.headers, 'host')
    throw abort(400, MESSAGES.fileType(host !== undefined ? `http://${host}` : env.origin()))
  }
}

interface StoredInfos {
  title: string
  url: string
  fsFilename: string
  checksum: Checksum
  filesize: number
  mime: string
  format: string | null
  lastModifiedInternal: Date
}

function infosFor(
  env: Env,
  name: string,
  fsFilename: string,
  measured: Measured,
  now: Date,
): StoredInfos {
  return {
    title: name,
    url: env.store.fileUrl(fsFilename),
    fsFilename,
    checksum: { type: 'sha1', value: measured.sha1 },
    filesize: measured.size,
    mime: mimeFor(name),
    format: fileFormat(name, env.extensions),
    lastModifiedInternal: now,
  }
}

/** The chunk arguments of a chunked upload, as reqparse read them. */
interface ChunkArguments {
  partindex: number | undefined
  totalparts: number
  chunksize: number | undefined
}

/**
 * One chunk of a chunked upload (§5): kept as `chunks/<uuid>/<partindex>` with the upload's
 * metadata, and answered at once.
 */
async function storeChunk(
  env: Env,
  fields: Map<string, string>,
  chunk: UploadedPart,
  { partindex, totalparts, chunksize }: ChunkArguments,
): Promise<Reply> {
  if (chunk.size !== chunksize) throw uploadStatus(400, 'Chunk size mismatch')
  const uuid = chunkFolder(fields.get('uuid'))
  const part = partindex === undefined ? 'None' : String(partindex)
  await env.storage.moveNoOverwrite(chunk.path, env.storage.chunkPath(uuid, part))
  await env.storage.writeChunkMeta(uuid, {
    uuid,
    filename: fields.get('filename') ?? null,
    totalparts,
    lastchunk: isoDate(new Date()),
  })
  return json(200, { success: true, error: null, message: '' })
}

/**
 * The finalisation of a chunked upload (no file part): the chunks combined into the stored file,
 * then discarded.
 */
async function finaliseChunks(
  ctx: RequestContext,
  env: Env,
  dataset: DatasetState,
  fields: Map<string, string>,
  totalparts: number,
): Promise<StoredInfos> {
  const filename = fields.get('filename')
  if (filename === undefined || filename === '') throw abort(400, 'filename is required')
  const name = normalizeFilename(filename)
  if (!env.legacy) checkExtension(ctx, env, name)
  const uuid = chunkFolder(fields.get('uuid'))
  const now = new Date()
  let measured: Measured | undefined
  const fsFilename = await env.storage.placeUpload(
    dataset.slug,
    name,
    now,
    env.sameSecondConflict,
    async (target) => {
      measured = await env.storage.combine(uuid, totalparts, target, env.legacy)
    },
  )
  await env.storage.discardChunks(uuid)
  return infosFor(env, name, fsFilename, measured as Measured, now)
}

/** A single (not chunked) upload: the spooled file part moved into place as the stored file. */
async function storeSingleUpload(
  ctx: RequestContext,
  env: Env,
  dataset: DatasetState,
  upload: UploadedPart | undefined,
): Promise<StoredInfos> {
  if (upload === undefined) throw uploadStatus(400, 'Missing file parameter')
  const name = normalizeFilename(upload.filename)
  checkExtension(ctx, env, name)
  const sha1 = upload.sha1 ?? (await sha1Of(upload.path))
  const now = new Date()
  const fsFilename = await env.storage.placeUpload(
    dataset.slug,
    name,
    now,
    env.sameSecondConflict,
    (target) => env.storage.moveNoOverwrite(upload.path, target),
  )
  return infosFor(env, name, fsFilename, { size: upload.size, sha1 }, now)
}

/**
 * `storages.api.handle_upload`: a chunk (answered at once), a finalisation, or a single upload.
 * Returns the stored file's infos for the two last cases.
 */
async function handleUpload(
  ctx: RequestContext,
  env: Env,
  dataset: DatasetState,
): Promise<StoredInfos | Reply> {
  const form = await parseUploadForm(ctx, env)
  ctx.record.fields = Object.fromEntries(form.fields)
  try {
    // reqparse order: partindex, partbyteoffset, totalparts, chunksize (first bad one answers).
    const partindex = intArgument(form.fields.get('partindex'), 'partindex')
    intArgument(form.fields.get('partbyteoffset'), 'partbyteoffset')
    const totalparts = intArgument(form.fields.get('totalparts'), 'totalparts')
    const chunksize = intArgument(form.fields.get('chunksize'), 'chunksize')
    const isChunk = totalparts !== undefined && totalparts > 1

    if (isChunk && form.file !== undefined)
      return await storeChunk(env, form.fields, form.file, { partindex, totalparts, chunksize })
    if (isChunk) return await finaliseChunks(ctx, env, dataset, form.fields, totalparts)
    return await storeSingleUpload(ctx, env, dataset, form.file)
  } catch (error) {
    if (error instanceof FileExists || error instanceof FileNotFound) throw internalError()
    throw error
  } finally {
    if (form.file !== undefined) await rm(form.file.path, { force: true })
  }
}

function uploadedReply(env: Env, resource: ResourceState, status: number): Reply {
  return json(
    status,
    { ...renderResource(resource, env.origin(), env.store.tabularExploreUrl), success: true },
    true,
  )
}

/** The HTML check of `UploadMixin.handle_upload` (the stored file stays, as in udata). */
function refuseHtml(infos: StoredInfos): void {
  if (infos.mime.includes('html')) throw abort(415, MESSAGES.htmlContent)
}

/** `resource[k] = v` for every info key: filetype, type, description, schema, extras untouched. */
function applyStored(resource: ResourceState, infos: StoredInfos): void {
  resource.title = infos.title
  resource.url = infos.url
  resource.fsFilename = infos.fsFilename
  resource.checksum = infos.checksum
  resource.filesize = infos.filesize
  resource.mime = infos.mime
  resource.format = infos.format
  resource.lastModifiedInternal = infos.lastModifiedInternal
}

/** A resource made from an upload (`Resource(**infos)`): the model's defaults, `type` main. */
function storedResource(infos: StoredInfos): ResourceState {
  return {
    id: randomUUID(),
    title: infos.title,
    description: null,
    filetype: 'file',
    type: 'main',
    format: infos.format,
    url: infos.url,
    checksum: infos.checksum,
    filesize: infos.filesize,
    mime: infos.mime,
    extras: {},
    schema: null,
    createdAt: infos.lastModifiedInternal,
    lastModifiedInternal: infos.lastModifiedInternal,
    fsFilename: infos.fsFilename,
  }
}

/** `POST /datasets/{dataset}/resources/{rid}/upload/`: replace the file of a resource in place (§3). */
export async function uploadExisting(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  requirePermission(ctx, env, dataset)
  requireResource(dataset, ctx.rid)
  const result = await handleUpload(ctx, env, dataset)
  if ('kind' in result) return result
  refuseHtml(result)
  const resource = dataset.resources.find((r) => r.id === ctx.rid)
  if (resource === undefined) {
    await env.storage.deleteStatic(result.fsFilename)
    throw abort(404, MESSAGES.resourceMissing)
  }
  const previous = resource.fsFilename
  applyStored(resource, result)
  dataset.lastModifiedInternal = result.lastModifiedInternal
  if (previous !== result.fsFilename) await releaseStoredFile(env, previous)
  env.analyser.resourceChanged(resource.id)
  return uploadedReply(env, resource, 200)
}

/** `POST /datasets/{dataset}/upload/`: a new resource, prepended (§4). */
export async function uploadNew(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const dataset = requireDataset(ctx)
  requirePermission(ctx, env, dataset)
  const result = await handleUpload(ctx, env, dataset)
  if ('kind' in result) return result
  refuseHtml(result)
  const resource = storedResource(result)
  dataset.resources.unshift(resource)
  dataset.lastModifiedInternal = result.lastModifiedInternal
  env.analyser.resourceChanged(resource.id)
  return uploadedReply(env, resource, 201)
}

/**
 * `POST /datasets/{dataset}/upload/community/` (`UploadNewCommunityResources`): a new community
 * resource owned by the caller (never an organization: a PUT with `organization` moves it there).
 * Only a key is needed: udata checks no permission on the dataset, nor whether it is private or
 * deleted. Chunked uploads work as for resources.
 */
export async function uploadCommunityNew(ctx: RequestContext, env: Env): Promise<Reply> {
  const user = requireUser(ctx)
  const dataset = requireDataset(ctx)
  const result = await handleUpload(ctx, env, dataset)
  if ('kind' in result) return result
  refuseHtml(result)
  const community: CommunityResourceState = {
    ...storedResource(result),
    dataset: dataset.id,
    owner: user.id,
    organization: null,
  }
  env.store.communityResources.push(community)
  return communityReply(ctx, env, community, 201, { success: true })
}

/**
 * `POST /datasets/community_resources/{community}/upload/` (`ReuploadCommunityResource`): its file
 * replaced in place, stored under its dataset's slug, the old file deleted; 200.
 */
export async function uploadCommunityExisting(ctx: RequestContext, env: Env): Promise<Reply> {
  requireUser(ctx)
  const community = requireCommunity(ctx)
  requireCommunityPermission(ctx, env, community)
  const dataset = community.dataset === null ? undefined : env.store.getDataset(community.dataset)
  if (dataset === undefined) throw internalError() // `community.dataset.slug` on None
  const previous = community.fsFilename
  const result = await handleUpload(ctx, env, dataset)
  if ('kind' in result) return result
  refuseHtml(result)
  applyStored(community, result)
  if (previous !== null && previous !== result.fsFilename) await releaseStoredFile(env, previous)
  return communityReply(ctx, env, community, 200, { success: true })
}
