/** Streaming checksums: memory stays flat whatever the file size. */
import { createHash, type Hash } from 'node:crypto'
import { open } from 'node:fs/promises'

/**
 * Checksum types udata reports (docs/udata-protocol.md Appendix A) mapped to node's digest names.
 */
const ALGORITHMS: Record<string, string> = {
  sha1: 'sha1',
  md5: 'md5',
  sha256: 'sha256',
  sha2: 'sha256',
}

export function isSupportedChecksum(type: string): boolean {
  return type in ALGORITHMS
}

/**
 * Hex digest of a file in one streaming pass. Reads go into one reused 1 MiB buffer: no garbage
 * per read, so memory stays at the process's baseline whatever the file size.
 */
export async function hashFile(path: string, type: string = 'sha1'): Promise<string> {
  const algorithm = ALGORITHMS[type]
  if (algorithm === undefined)
    throw new Error(
      `unsupported checksum type '${type}' (supported: ${Object.keys(ALGORITHMS).join(', ')})`,
    )
  const hash = createHash(algorithm)
  const buffer = Buffer.allocUnsafe(1 << 20)
  const file = await open(path)
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

/**
 * A sha1 fed with byte ranges in file order, possibly more than once (a retried request re-reads
 * its range): each byte is hashed once, the first time it is seen, so an upload computes the local
 * checksum while it streams, with no pass of its own. Ranges must not skip ahead of what is hashed.
 */
export class SequentialHasher {
  private readonly hash: Hash = createHash('sha1')
  private hashed = 0

  constructor(readonly size: number) {}

  /** `chunk` holds the bytes at [offset, offset + chunk.length). */
  feed(offset: number, chunk: Uint8Array): void {
    if (offset > this.hashed) throw new Error(`hashing skipped bytes ${this.hashed}..${offset}`)
    const end = offset + chunk.length
    if (end <= this.hashed) return
    this.hash.update(chunk.subarray(this.hashed - offset))
    this.hashed = end
  }

  get complete(): boolean {
    return this.hashed === this.size
  }

  /** The sha1 once every byte was fed; `undefined` before. */
  digest(): string | undefined {
    if (!this.complete) return undefined
    this.value ??= this.hash.digest('hex')
    return this.value
  }

  private value: string | undefined
}
