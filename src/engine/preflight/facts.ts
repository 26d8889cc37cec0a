/**
 * The facts the plan asks for and cannot compute itself: what each remote URL answers (read
 * before the preflight decides whether it may go on) and each local checksum (computed once it
 * may, for equal sizes only); then each target's step.
 */
import type { DatagouvClient } from '../../datagouv/client.js'
import { toErrorMessage } from '../../datagouv/errors.js'
import type { Dataset } from '../../datagouv/schemas.js'
import { hashFile } from '../../files/hash.js'
import { probeUrl, type UrlProbe } from '../../datagouv/probe.js'
import { mapConcurrent } from '../../util/concurrency.js'
import type { Settings } from '../inputs.js'
import type { Entry, FileEntry, RemoteEntry } from '../manifest.js'
import type { Step, Target, WithProblems } from '../plan.js'
import { checksumNeeded, decideFile, recordedTitle } from '../plan/files.js'
import { decideRemote } from '../plan/remotes.js'
import { setInput } from '../inputs.js'

/** What each remote URL answered, and the entries whose URL did not answer. */
export interface Probes extends WithProblems {
  /** By URL. */
  probes: Map<string, UrlProbe>
  blocked: Map<Entry, string>
}

/** Checks every remote URL; a URL that does not answer is a problem of its entry. */
export async function probeAll(
  client: DatagouvClient,
  settings: Settings,
  targets: readonly Target[],
): Promise<Probes> {
  const found: Probes = { probes: new Map(), blocked: new Map(), problems: [] }
  const remote = targets.filter((t): t is Target<RemoteEntry> => t.entry.kind === 'url')
  await mapConcurrent(remote, settings.concurrency, async ({ entry }) => {
    try {
      found.probes.set(
        entry.url,
        await probeUrl(entry.url, {
          http: client.requester,
          timeoutMs: Math.min(30_000, settings.timeoutSeconds * 1000),
          userAgent: client.userAgent,
        }),
      )
    } catch (error) {
      const problem =
        `the URL does not answer: ${toErrorMessage(error)} (${setInput('check-urls', 'false')} ` +
        `for URLs the runner cannot reach)`
      found.problems.push(`${entry.label} (${entry.url}): ${problem}`)
      found.blocked.set(entry, problem)
    }
  })
  return found
}

/** Each target's step; local checksums are computed here, for equal sizes only. */
export async function decideAll(
  targets: readonly Target[],
  settings: Settings,
  dataset: Dataset,
  probes: ReadonlyMap<string, UrlProbe>,
): Promise<Step[]> {
  return mapConcurrent(targets, settings.concurrency, async (target): Promise<Step> => {
    if (target.entry.kind === 'url')
      return decideRemote(
        target as Target<RemoteEntry>,
        settings.ifUnchanged,
        probes.get(target.entry.url),
      )
    const fileTarget = target as Target<FileEntry>
    const recorded = fileTarget.resource ? recordedTitle(fileTarget.resource, dataset) : undefined
    const type = checksumNeeded(fileTarget, settings.ifUnchanged)
    const value = type === undefined ? undefined : await hashFile(fileTarget.entry.path, type)
    return decideFile(fileTarget, settings.ifUnchanged, value, recorded)
  })
}
