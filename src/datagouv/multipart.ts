/**
 * The bodies of upload requests (docs/udata-protocol.md §3, §5): multipart/form-data, the fields
 * first and the file part last as the web front sends them, with a length known before a byte is
 * read; and the byte ranges of a chunked upload's parts.
 */
import { randomUUID } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { SequentialHasher } from '../files/hash.js'
import { LocalFileError, toErrorMessage } from './errors.js'
import type { StreamedBody } from './transport.js'

export interface ByteRange {
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
 * Bytes per read of an upload, and how many read buffers one request body cycles through: two,
 * the chunk being read and the chunk just written.
 *
 * Reuse within a body is safe because the HTTP client pulls the next chunk only once the socket
 * has taken the previous one (http.ts writes each chunk and, when the request's queue is above its
 * high-water mark, waits for 'drain' before pulling again; below the mark, at most the queue's
 * last kilobytes wait, and, the queue being first in first out, those belong to the chunk just
 * written, never to the one before it, whose buffer the next read fills). The body must therefore
 * go to the client as the generator itself, with no stream reading ahead.
 */
const READ_SIZE = 256 * 1024
const RING = 2

/**
 * Read buffers of bodies whose request was answered, for the next bodies: without them each part
 * of a 1 GiB upload allocated its own (54 parts, 40 MiB of buffers), which V8 frees only at its
 * next collection, ~10 MiB of the peak RSS (BENCHMARKS.md). A body gives its buffers back only
 * once its answer came (`StreamedBody.release`): by then the socket has sent every byte of it.
 * Never more kept than the most parts in flight need.
 */
const spare: Buffer[] = []
const MAX_SPARE = 8 * RING

/** A range of a local file, sent as the form's `file` part under `filename`. */
export interface FileRange extends ByteRange {
  path: string
  filename: string
}

/**
 * A multipart/form-data body: `fields`, then the file range if any, streamed from disk through
 * `RING` reused buffers of `READ_SIZE` bytes. The bytes of the range feed `hasher` and
 * `onProgress` as they leave.
 */
export function multipart(
  fields: ReadonlyArray<readonly [string, string]>,
  file: FileRange | undefined,
  hasher: SequentialHasher | undefined,
  onProgress: ((bytes: number) => void) | undefined,
): StreamedBody {
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
  const ring: Buffer[] = []
  let sent = false
  async function* stream(): AsyncGenerator<Uint8Array> {
    yield head
    if (file !== undefined && fileLength > 0) {
      for await (const bytes of fileRange(file, ring)) {
        hasher?.feed(file.start + bytes.offset, bytes.chunk)
        onProgress?.(bytes.chunk.length)
        yield bytes.chunk
      }
    }
    yield tail
    sent = true
  }
  return {
    stream: stream(),
    length: head.length + fileLength + tail.length,
    contentType: `multipart/form-data; boundary=${boundary}`,
    // Only a body read to its end: one answered early (a refusal) may still be reading a buffer.
    release: () => {
      if (!sent) return
      for (const buffer of ring.splice(0)) if (spare.length < MAX_SPARE) spare.push(buffer)
    },
  }
}

/**
 * The bytes of a file range, read into up to `RING` buffers in turn (taken from the spare ones,
 * else allocated, and left in `ring` for their owner to release); `offset` is relative to the
 * range's start. A file that cannot be read, or that shrank, fails with a `LocalFileError`: no
 * retry would read it better.
 */
async function* fileRange(
  file: FileRange,
  ring: Buffer[],
): AsyncGenerator<{ chunk: Buffer; offset: number }> {
  const handle = await open(file.path, 'r').catch((error: unknown) => {
    throw new LocalFileError(
      file.path,
      `${file.path} could not be read while it was being sent: ${toErrorMessage(error)}`,
      error,
    )
  })
  try {
    const size = file.end - file.start
    const count = Math.min(RING, Math.ceil(size / READ_SIZE))
    for (let i = 0; i < count; i++) ring.push(spare.pop() ?? Buffer.allocUnsafe(READ_SIZE))
    for (let offset = 0, turn = 0; offset < size; turn++) {
      const buffer = ring[turn % ring.length] as Buffer
      const { bytesRead } = await handle
        .read(buffer, 0, Math.min(buffer.length, size - offset), file.start + offset)
        .catch((error: unknown) => {
          throw new LocalFileError(
            file.path,
            `${file.path} could not be read while it was being sent: ${toErrorMessage(error)}`,
            error,
          )
        })
      if (bytesRead === 0)
        throw new LocalFileError(
          file.path,
          `${file.path} shrank while it was being sent (${file.start + offset} of ` +
            `${file.start + size} bytes read): the file changed while it was being sent`,
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
