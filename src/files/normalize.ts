import anyAscii from 'any-ascii'

/**
 * The file name udata stores for an upload (docs/udata-protocol.md §3.2 step 3).
 *
 * udata runs `Slugify(separator='-', to_lower=True, safe_chars='.')` from awesome-slugify:
 * transliterate to ASCII (Python's Unidecode), drop apostrophes, split on every run of characters
 * that are neither alphanumeric nor `.`, join the words with `-`, lower-case. Checked against the
 * table of cases the emulator's own implementation is tested with
 * (test/fixtures/normalize-cases.json).
 */
export function normalizeFilename(name: string): string {
  const ascii = unidecode(name).replace(/'/g, '').trim()
  return ascii
    .split(/[^A-Za-z0-9.]+/)
    .filter((word) => word !== '')
    .join('-')
    .toLowerCase()
}

/**
 * The slug udata gives a dataset created with this title (`SlugField`: awesome-slugify with its
 * defaults, so a dot separates words too, at most 255 characters, whole words kept). udata adds
 * `-1`, `-2`… when the slug is taken, which this cannot know.
 */
export function slugify(title: string): string {
  const words = unidecode(title)
    .replace(/'/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '')
  let slug = words[0] ?? ''
  for (const word of words.slice(1)) if (slug.length + 1 + word.length <= 255) slug += `-${word}`
  return slug.slice(0, 255)
}

/**
 * Where Unidecode spells a character otherwise than any-ascii, in the scripts file names are
 * mostly written in (Latin-1 symbols, Russian and Ukrainian).
 */
const UNIDECODE_SPELLING = new Map<string, string>([
  ['¢', 'C/'],
  ['£', 'PS'],
  ['¥', 'Y='],
  ['§', 'SS'],
  ['¼', ' 1/4'],
  ['½', ' 1/2'],
  ['¾', ' 3/4'],
  ['×', 'x'],
  ['ĸ', 'k'],
  ...pairs('ЁёЙйЮюЯяЇї', ['Io', 'io', 'I', 'i', 'Iu', 'iu', 'Ia', 'ia', 'Yi', 'yi']),
])

function pairs(chars: string, spellings: readonly string[]): Array<[string, string]> {
  return [...chars].map((char, i) => [char, spellings[i] ?? ''])
}

/**
 * ASCII as Python's Unidecode gives it: any-ascii, except that Unidecode writes each CJK
 * ideograph as a syllable followed by a space, has nothing for emoji, and spells a few characters
 * otherwise (`UNIDECODE_SPELLING`).
 */
function unidecode(text: string): string {
  return [...text]
    .map((char) => {
      if (char.charCodeAt(0) < 0x80) return char
      const spelled = UNIDECODE_SPELLING.get(char)
      if (spelled !== undefined) return spelled
      if (/\p{Script=Han}/u.test(char)) return `${anyAscii(char)} `
      // Emoji and pictographs (from U+2190 on: ©, ® and ™ below it are spelled out).
      if (char.codePointAt(0)! >= 0x2190 && /\p{Extended_Pictographic}/u.test(char)) return ''
      return anyAscii(char)
    })
    .join('')
}

/**
 * The extension udata checks against the allowed list: the last one, lower-cased; none for a name
 * whose only dots lead it (`.csv`), as Python's `splitext` says.
 */
export function lastExtension(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  const leading = /^\.*/.exec(base)?.[0].length ?? 0
  return dot >= leading && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : undefined
}
