/**
 * A local file that changes while it is being sent (a build still writing it, a second job): the
 * server then stores bytes that are neither the old file nor the new one, or the new file checked
 * against a checksum of the old. Its size and modification time are taken before the upload and
 * compared after each round; a changed file ends the upload with a `FileChangedError` that says
 * what the server then holds, so that the report shows it and the next run starts from it.
 */
import { stat } from 'node:fs/promises'
import { hashFile } from '../files/hash.js'
import type { Resource } from './schemas.js'

/** What tells a file changed without reading it. */
export interface FileState {
  size: number
  mtimeMs: number
}

/** The file's state now; `undefined` when it is gone. */
export async function fileState(path: string): Promise<FileState | undefined> {
  const info = await stat(path).catch(() => undefined)
  return info === undefined ? undefined : { size: info.size, mtimeMs: info.mtimeMs }
}

/** The file changed while (or before) it was being sent. */
export class FileChangedError extends Error {
  override readonly name = 'FileChangedError'
  constructor(
    message: string,
    /** The resource as the server then holds it, when the upload stored something. */
    readonly resource: Resource | undefined,
  ) {
    super(message)
  }
}

/** How the file differs from `before`, in words; `undefined` when it does not. */
function change(before: FileState, now: FileState | undefined): string | undefined {
  if (now === undefined) return 'it was removed'
  if (now.size !== before.size) return `${before.size} -> ${now.size} bytes`
  if (now.mtimeMs !== before.mtimeMs)
    return `modified at ${new Date(now.mtimeMs).toISOString()}, same size`
  return undefined
}

/**
 * After a round: a `FileChangedError` when the file is no longer as it was before the upload, or
 * when the server's checksum differs from the one computed and the file, read again, gives yet
 * another (it changed back within the same instant).
 */
export async function changedDuring(
  path: string,
  before: FileState,
  stored: Resource | undefined,
  sha1: string | undefined,
): Promise<FileChangedError | undefined> {
  let what = change(before, await fileState(path))
  const held = stored?.checksum
  if (what === undefined && sha1 !== undefined && held?.type.toLowerCase() === 'sha1') {
    if (held.value.toLowerCase() !== sha1) {
      const again = await hashFile(path, 'sha1').catch(() => undefined)
      if (again !== sha1) what = 'its sha1 is no longer the one computed while it was sent'
    }
  }
  if (what === undefined) return undefined
  return new FileChangedError(
    `the file changed while it was being sent (${what}); ${holding(stored)}; run again once ` +
      `the file is complete`,
    stored,
  )
}

/** What the server holds after the round, as the message says it. */
function holding(stored: Resource | undefined): string {
  if (stored === undefined) return 'the server stored nothing of it'
  const checksum = stored.checksum
    ? `${stored.checksum.type} ${stored.checksum.value}`
    : 'no checksum'
  return (
    `the server now holds what it received in resource ${stored.id} (${stored.filesize ?? '?'} ` +
    `bytes, ${checksum}, titled '${stored.title}', ${stored.url}), not the local file`
  )
}
