/** What the fault tests read of the emulator's upload requests (test/faults*.test.ts). */
import type { RecordedRequest } from '../../emulator/server.js'
import type { Fixture } from './fixture.js'

/** The helpers bound to the test file's current fixture. */
export function faultHelpers(current: () => Fixture) {
  return {
    bytes,
    /** The upload requests the emulator received: parts and finalisations. */
    uploadPosts: (): RecordedRequest[] =>
      current().emulator.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/upload/')),
    shape,
  }
}

/** Deterministic bytes, different at every offset modulo 251. */
function bytes(size: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(size)
  for (let i = 0; i < size; i++) buffer[i] = (i * 7919 + seed * 104_729) % 251
  return buffer
}

/** What each upload request was (part index, or `final`) and how it ended (fault, else status). */
function shape(requests: RecordedRequest[]): Array<[string, string | number]> {
  return requests.map((q) => [
    q.fields === undefined ? '?' : (q.fields.partindex ?? 'final'),
    q.fault ?? q.status,
  ])
}
