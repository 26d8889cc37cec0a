/**
 * The CLI's Reporter: logs on stderr, and progress. On a terminal, the frame of frame.ts
 * redrawn in place under the log lines (log-update does the cursor work: it rewrites only the lines
 * that changed, and wraps the redraw in synchronized-output marks so the terminal never shows a
 * half-drawn frame). Elsewhere (a CI log, a file), the periodic lines the action prints.
 */
import { createLogUpdate } from 'log-update'
import type { Reporter } from '../engine/engine.js'
import type { FileEntry } from '../engine/manifest.js'
import type { Plan, Step } from '../engine/plan.js'
import type { Result } from '../engine/publish.js'
import { periodicLines } from '../engine/progress.js'
import { renderFrame } from './frame.js'
import { interruptReport, type Stage } from './interrupt.js'
import { ProgressModel } from './progress.js'
import { planText, type PlanSettings } from './text.js'

export interface Output {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
  rows?: number
}

export interface CliReporter extends Reporter {
  /** The steps about to run: the uploads to come. */
  plan(steps: readonly Step[]): void
  /** The plan: on stderr before the writes; in a dry run kept for stdout, where it is the result. */
  showPlan(plan: Plan): void
  /** The plan the preflight made, once it did. */
  readonly shownPlan: Plan | undefined
  /** One step's outcome: an upload's end. */
  stepDone(result: Result): void
  /** Stops drawing and removes the progress lines. */
  done(): void
  /** What to say when the run is interrupted now. */
  interrupted(signal: string): string[]
}

export interface TerminalOptions {
  stream: Output
  verbose: boolean
  dryRun: boolean
  /** What the plan table shows besides the steps (the order, the wait for the analysis). */
  planSettings?: Omit<PlanSettings, 'dryRun'>
  /** Larger files go in parts: the action's periodic lines are for them only. */
  chunkSize: number
  /** Draw in place; by default when the stream is a terminal. */
  interactive?: boolean
  clock?: () => number
  /** Redraw period on a terminal. */
  redrawMs?: number
}

export function terminalReporter(options: TerminalOptions): CliReporter {
  const { stream, verbose, chunkSize } = options
  const now = options.clock ?? Date.now
  const model = new ProgressModel()
  let stage: Stage = options.dryRun ? 'dry-run' : 'preflight'
  const interactive = options.interactive ?? stream.isTTY === true
  const frame = interactive ? inPlace(stream, model, now, options.redrawMs ?? 100) : undefined
  const periodic = interactive ? undefined : periodicLines(chunkSize, now)

  const line = (text: string): void => (frame ? frame.above(text) : void stream.write(`${text}\n`))
  let shownPlan: Plan | undefined
  const planSettings = {
    order: 'keep',
    waitForAnalysisSeconds: 0,
    ...options.planSettings,
  } as const
  return {
    get shownPlan() {
      return shownPlan
    },
    showPlan(plan) {
      shownPlan = plan
      if (!options.dryRun)
        line(planText(plan, { ...planSettings, dryRun: false }, stream.columns || 80))
    },
    info: line,
    debug: (message) => {
      if (verbose) line(`  ${message}`)
    },
    warning: (message) => line(`warning: ${message}`),
    group: async (name, fn, phase) => {
      if (!options.dryRun && phase === 'publish') stage = 'publish'
      line(`== ${name}`)
      try {
        return await fn()
      } finally {
        frame?.update()
      }
    },
    progress(entry: FileEntry, sent: number) {
      model.progress(entry, sent, now())
      if (frame) frame.start()
      else periodic?.(entry, sent, line)
    },
    plan: (steps) => model.plan(uploadsOf(steps)),
    stepDone(result) {
      if (!sentBytes(result)) return
      model.ended(result.step.entry, result.action === 'failed', result.action, now())
      frame?.update()
    },
    done: () => frame?.stop(),
    interrupted: (signal) => interruptReport(model, stage, chunkSize, signal),
  }
}

/** The files the steps send to the server. */
function uploadsOf(steps: readonly Step[]): FileEntry[] {
  return steps.flatMap((s) =>
    s.kind === 'file' && (s.action === 'upload' || s.action === 'create') ? [s.entry] : [],
  )
}

/** A file step whose bytes went (or were to go) to the server: its progress line ends. */
function sentBytes(
  result: Result,
): result is Result & { step: { kind: 'file'; entry: FileEntry } } {
  return (
    result.step.kind === 'file' &&
    result.action !== 'skipped' &&
    result.action !== 'planned' &&
    result.action !== 'updated'
  )
}

/** The frame under the log lines, redrawn on a timer while an upload is on screen. */
function inPlace(stream: Output, model: ProgressModel, now: () => number, redrawMs: number) {
  const draw = createLogUpdate(sized(stream) as NodeJS.WriteStream)
  let shown = false
  let timer: NodeJS.Timeout | undefined
  const update = (): void => {
    const lines = renderFrame(model, stream.columns || 80)
    if (lines.length === 0) {
      if (shown) draw.clear()
      shown = false
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      return
    }
    draw(lines.join('\n'))
    shown = true
  }
  return {
    update,
    start(): void {
      if (timer !== undefined) return
      timer = setInterval(() => {
        model.tick(now())
        update()
      }, redrawMs)
      timer.unref()
    },
    above(text: string): void {
      if (shown) draw.clear()
      stream.write(`${text}\n`)
      if (shown) {
        shown = false
        update()
      }
    },
    stop(): void {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      if (shown) draw.clear()
      shown = false
      draw.done()
    },
  }
}

/**
 * The stream as log-update sees it: a terminal that reports no size (0 rows and columns: some
 * pseudo-terminals, serial consoles) is taken as 24 rows of 80 columns, rather than a frame
 * clipped to nothing.
 */
function sized(stream: Output): Output {
  return {
    write: (text: string) => stream.write(text),
    get isTTY() {
      return stream.isTTY === true
    },
    get columns() {
      return stream.columns || 80
    },
    get rows() {
      return stream.rows || 24
    },
  }
}
