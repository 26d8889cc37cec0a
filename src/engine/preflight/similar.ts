/**
 * "Did you mean" for a dataset that is not found: the slugs nearest the one given among the
 * datasets the key's owner can see, its own (`GET /me/datasets/`, private and deleted ones
 * included) and its organisations' (`GET /organizations/{id}/datasets/`, private ones for
 * members; the first page of each of the first few). Best effort: each request is sent once, and
 * any failure only means no suggestion.
 */
import { z } from 'zod'
import type { DatagouvClient } from '../../datagouv/client.js'
import { MeSchema } from '../../datagouv/schemas.js'
import { nearest } from '../../util/suggest.js'

/** What is read of a dataset to suggest it. */
const Listed = z.looseObject({ slug: z.string(), deleted: z.unknown().optional() })
const Mine = z.array(Listed)
const Page = z.looseObject({ data: z.array(Listed) })

/** Organisations looked into, and datasets read from each (one page). */
const ORGANIZATIONS = 5
const PAGE_SIZE = 100

/** Up to three slugs near `slug` that the key's owner can publish into; `[]` when none or unknown. */
export async function similarSlugs(client: DatagouvClient, slug: string): Promise<string[]> {
  try {
    const me = await once(client, '/me/', MeSchema)
    const organizations = (me.organizations ?? []).slice(0, ORGANIZATIONS)
    const lists = await Promise.all([
      once(client, '/me/datasets/', Mine),
      ...organizations.map(async (org) => {
        const path = `/organizations/${encodeURIComponent(org.id)}/datasets/?page_size=${PAGE_SIZE}`
        return (await once(client, path, Page)).data
      }),
    ])
    const slugs = lists.flat().flatMap((d) => (d.deleted == null ? [d.slug] : []))
    return nearest(slug, slugs, 3)
  } catch {
    return []
  }
}

/** One GET, not retried: a suggestion is not worth a wait. */
async function once<S extends z.ZodType>(
  client: DatagouvClient,
  path: string,
  schema: S,
): Promise<z.infer<S>> {
  const answer = await client.http.send('GET', path, { expect: [200] })
  return client.http.parse(answer, schema, 'GET', path)
}
