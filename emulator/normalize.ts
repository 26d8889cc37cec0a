import anyAscii from 'any-ascii'

/**
 * udata's file-name and slug rules, written from udata's source (docs/udata-protocol.md §3.2) and independent
 * of the Action's own implementation in src/, so that a mistake there is not mirrored here.
 *
 * - `normalizeFilename` = `udata.core.storages.utils.normalize` =
 *   awesome-slugify `Slugify(separator='-', to_lower=True, safe_chars='.')`;
 * - `slugify` = the dataset `SlugField` (awesome-slugify with its defaults: `.` is a separator,
 *   `max_length=255`);
 * - `fileFormat` = `utils.extension()`; `lastExtension` = flask-storage's allowed-extension check.
 */

/**
 * Characters for which Python's Unidecode (used by awesome-slugify) and any-ascii disagree in a
 * way that changes a slug, for the scripts file names are usually written in (Latin, French
 * symbols, Russian and Ukrainian Cyrillic). Values are Unidecode's outputs.
 */
const UNIDECODE: Readonly<Record<string, string>> = {
  '¢': 'C/',
  '£': 'PS',
  '¥': 'Y=',
  '§': 'SS',
  '¼': ' 1/4',
  '½': ' 1/2',
  '¾': ' 3/4',
  '×': 'x',
  ĸ: 'k',
  Ё: 'Io',
  ё: 'io',
  Й: 'I',
  й: 'i',
  Ю: 'Iu',
  ю: 'iu',
  Я: 'Ia',
  я: 'ia',
  Ї: 'Yi',
  ї: 'yi',
}

/** Unidecode spells CJK ideographs one syllable at a time, each followed by a space. */
const CJK_IDEOGRAPH = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ffff}]/u
/** Unidecode has no spelling for emoji and pictographs (any-ascii names them): they vanish. */
const PICTOGRAPH = /\p{Extended_Pictographic}/u

/** Unidecode-like transliteration to ASCII, one character at a time. */
function transliterate(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0) as number
    if (code < 0x80) out += char
    else if (UNIDECODE[char] !== undefined) out += UNIDECODE[char]
    else if (CJK_IDEOGRAPH.test(char)) out += `${anyAscii(char)} `
    else if (code >= 0x2190 && PICTOGRAPH.test(char)) continue
    else out += anyAscii(char)
  }
  return out
}

/**
 * awesome-slugify's `Slugify.__call__` with `to_lower=True`: transliterate, lower-case, drop
 * apostrophes, split on every run of characters that are neither ASCII letters, digits nor one of
 * `safeChars`, drop empty words, join with `-` (`join_words`, which skips a word that would make
 * the text longer than `maxLength`, then truncates).
 */
function awesomeSlugify(text: string, safeChars: string, maxLength?: number): string {
  const ascii = transliterate(text).toLowerCase().replace(/'/g, '').trim()
  const unwanted = new RegExp(`[^a-z0-9${safeChars.replace(/[\\\]^-]/g, '\\$&')}]+`)
  const words = ascii.split(unwanted).filter((word) => word !== '')
  if (maxLength === undefined) return words.join('-')
  let slug = words[0] ?? ''
  for (const word of words.slice(1))
    if (slug.length + 1 + word.length <= maxLength) slug += `-${word}`
  return slug.slice(0, maxLength)
}

/** The name udata stores an upload under (`utils.normalize`): `Ventes 2024.CSV` → `ventes-2024.csv`. */
export function normalizeFilename(name: string): string {
  return awesomeSlugify(name, '.')
}

/** A dataset slug from its title (`SlugField(max_length=255)`): dots are separators here. */
export function slugify(title: string): string {
  return awesomeSlugify(title, '', 255)
}

/**
 * A dataset tag (`udata/tags.py` `slug`): awesome-slugify's default `slugify` of the lower-cased
 * text, with no safe character (`Eau Potable` → `eau-potable`, `a_b.c` → `a-b-c`).
 */
export function tagSlug(tag: string): string {
  return awesomeSlugify(tag.toLowerCase(), '')
}

/** Python's `os.path.splitext` on a base name: a leading run of dots is not an extension. */
function splitext(name: string): [root: string, ext: string] {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || /^\.+$/.test(name.slice(0, dot))) return [name, '']
  return [name.slice(0, dot), name.slice(dot)]
}

/**
 * `utils.extension()` (udata v17.6): the last extension; while it is an archive extension, the
 * previous one is prepended if it is allowed (`test.2022.csv.tar.gz` → `csv.tar.gz`,
 * `test.2022.zip` → `zip`, `test.geojson.csv` → `csv`). `null` without a dot (Python `None`).
 */
export function fileFormat(
  storedName: string,
  allowed: ReadonlySet<string>,
  archives: ReadonlySet<string> = ARCHIVE_EXTENSIONS,
): string | null {
  let rest = storedName.slice(storedName.lastIndexOf('/') + 1)
  let format: string | null = null
  while (rest.includes('.')) {
    const [root, dotted] = splitext(rest)
    const ext = dotted.startsWith('.') ? dotted.slice(1) : dotted
    if (format !== null && format !== '' && !allowed.has(ext)) break
    format = format === null || format === '' ? ext : `${ext}.${format}`
    if (!archives.has(ext)) break
    if (root === rest) break // `splitext` found nothing more to split
    rest = root
  }
  return format
}

/** flask-storage's check: the last extension of the stored name, lower-cased. */
export function lastExtension(name: string): string | undefined {
  const [, dotted] = splitext(name.slice(name.lastIndexOf('/') + 1))
  return dotted.length > 1 ? dotted.slice(1).toLowerCase() : undefined
}

/** `ALLOWED_ARCHIVE_EXTENSIONS` of `udata/settings.py`. */
const ARCHIVE_EXTENSIONS: ReadonlySet<string> = new Set([
  'tar',
  'gz',
  'tgz',
  'rar',
  'zip',
  '7z',
  'xz',
  'bz2',
])
