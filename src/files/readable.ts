/** Whether a local file can be read, checked before anything is sent. */
import { open } from 'node:fs/promises'

/**
 * `undefined` when the file opens for reading; otherwise why not, as the system says it
 * (`EACCES: permission denied, open '…'`).
 */
export async function whyUnreadable(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r')
    await handle.close()
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}
