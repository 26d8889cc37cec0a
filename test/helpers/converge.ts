/**
 * What the tests of disturbed runs and their reruns share (test/converge-*.test.ts,
 * test/bundle/converge.test.ts): a workflow run's context, file contents told apart by a seed, and
 * what the emulator holds and received, which is their evidence.
 */
import type { ResourceState } from '../../emulator/server.js'
import type { Fixture } from './fixture.js'

/** A workflow run's context: provenance names this publication by repository and workflow. */
export const RUNNER = {
  GITHUB_WORKFLOW: 'Publish data',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_RUN_ID: '77',
}

/** `size` bytes of digits, different for each `seed`. */
export function bytes(size: number, seed: number): Buffer {
  const buffer = Buffer.alloc(size)
  for (let i = 0; i < size; i++) buffer[i] = 48 + ((i * 7 + seed) % 10)
  return buffer
}

/** The writes (anything but GET and HEAD) the emulator received since request `mark`. */
export function writesSince(f: Fixture, mark: number): string[] {
  return f.emulator.requests
    .slice(mark)
    .filter((q) => q.method !== 'GET' && q.method !== 'HEAD')
    .map((q) => `${q.method} ${q.path}`)
}

/** The fixture dataset's resources bearing the stored file name. */
export function storedUnder(f: Fixture, name: string): ResourceState[] {
  return (f.emulator.getDataset(f.dataset.id)?.resources ?? []).filter((r) =>
    r.url.endsWith(`/${name}`),
  )
}
