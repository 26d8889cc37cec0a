/** Whether a local file can be read, checked before anything is sent. */
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'

/**
 * `undefined` when the path opens for reading as a regular file; otherwise why not, as the system
 * says it (`EACCES: permission denied, open '…'`). Opened without blocking, so that a named pipe
 * (which would wait for a writer) is told apart instead of stopping the run.
 */
export async function whyUnreadable(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
    try {
      const info = await handle.stat()
      return info.isFile() ? undefined : `'${path}' is not a regular file`
    } finally {
      await handle.close()
    }
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}
