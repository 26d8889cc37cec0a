import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** Writes `content` at `relative` below `dir` (a test's workspace), its folders first; the file's path. */
export async function writeUnder(
  dir: string,
  relative: string,
  content: string | Buffer,
): Promise<string> {
  const file = path.join(dir, relative)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content)
  return file
}
