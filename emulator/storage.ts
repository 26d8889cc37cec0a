import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { link, mkdir, open, rm, rmdir, unlink, writeFile } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * The two flask-storage storages udata uses, on local disk (docs/udata-protocol.md §3.2, §5):
 * `static/<slug>/<YYYYMMDD-HHMMSS>/<name>` for resources and `chunks/<uuid>/<partindex>` (+ meta.json)
 * for upload parts, plus `tmp/` where request bodies are spooled before the server decides what
 * they are (like Werkzeug's spooled temporary files). Every byte goes through streams.
 */

/** flask-storage `FileExists`: udata does not handle it, so it surfaces as a 500. */
export class FileExists extends Error {
  constructor(readonly path: string) {
    super(`FileExists: ${path}`)
    this.name = 'FileExists'
  }
}

/** flask-storage `FileNotFound` (a missing chunk part at finalisation): also a 500. */
export class FileNotFound extends Error {
  constructor(readonly path: string) {
    super(`FileNotFound: ${path}`)
    this.name = 'FileNotFound'
  }
}

export interface Measured {
  size: number
  sha1: string
}

/** Read size of the finalisation (combining parts). */
const COMBINE_BUFFER = 4 << 20

/** A pass-through that counts bytes and, optionally, digests them with sha1. */
function meter(hash: boolean): { stream: Transform; result: () => Measured } {
  const digest = hash ? createHash('sha1') : undefined
  let size = 0
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      digest?.update(chunk)
      callback(null, chunk)
    },
  })
  return { stream, result: () => ({ size, sha1: digest?.digest('hex') ?? '' }) }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
}

/** `YYYYMMDD-HHMMSS` in UTC, the second-resolution prefix udata stores uploads under. */
function storageTimestamp(date: Date): string {
  const iso = date.toISOString()
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`
}

export class Storage {
  readonly staticRoot: string
  readonly chunksRoot: string
  readonly tmpRoot: string

  constructor(readonly root: string) {
    this.staticRoot = join(root, 'static')
    this.chunksRoot = join(root, 'chunks')
    this.tmpRoot = join(root, 'tmp')
    for (const dir of [this.staticRoot, this.chunksRoot, this.tmpRoot])
      mkdirSync(dir, { recursive: true })
  }

  tmpPath(): string {
    return join(this.tmpRoot, randomUUID())
  }

  /** Absolute path of a stored file, or undefined when `fsFilename` escapes the static root. */
  staticPath(fsFilename: string): string | undefined {
    const path = resolve(this.staticRoot, fsFilename)
    return path.startsWith(this.staticRoot + sep) ? path : undefined
  }

  chunkDir(uuid: string): string {
    return join(this.chunksRoot, uuid)
  }

  chunkPath(uuid: string, part: string): string {
    return join(this.chunksRoot, uuid, part)
  }

  /** Stream `source` to `path`, counting (and hashing) on the fly. */
  async receive(source: Readable, path: string, hash: boolean): Promise<Measured> {
    const measured = meter(hash)
    await pipeline(source, measured.stream, createWriteStream(path))
    return measured.result()
  }

  /** Move a spooled file to `target` without ever overwriting (hard link + unlink is atomic). */
  async moveNoOverwrite(tmp: string, target: string): Promise<void> {
    await mkdir(dirname(target), { recursive: true })
    try {
      await link(tmp, target)
    } catch (error) {
      if (isCode(error, 'EEXIST')) throw new FileExists(target)
      throw error
    }
    await unlink(tmp)
  }

  /**
   * Find where a new upload goes: `<slug>/<ts>/<name>`. With `conflict`, an existing file is
   * flask-storage's `FileExists`; without, a `-2`, `-3`... suffix is added to the timestamp folder.
   */
  async placeUpload(
    slug: string,
    name: string,
    now: Date,
    conflict: boolean,
    write: (target: string) => Promise<void>,
  ): Promise<string> {
    const ts = storageTimestamp(now)
    for (let attempt = 1; ; attempt++) {
      const fsFilename = `${slug}/${attempt === 1 ? ts : `${ts}-${attempt}`}/${name}`
      const target = this.staticPath(fsFilename)
      if (target === undefined) throw new Error(`Unsafe storage path ${fsFilename}`)
      try {
        await write(target)
        return fsFilename
      } catch (error) {
        if (!(error instanceof FileExists) || conflict) throw error
      }
    }
  }

  /**
   * Stream parts `0 … totalparts-1` of `uuid` into `target`, in order, hashing on the fly
   * (v17.6 `ChunksReader`): every byte is read from its part, hashed and written, once. Two
   * reused buffers overlap the next read with the hash and write of the current one, as a server
   * streaming with a read-ahead would. `legacy` gives the pre-v17.6 `combine_chunks` behaviour
   * (target opened "wb", each part deleted once copied). On a missing part the partial target is
   * removed and `FileNotFound` is thrown.
   */
  async combine(
    uuid: string,
    totalparts: number,
    target: string,
    legacy: boolean,
  ): Promise<Measured> {
    await mkdir(dirname(target), { recursive: true })
    let out
    try {
      out = await open(target, legacy ? 'w' : 'wx')
    } catch (error) {
      if (isCode(error, 'EEXIST')) throw new FileExists(target)
      throw error
    }
    const digest = createHash('sha1')
    const buffers = [Buffer.allocUnsafe(COMBINE_BUFFER), Buffer.allocUnsafe(COMBINE_BUFFER)]
    const bufferAt = (n: number): Buffer => buffers[n % 2] as Buffer
    let size = 0
    let turn = 0
    let writing: Promise<unknown> = Promise.resolve()
    try {
      for (let index = 0; index < totalparts; index++) {
        const path = this.chunkPath(uuid, String(index))
        let part
        try {
          part = await open(path)
        } catch (error) {
          if (isCode(error, 'ENOENT')) throw new FileNotFound(path)
          throw error
        }
        try {
          // A buffer is read into only once its previous write is done.
          await writing
          let reading = part.read(bufferAt(turn), 0, COMBINE_BUFFER, null)
          for (;;) {
            const { bytesRead, buffer } = await reading
            if (bytesRead === 0) break
            const bytes = buffer.subarray(0, bytesRead)
            digest.update(bytes)
            size += bytesRead
            await writing
            turn++
            reading = part.read(bufferAt(turn), 0, COMBINE_BUFFER, null)
            writing = out.write(bytes, 0, bytesRead, null)
          }
        } finally {
          await part.close()
        }
        if (legacy) await unlink(path)
      }
      await writing
    } catch (error) {
      await writing.catch(() => undefined)
      await out.close().catch(() => undefined)
      await rm(target, { force: true })
      throw error
    }
    await out.close()
    return { size, sha1: digest.digest('hex') }
  }

  async writeChunkMeta(uuid: string, meta: Record<string, unknown>): Promise<void> {
    await writeFile(join(this.chunkDir(uuid), 'meta.json'), JSON.stringify(meta))
  }

  async discardChunks(uuid: string): Promise<void> {
    await rm(this.chunkDir(uuid), { recursive: true, force: true })
  }

  async deleteStatic(fsFilename: string): Promise<void> {
    const path = this.staticPath(fsFilename)
    if (path === undefined) return
    await rm(path, { force: true })
    // flask-storage leaves the timestamp folder behind; removing it when empty changes nothing visible.
    await rmdir(dirname(path)).catch(() => undefined)
  }

  /** Synchronous write for seeding; never overwrites (steps the timestamp back instead). */
  writeSeedFile(slug: string, name: string, content: Buffer, at: Date): string {
    for (let back = 0; ; back++) {
      const fsFilename = `${slug}/${storageTimestamp(new Date(at.getTime() - back * 1000))}/${name}`
      const path = this.staticPath(fsFilename)
      if (path === undefined) throw new Error(`Unsafe storage path ${fsFilename}`)
      mkdirSync(dirname(path), { recursive: true })
      try {
        writeFileSync(path, content, { flag: 'wx' })
        return fsFilename
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error
      }
    }
  }
}
