/**
 * Where a local path really is, symbolic links followed, and whether that is inside the
 * workspace: nothing outside it leaves the runner unless the user named it (find.ts).
 */
import { realpath } from 'node:fs/promises'
import path from 'node:path'

/** The path with every symbolic link followed; as given (absolute) when it does not exist. */
export async function realPlace(file: string): Promise<string> {
  return realpath(file).catch(() => path.resolve(file))
}

/** Whether `place` is `root` or below it (both real, absolute paths). */
export function within(place: string, root: string): boolean {
  const relative = path.relative(root, place)
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  )
}
