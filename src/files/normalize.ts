import anyAscii from 'any-ascii'

/**
 * The file name udata stores for an upload (docs/udata-protocol.md §3.2 step 3).
 *
 * udata runs `Slugify(separator='-', to_lower=True, safe_chars='.')` from awesome-slugify:
 * transliterate to ASCII (unidecode), drop apostrophes, split on every run of characters that are
 * neither alphanumeric nor `.`, join the words with `-`, lower-case.
 *
 * Transliteration uses any-ascii instead of Python's unidecode: they agree on Latin scripts and
 * symbols (é→e, €→EUR, œ→oe, ß→ss); for CJK, unidecode separates syllables with spaces (hence
 * `-`) where any-ascii does not, so such names may differ. Matching falls back to titles.
 */
export function normalizeFilename(name: string): string {
  const ascii = anyAscii(name).replace(/'/g, '').trim()
  return ascii
    .split(/[^A-Za-z0-9.]+/)
    .filter((word) => word !== '')
    .join('-')
    .toLowerCase()
}

/**
 * The format udata derives from a stored name: the last extension, plus the preceding ones while
 * the outer one is an archive extension (docs/udata-protocol.md §3.2 step 6: `test.tar.gz` → `tar.gz`,
 * `test.2022.csv.tar.gz` → `csv.tar.gz` given the allowed extensions, `test.geojson.csv` → `csv`).
 * `undefined` without a dot.
 */
export function fileFormat(storedName: string, allowed?: ReadonlySet<string>): string | undefined {
  const parts = storedName.toLowerCase().split('.')
  if (parts.length < 2) return undefined
  const last = parts.pop() as string
  let format = last
  let outer = last
  while (ARCHIVE_EXTENSIONS.has(outer) && parts.length > 1) {
    const inner = parts[parts.length - 1] as string
    if (allowed !== undefined && !allowed.has(inner)) break
    parts.pop()
    format = `${inner}.${format}`
    outer = inner
  }
  return format
}

/** The extension udata checks against the allowed list: the last one, lower-cased. */
export function lastExtension(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  return dot >= 0 && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : undefined
}

export const ARCHIVE_EXTENSIONS: ReadonlySet<string> = new Set(['tar', 'gz', 'tgz', 'rar', 'zip', '7z', 'xz', 'bz2'])
