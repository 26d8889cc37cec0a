/**
 * What the table diff keeps of the rows of the published file: 64-bit hashes (of each row's key,
 * of its compared fields) in typed arrays, a hash index of each, and one bit per row for "found
 * in the local file". Nothing of a row's text is kept, and the local file is looked up row by row
 * as it streams, so memory grows by a few tens of bytes a published row whatever the width of the
 * table (measured in scripts/bench/diff.ts).
 */

/** A 64-bit hash as two unsigned 32-bit halves. */
export interface Hash64 {
  hi: number
  lo: number
}

/** A field boundary: above every UTF-16 code unit, so ['ab', ''] and ['a', 'b'] hash apart. */
const FIELD_END = 0x10000

/**
 * The hash of the fields of `row` at `columns` (a missing field counts as empty): cyrb53's
 * multiply-xor mixing in two lanes of 32 bits, kept 64 bits wide.
 */
export function hashFields(row: readonly string[], columns: readonly number[]): Hash64 {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (const column of columns) {
    const text = row[column] ?? ''
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i)
      h1 = Math.imul(h1 ^ code, 2654435761)
      h2 = Math.imul(h2 ^ code, 1597334677)
    }
    h1 = Math.imul(h1 ^ FIELD_END, 2654435761)
    h2 = Math.imul(h2 ^ FIELD_END, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return { hi: h2 >>> 0, lo: h1 >>> 0 }
}

/** One hash per row, in file order, growing by half when full. */
export class Hashes {
  hi = new Uint32Array(1024)
  lo = new Uint32Array(1024)
  count = 0

  push(hash: Hash64): void {
    if (this.count === this.hi.length) {
      const capacity = Math.ceil(this.count * 1.5)
      const hi = new Uint32Array(capacity)
      const lo = new Uint32Array(capacity)
      hi.set(this.hi)
      lo.set(this.lo)
      this.hi = hi
      this.lo = lo
    }
    this.hi[this.count] = hash.hi
    this.lo[this.count] = hash.lo
    this.count++
  }

  /** Bytes held (the bench reports it). */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength
  }
}

/** No row in this slot. */
const EMPTY = 0

/**
 * The rows of `hashes` by hash, for lookups from the local file: an open-addressing table (linear
 * probing, at most 70 % full) of row indexes; rows of equal hash are chained in file order, so each
 * lookup takes the first one not yet taken, in constant time even for a file of repeated rows.
 */
export class HashIndex {
  private readonly slots: Uint32Array
  private readonly mask: number
  /** The next row of equal hash (+1; 0: none), when `chained`. */
  private readonly next: Uint32Array | undefined
  /** Rows taken, by row index: what is left clear was not found in the local file. */
  readonly taken: Bits
  takenCount = 0
  /** Every hash appears once. */
  unique = true

  /** `chained: false`: equal hashes are not kept (only `unique` says they were there). */
  constructor(
    private readonly hashes: Hashes,
    chained = true,
  ) {
    let size = 16
    while (size * 0.7 < hashes.count) size *= 2
    this.slots = new Uint32Array(size)
    this.mask = size - 1
    this.next = chained ? new Uint32Array(hashes.count) : undefined
    this.taken = new Bits(hashes.count)
    // Last row first: each row of a chain goes before the ones after it in the file.
    for (let row = hashes.count - 1; row >= 0; row--) this.insert(row)
  }

  private insert(row: number): void {
    const slot = this.slotOf(this.hashes.hi[row] as number, this.hashes.lo[row] as number)
    const head = this.slots[slot] as number
    if (head !== EMPTY) {
      this.unique = false
      if (this.next === undefined) return
      this.next[row] = head
    }
    this.slots[slot] = row + 1
  }

  /** The slot holding this hash, or the empty one where it would go. */
  private slotOf(hi: number, lo: number): number {
    let slot = lo & this.mask
    for (;;) {
      const entry = this.slots[slot] as number
      if (entry === EMPTY) return slot
      const row = entry - 1
      if (this.hashes.hi[row] === hi && this.hashes.lo[row] === lo) return slot
      slot = (slot + 1) & this.mask
    }
  }

  /** A published row with this hash, now taken; -1 when there is none, -2 when all are taken. */
  take(hash: Hash64): number {
    const slot = this.slotOf(hash.hi, hash.lo)
    const entry = this.slots[slot] as number
    if (entry === EMPTY) return -1
    const row = entry - 1
    if (this.taken.has(row)) return -2
    this.taken.set(row)
    this.takenCount++
    const next = this.next?.[row] ?? EMPTY
    if (next !== EMPTY) this.slots[slot] = next
    return row
  }

  /** Bytes held beside the hashes (the bench reports it). */
  get bytes(): number {
    return this.slots.byteLength + (this.next?.byteLength ?? 0) + this.taken.bytes
  }
}

/** One bit per row. */
export class Bits {
  private readonly words: Uint32Array
  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
  }
  has(i: number): boolean {
    return (((this.words[i >>> 5] as number) >>> (i & 31)) & 1) === 1
  }
  set(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) | (1 << (i & 31))
  }
  /** The first `limit` indexes whose bit is clear, in order. */
  firstClear(limit: number): number[] {
    const found: number[] = []
    for (let i = 0; i < this.size && found.length < limit; i++) if (!this.has(i)) found.push(i)
    return found
  }
  get bytes(): number {
    return this.words.byteLength
  }
}
