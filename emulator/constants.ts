/**
 * Fixed lists and literal messages of udata (docs/udata-protocol.md §2.4, §6, §9), kept in one place so the
 * emulator's answers can be compared with the reference at a glance.
 */

/** `ALLOWED_RESOURCES_EXTENSIONS` default of `udata/settings.py` (docs/udata-protocol.md §9). */
export const UDATA_DEFAULT_EXTENSIONS: readonly string[] = [
  // archives
  'tar',
  'gz',
  'tgz',
  'rar',
  'zip',
  '7z',
  'xz',
  'bz2',
  // the rest of the default list
  'csv',
  'txt',
  'json',
  'pdf',
  'xml',
  'rtf',
  'xsd',
  'ods',
  'odt',
  'odp',
  'odg',
  'xls',
  'xlsx',
  'doc',
  'docx',
  'pps',
  'ppt',
  'jpeg',
  'jpg',
  'jpe',
  'gif',
  'png',
  'dwg',
  'svg',
  'tiff',
  'ecw',
  'svgz',
  'jp2',
  'webp',
  'shp',
  'kml',
  'kmz',
  'gpx',
  'shx',
  'ovr',
  'geojson',
  'gpkg',
  'grib2',
  'rdf',
  'ttl',
  'n3',
  'dbf',
  'prj',
  'sql',
  'sqlite',
  'db',
  'epub',
  'sbn',
  'sbx',
  'cpg',
  'lyr',
  'owl',
  'dxf',
  'ics',
  'ssim',
  'other',
]

/** The emulator's default: udata's list plus `parquet`, which production evidently accepts (§9). */
export const DEFAULT_EXTENSIONS: readonly string[] = [...UDATA_DEFAULT_EXTENSIONS, 'parquet']

export const RESOURCE_TYPES = [
  { id: 'main', label: 'Main file' },
  { id: 'documentation', label: 'Documentation' },
  { id: 'update', label: 'Update' },
  { id: 'api', label: 'API' },
  { id: 'code', label: 'Code repository' },
  { id: 'other', label: 'Other' },
] as const

export type ResourceType = (typeof RESOURCE_TYPES)[number]['id']

export const RESOURCE_TYPE_IDS: ReadonlySet<string> = new Set(RESOURCE_TYPES.map((t) => t.id))

export const FILETYPES: ReadonlySet<string> = new Set(['file', 'remote'])

export const CHECKSUM_TYPES: ReadonlySet<string> = new Set(['sha1', 'sha2', 'sha256', 'md5', 'crc'])

/** udata before v17 (`UPDATE_FREQUENCIES` of `core/dataset/models.py`, v7): the `legacy` list. */
export const LEGACY_FREQUENCIES: ReadonlyArray<{ id: string; label: string }> = [
  { id: 'unknown', label: 'Unknown' },
  { id: 'punctual', label: 'Punctual' },
  { id: 'continuous', label: 'Real time' },
  { id: 'hourly', label: 'Hourly' },
  { id: 'fourTimesADay', label: 'Four times a day' },
  { id: 'threeTimesADay', label: 'Three times a day' },
  { id: 'semidaily', label: 'Semidaily' },
  { id: 'daily', label: 'Daily' },
  { id: 'fourTimesAWeek', label: 'Four times a week' },
  { id: 'threeTimesAWeek', label: 'Three times a week' },
  { id: 'semiweekly', label: 'Semiweekly' },
  { id: 'weekly', label: 'Weekly' },
  { id: 'biweekly', label: 'Biweekly' },
  { id: 'threeTimesAMonth', label: 'Three times a month' },
  { id: 'semimonthly', label: 'Semimonthly' },
  { id: 'monthly', label: 'Monthly' },
  { id: 'bimonthly', label: 'Bimonthly' },
  { id: 'quarterly', label: 'Quarterly' },
  { id: 'threeTimesAYear', label: 'Three times a year' },
  { id: 'semiannual', label: 'Biannual' },
  { id: 'annual', label: 'Annual' },
  { id: 'biennial', label: 'Biennial' },
  { id: 'triennial', label: 'Triennial' },
  { id: 'quinquennial', label: 'Quinquennial' },
  { id: 'irregular', label: 'Irregular' },
]

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * udata v17's `UpdateFrequency` (`udata/core/dataset/constants.py`), in its order: id, label, and the
 * expected delay between two updates (`delta`, null when none is expected), which the dataset's
 * `quality.update_fulfilled_in_time` reads.
 */
export const FREQUENCIES: ReadonlyArray<{ id: string; label: string; deltaMs: number | null }> = [
  { id: 'continuous', label: 'Real time', deltaMs: null },
  { id: 'oneMinute', label: 'Every minute', deltaMs: MINUTE },
  { id: 'fiveMinutes', label: 'Every five minutes', deltaMs: 5 * MINUTE },
  { id: 'tenMinutes', label: 'Every ten minutes', deltaMs: 10 * MINUTE },
  { id: 'fifteenMinutes', label: 'Every fifteen minutes', deltaMs: 15 * MINUTE },
  { id: 'thirtyMinutes', label: 'Every thirty minute', deltaMs: 30 * MINUTE },
  { id: 'hourly', label: 'Every hour', deltaMs: HOUR },
  { id: 'bihourly', label: 'Every two hours', deltaMs: 2 * HOUR },
  { id: 'trihourly', label: 'Every three hours', deltaMs: 3 * HOUR },
  { id: 'twelveHours', label: 'Every twelve hours', deltaMs: 12 * HOUR },
  { id: 'severalTimesADay', label: 'Several times a day', deltaMs: DAY },
  { id: 'threeTimesADay', label: 'Three times a day', deltaMs: DAY },
  { id: 'semidaily', label: 'Twice a day', deltaMs: DAY },
  { id: 'daily', label: 'Daily', deltaMs: DAY },
  { id: 'fiveTimesAWeek', label: 'Five times a week', deltaMs: 7 * DAY },
  { id: 'threeTimesAWeek', label: 'Three times a week', deltaMs: 7 * DAY },
  { id: 'semiweekly', label: 'Twice a week', deltaMs: 7 * DAY },
  { id: 'weekly', label: 'Weekly', deltaMs: 7 * DAY },
  { id: 'biweekly', label: 'Every two weeks', deltaMs: 14 * DAY },
  { id: 'threeTimesAMonth', label: 'Three times a month', deltaMs: 31 * DAY },
  { id: 'semimonthly', label: 'Twice a month', deltaMs: 31 * DAY },
  { id: 'monthly', label: 'Monthly', deltaMs: 31 * DAY },
  { id: 'bimonthly', label: 'Every two months', deltaMs: 62 * DAY },
  { id: 'quarterly', label: 'Quarterly', deltaMs: 93 * DAY },
  { id: 'threeTimesAYear', label: 'Three times a year', deltaMs: 365 * DAY },
  { id: 'semiannual', label: 'Twice a year', deltaMs: 365 * DAY },
  { id: 'annual', label: 'Annually', deltaMs: 365 * DAY },
  { id: 'biennial', label: 'Every two years', deltaMs: 2 * 365 * DAY },
  { id: 'triennial', label: 'Every three years', deltaMs: 3 * 365 * DAY },
  { id: 'quadrennial', label: 'Every four years', deltaMs: 4 * 365 * DAY },
  { id: 'quinquennial', label: 'Every five years', deltaMs: 5 * 365 * DAY },
  { id: 'decennial', label: 'Every ten years', deltaMs: 10 * 365 * DAY },
  { id: 'bidecennial', label: 'Every twenty years', deltaMs: 20 * 365 * DAY },
  { id: 'tridecennial', label: 'Every thirty years', deltaMs: 30 * 365 * DAY },
  { id: 'punctual', label: 'Punctual', deltaMs: null },
  { id: 'irregular', label: 'Irregular', deltaMs: null },
  { id: 'never', label: 'Never', deltaMs: null },
  { id: 'notPlanned', label: 'Not planned', deltaMs: null },
  { id: 'other', label: 'Other', deltaMs: null },
  { id: 'unknown', label: 'Unknown', deltaMs: null },
]

/** `UpdateFrequency._missing_`: former ids v17 still accepts, stored as their successor. */
export const FREQUENCY_ALIASES: Readonly<Record<string, string>> = {
  realtime: 'continuous',
  fourTimesADay: 'severalTimesADay',
  fourTimesAWeek: 'other',
  fortnighly: 'biweekly',
  biannual: 'semiannual',
}

/** v7 (`LEGACY_FREQUENCIES`, applied on save): the same idea, fewer entries. */
export const LEGACY_FREQUENCY_ALIASES: Readonly<Record<string, string>> = {
  fortnighly: 'biweekly',
  biannual: 'semiannual',
  realtime: 'continuous',
}

/** `AccessType` (`udata/core/access_type/constants.py`): anything but `open` drops the license. */
export const ACCESS_TYPES: readonly string[] = ['open', 'open_with_account', 'restricted']

/** `AccessAudienceType` and `AccessAudienceCondition`. */
export const AUDIENCE_ROLES: readonly string[] = [
  'local_authority_and_administration',
  'company_and_association',
  'private',
]
export const AUDIENCE_CONDITIONS: readonly string[] = ['yes', 'no', 'under_condition']

/** `InspireLimitationCategory` ids, in their order. */
export const ACCESS_REASON_CATEGORIES: readonly string[] = [
  'confidentiality_of_proceedings_of_public_authorities',
  'international_relations_public_security_or_national_defence',
  'course_of_justice_or_fair_trial',
  'confidentiality_of_commercial_or_industrial_information',
  'intellectual_property_rights',
  'confidentiality_of_personal_data',
  'protection_of_voluntary_information_suppliers',
  'protection_of_environment',
]

/** `CLOSED_FORMATS`: a resource in one of these (or without format) is no open format for `quality`. */
export const CLOSED_FORMATS: ReadonlySet<string> = new Set([
  'pdf',
  'doc',
  'docx',
  'word',
  'xls',
  'excel',
  'xlsx',
])

/** `QUALITY_DESCRIPTION_LENGTH` of `udata/settings.py`. */
export const QUALITY_DESCRIPTION_LENGTH = 100

export const LICENSES: ReadonlyArray<{ id: string; title: string; url: string | null }> = [
  { id: 'notspecified', title: 'License Not Specified', url: null },
  {
    id: 'lov2',
    title: 'Licence Ouverte / Open Licence version 2.0',
    url: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence',
  },
  {
    id: 'odc-odbl',
    title: 'Open Data Commons Open Database License (ODbL)',
    url: 'https://opendatacommons.org/licenses/odbl/summary/',
  },
  {
    id: 'odc-pddl',
    title: 'Open Data Commons Public Domain Dedication and Licence (PDDL)',
    url: 'https://opendatacommons.org/licenses/pddl/summary/',
  },
  {
    id: 'odc-by',
    title: 'Open Data Commons Attribution License',
    url: 'https://opendatacommons.org/licenses/by/summary/',
  },
  {
    id: 'cc-by',
    title: 'Creative Commons Attribution',
    url: 'https://opendefinition.org/licenses/cc-by/',
  },
  {
    id: 'cc-by-sa',
    title: 'Creative Commons Attribution Share-Alike',
    url: 'https://opendefinition.org/licenses/cc-by-sa/',
  },
  {
    id: 'fr-lo',
    title: 'Licence Ouverte / Open Licence',
    url: 'https://www.etalab.gouv.fr/wp-content/uploads/2014/05/Licence_Ouverte.pdf',
  },
  { id: 'other-at', title: 'Other (Attribution)', url: null },
  { id: 'other-open', title: 'Other (Open)', url: null },
  { id: 'other-pd', title: 'Other (Public Domain)', url: null },
  { id: 'other-by', title: 'Other (By)', url: null },
  {
    id: 'cc-zero',
    title: 'Creative Commons CCZero',
    url: 'https://opendefinition.org/licenses/cc-zero/',
  },
]

export const FREQUENCY_IDS: ReadonlySet<string> = new Set(FREQUENCIES.map((f) => f.id))
export const LEGACY_FREQUENCY_IDS: ReadonlySet<string> = new Set(
  LEGACY_FREQUENCIES.map((f) => f.id),
)
export const LICENSE_IDS: ReadonlySet<string> = new Set(LICENSES.map((l) => l.id))

/** Form limits of `udata/core/dataset/constants.py` / `forms.py` (docs/udata-protocol.md §6.1, §6.3). */
export const TITLE_SIZE_LIMIT = 350
export const DESCRIPTION_SIZE_LIMIT = 100_000
export const DESCRIPTION_SHORT_SIZE_LIMIT = 200

/** Werkzeug default descriptions, used where udata raises a bare HTTP exception. */
export const WERKZEUG = {
  badRequest: 'The browser (or proxy) sent a request that this server could not understand.',
  unauthorized:
    "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
  notFound:
    'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  methodNotAllowed: 'The method is not allowed for the requested URL.',
  tooLarge: 'The data value transmitted exceeds the capacity limit.',
  internal:
    'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.',
} as const

export const MESSAGES = {
  /** flask-restx `handle_error` for an unhandled exception: `HTTPStatus(500).phrase`. */
  internal: 'Internal Server Error',
  invalidToken: 'Invalid API token',
  invalidKeyLegacy: 'Invalid API Key',
  inactiveUser: 'Inactive user',
  forbidden: 'You do not have the permission to modify that object.',
  resourceMissing: 'Resource does not exist',
  resourceNotFound: 'Resource not found',
  datasetDeleted: 'Dataset has been deleted',
  filetypeChange: 'Cannot modify filetype after creation',
  remoteOnly: 'This endpoint only supports remote resources',
  required: 'This field is required.',
  notAChoice: 'Not a valid choice.',
  notAnInteger: 'Not a valid integer value.',
  notAString: 'Not a valid string value.',
  /** `udata/uris.py` `error`: the URL, then the reason when there is one. */
  invalidUrl: (url: string, reason?: string): string =>
    reason === undefined ? `Invalid URL "${url}"` : `Invalid URL "${url}": ${reason}`,
  htmlContent: 'Incorrect file content type: HTML',
  jsonContentType:
    "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
  tooLong: (max: number): string => `Field cannot be longer than ${max} characters.`,
  fileType: (origin: string): string =>
    `This file type is not allowed.The allowed file type list is available at ${origin}/api/1/datasets/extensions/`,
} as const

/**
 * Python `mimetypes.guess_type` for the extensions udata accepts (docs/udata-protocol.md §3.2 step 6): derived
 * from the name only, an encoding suffix (`.gz`, `.bz2`, `.xz`) is stripped first, so
 * `x.csv.gz` → `text/csv` and `x.tgz` → `application/x-tar`; unknown → `application/octet-stream`.
 */
const MIME_TYPES: Readonly<Record<string, string>> = {
  csv: 'text/csv',
  txt: 'text/plain',
  json: 'application/json',
  geojson: 'application/geo+json',
  pdf: 'application/pdf',
  xml: 'text/xml',
  xsd: 'application/xml',
  rtf: 'application/rtf',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odt: 'application/vnd.oasis.opendocument.text',
  odp: 'application/vnd.oasis.opendocument.presentation',
  odg: 'application/vnd.oasis.opendocument.graphics',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pps: 'application/vnd.ms-powerpoint',
  ppt: 'application/vnd.ms-powerpoint',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  jpe: 'image/jpeg',
  gif: 'image/gif',
  png: 'image/png',
  svg: 'image/svg+xml',
  svgz: 'image/svg+xml',
  tiff: 'image/tiff',
  webp: 'image/webp',
  jp2: 'image/jp2',
  dwg: 'image/vnd.dwg',
  dxf: 'image/vnd.dxf',
  kml: 'application/vnd.google-earth.kml+xml',
  kmz: 'application/vnd.google-earth.kmz',
  gpx: 'application/gpx+xml',
  rdf: 'application/rdf+xml',
  owl: 'application/rdf+xml',
  ttl: 'text/turtle',
  n3: 'text/n3',
  sql: 'application/sql',
  epub: 'application/epub+zip',
  ics: 'text/calendar',
  zip: 'application/zip',
  tar: 'application/x-tar',
  rar: 'application/vnd.rar',
  '7z': 'application/x-7z-compressed',
  html: 'text/html',
  htm: 'text/html',
}
const ENCODING_SUFFIXES: ReadonlySet<string> = new Set(['gz', 'bz2', 'xz', 'z', 'br'])
const SUFFIX_MAP: Readonly<Record<string, string>> = {
  tgz: 'tar',
  taz: 'tar',
  tz: 'tar',
  tbz2: 'tar',
  txz: 'tar',
}

export function mimeFor(name: string): string {
  const parts = name.toLowerCase().split('.').slice(1)
  let ext = parts.pop()
  if (ext !== undefined && SUFFIX_MAP[ext] !== undefined) ext = SUFFIX_MAP[ext]
  else if (ext !== undefined && ENCODING_SUFFIXES.has(ext)) ext = parts.pop()
  return (ext !== undefined ? MIME_TYPES[ext] : undefined) ?? 'application/octet-stream'
}
