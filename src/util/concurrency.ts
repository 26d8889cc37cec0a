/**
 * Like Promise.all over `items`, with at most `limit` calls of `fn` running at once; order kept.
 * Once a call fails, no further item is started (those running finish), and the first failure is
 * thrown: a failed part of an upload does not let the other workers send the rest of the file.
 */
export function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  return mapPaced(items, () => limit, fn)
}

/**
 * `mapConcurrent` with a limit that may change while it runs: `limit()` is read again whenever a
 * call ends (and at the start), and as many items start as it then allows. When it falls, running
 * calls finish and none starts until fewer run; it never counts as less than 1.
 */
export async function mapPaced<T, R>(
  items: readonly T[],
  limit: () => number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  const running = new Set<Promise<void>>()
  let next = 0
  let failure: { error: unknown } | undefined
  while (failure === undefined && (next < items.length || running.size > 0)) {
    while (next < items.length && running.size < Math.max(1, limit())) {
      const index = next++
      // A call that throws synchronously fails like one that rejects.
      const call: Promise<void> = Promise.resolve()
        .then(() => fn(items[index] as T, index))
        .then(
          (result) => void (results[index] = result),
          (error: unknown) => void (failure ??= { error }),
        )
        .finally(() => running.delete(call))
      running.add(call)
    }
    await Promise.race(running)
  }
  if (failure !== undefined) throw failure.error
  return results
}
