/** Test data for the big-file test and the benchmark. */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'

/** Writes `size` bytes of pseudo-random content (each MiB different) as a stream; returns its sha1. */
export async function generateFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha1')
  const out = createWriteStream(file)
  const block = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24
  for (let written = 0, n = 0; written < size; n++) {
    block.writeUInt32LE(n, 0)
    const piece = block.subarray(0, Math.min(block.length, size - written))
    hash.update(piece)
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    written += piece.length
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
  return hash.digest('hex')
}
