/** The `api-url` a run is given: which instance, and whether the key may travel to it. */

/**
 * Accepts `https://host`, `https://host/`, `https://host/api/1` and `https://host/api/1/`; returns
 * the origin and the v1 root. Only http(s); plain http only to a loopback host (the key would
 * otherwise travel in clear).
 */
export function parseApiUrl(value: string): { origin: string; apiRoot: string } {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new Error(`not a URL: '${value}'`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`only https:// URLs are accepted, not ${url.protocol}`)
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error(
      `plain http:// is only accepted for a loopback host (localhost, 127.0.0.1, [::1]); use https:// ` +
        `for ${url.hostname}, the API key would travel in clear`,
    )
  }
  if (url.username !== '' || url.password !== '')
    throw new Error('credentials in the URL are not accepted; give the key in `api-key`')
  if (url.search !== '' || url.hash !== '')
    throw new Error('the URL must not have a query or a fragment')
  const path = url.pathname.replace(/\/+$/, '')
  if (path !== '' && path !== '/api/1')
    throw new Error(
      `the URL must be the instance origin (e.g. https://www.data.gouv.fr), optionally followed ` +
        `by /api/1, not ${url.pathname}`,
    )
  return { origin: url.origin, apiRoot: `${url.origin}/api/1` }
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  )
}
