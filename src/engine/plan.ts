/**
 * What a plan is: one step per entry (and per removal, and one for the dataset's metadata), each
 * with its action, its reason and everything its execution needs. How each step is decided is in
 * plan/: match.ts (where each entry goes), files.ts and remotes.ts (the step of a local file, of a
 * URL), fields.ts (what differs), removals.ts (`remove` and `prune`), dataset.ts (the dataset's
 * own step and rules). All of it is pure: the facts it cannot compute (local checksums, what a
 * remote URL answers) are asked for and handed back.
 */
import type { Dataset, Resource } from '../datagouv/schemas.js'
import type { ExtraValue } from './inputs.js'
import type { Entry, FileEntry, RemoteEntry } from './manifest.js'
import type { UrlProbe } from '../datagouv/probe.js'
import type { FileCheck } from './checks.js'
import { inputName } from './inputs.js'

/**
 * The style of every part of the preflight that can find problems: it returns what it computed
 * together with the problems it found, so that the preflight reports them all at once.
 */
export interface WithProblems {
  problems: string[]
}

export interface Target<E extends Entry = Entry> {
  entry: E
  /** The resource the entry goes to; absent when a new resource is created. */
  resource?: Resource
  /**
   * The other resources bearing the stored file name the entry matched by, when this publication
   * wrote more than one (two runs created the name at once) and `resource` is the one it keeps.
   */
  duplicates?: Resource[]
}

export type FileAction = 'upload' | 'create' | 'skip' | 'update'
export type RemoteAction = 'signal' | 'create' | 'skip' | 'update'

/** What a step writes besides its main request: everything its execution needs, computed here. */
interface Changes {
  /**
   * Fields for the v1 partial PUT that follows the main request. After an upload or a creation
   * it holds every field the entry controls (the title included), and only those that differ
   * from the server's answer are sent; otherwise only the fields that differ now.
   */
  patch: Record<string, unknown>
  /** Keys for the v2 extras merge (only those that differ). */
  extras: Record<string, ExtraValue>
}

export interface FileStep extends Target<FileEntry>, Changes {
  kind: 'file'
  action: FileAction
  reason: string
  /** The local checksum computed to decide (equal sizes only). */
  checksum?: { type: string; value: string }
  /** The title the resource ends with. */
  title: string
  /**
   * This step puts back a title that an earlier run recorded in the dataset's extras: the key to
   * clear after.
   */
  clearsDatasetRecord?: string
  /**
   * A dated release (plan/releases.ts): its stored name, and the earlier releases of its entry that
   * stay, newest first (`order: as-listed` puts them after it).
   */
  release?: { name: string; earlier: string[] }
  /** `file-checks`: what the file is to data.gouv.fr's analyser (checks.ts). */
  checks?: FileCheck
}

export interface RemoteStep extends Target<RemoteEntry>, Changes {
  kind: 'url'
  action: RemoteAction
  reason: string
  /** What the URL answered, when checked. */
  probe?: UrlProbe
  /** For a creation: the body of the POST. */
  create?: Record<string, unknown> & { url: string }
}

export interface RemovalStep {
  kind: 'remove'
  /** The item of `remove` as the user wrote it. */
  source: string
  label: string
  resource: Resource
  action: 'remove'
  reason: string
}

export type Step = FileStep | RemoteStep | RemovalStep

export interface DatasetStep {
  action: 'update' | 'skip'
  reason: string
  /** Fields for the v1 partial PUT. */
  patch: Record<string, unknown>
  /** Keys for the v2 extras merge. */
  extras: Record<string, ExtraValue>
}

/** The plan of one run, as the preflight hands it to the execution. */
export interface Plan {
  dataset: Dataset
  steps: Step[]
  /** Absent when `dataset-metadata` is not given. */
  datasetStep?: DatasetStep
  warnings: string[]
  /** Hidden files the patterns matched and left out. */
  hiddenLeftOut: number
  /**
   * `create-dataset`: the dataset to create before anything else (its slug, the body of the POST).
   */
  creation?: { body: Record<string, unknown>; slug: string }
  /** `as: community`: whose community resources are published (the key's owner). */
  communityOwner?: string
}

/**
 * Where the title a resource is to carry is recorded for the next run: the resource's extras,
 * written before its file is replaced (plan/files.ts); the dataset's extras held it, one key per
 * resource, for runs of earlier versions, and are still read and cleared.
 */
export const RECORD_KEYS = {
  title: 'publish:title',
  datasetTitle: (resourceId: string) => `publish:title:${resourceId}`,
} as const

/** Where a step comes from, as every message of the run names it. */
export function whereOf(step: Step): string {
  return step.kind === 'remove'
    ? `${step.label.startsWith('remove[') ? `${inputName('remove')}, ` : ''}${step.label} '${step.source}'`
    : `${step.entry.label} (${step.entry.source})`
}

/** What a step's entry looks like in reports: its source and, for files, its size. */
export function describe(step: Step): { source: string; size?: number; title?: string } {
  if (step.kind === 'remove') return { source: step.source }
  if (step.kind === 'url')
    return {
      source: step.entry.url,
      ...(step.probe?.size !== undefined ? { size: step.probe.size } : {}),
      ...(step.entry.title ? { title: step.entry.title } : {}),
    }
  return {
    source: step.entry.source,
    size: step.entry.size,
    title: step.entry.title ?? step.entry.name,
  }
}
