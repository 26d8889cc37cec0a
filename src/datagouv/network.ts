/**
 * What a request that got no answer ran into, in words that name the host and the proxy, and
 * whether another try may cure it. A connection lost or refused, a timeout, a TLS failure may
 * pass; a name that does not resolve (the instance's, or the proxy's), a proxy that refuses
 * the tunnel and a proxy variable that is not a URL do not, and are not retried: the run fails in seconds instead of after every retry.
 * A local file that could not be read while the body was sent is the runner's, not the network's
 * (multipart.ts raises it as a `LocalFileError`), and is passed on as it is.
 */
import { describeCause, LocalFileError, NetworkError } from './errors.js'
import { ProxyRefusedError } from './http.js'
import { ProxySettingError, type ProxyRoute } from './proxy.js'

interface Cause {
  code?: unknown
  hostname?: unknown
  syscall?: unknown
  message?: unknown
  cause?: unknown
}

/** The error the request failed with and the errors it wraps, outermost first. */
function chain(error: unknown): Cause[] {
  const found: Cause[] = []
  for (let e = error; e !== null && typeof e === 'object' && found.length < 5;) {
    const cause: Cause = e
    found.push(cause)
    e = cause.cause
  }
  return found
}

/**
 * The error a request that got no answer ends with: a `LocalFileError` when the body could not be
 * read from disk, otherwise a `NetworkError` naming the host (and the proxy, when one was used),
 * transient or not.
 */
export function noAnswer(
  method: string,
  url: URL,
  error: unknown,
  proxy: ProxyRoute | undefined,
): Error {
  const causes = chain(error)
  const local = causes.find((c): c is LocalFileError => c instanceof LocalFileError)
  if (local !== undefined) return local
  const shown = `${url.origin}${url.pathname}${url.search}`
  const setting = causes.find((c): c is ProxySettingError => c instanceof ProxySettingError)
  // The runner's setting: the next try reads the same variable.
  if (setting !== undefined) return new NetworkError(method, shown, error, setting.message, false)
  const refused = causes.find((c): c is ProxyRefusedError => c instanceof ProxyRefusedError)
  if (refused !== undefined) {
    const status = refused.status
    const through = proxy !== undefined ? `the proxy ${proxy.url} (${proxy.variable})` : 'the proxy'
    const why =
      `${through} refused the tunnel to ${url.host}: it answered ${status} to CONNECT` +
      (status === 407 ? ' (it asks for credentials: put them in the proxy URL)' : '') +
      `; check the proxy's rules for ${url.hostname}, or list the host in NO_PROXY`
    // A proxy's own 5xx (its upstream unreachable) may pass; a refusal will not.
    return new NetworkError(method, shown, error, why, status >= 500)
  }
  const dns = causes.find(
    (c) => c.syscall === 'getaddrinfo' || c.code === 'ENOTFOUND' || c.code === 'EAI_AGAIN',
  )
  if (dns !== undefined) {
    const name = typeof dns.hostname === 'string' ? dns.hostname : url.hostname
    const code = typeof dns.code === 'string' ? dns.code : 'unresolved'
    const what =
      proxy !== undefined && name === proxy.hostname
        ? `the proxy's host ${name} (${proxy.url}, from ${proxy.variable}) does not resolve`
        : `the host ${name} does not resolve${proxy !== undefined ? ` (through ${proxy.url})` : ''}`
    return new NetworkError(
      method,
      shown,
      error,
      `${what} (${code}): check the address and the runner's DNS`,
      false,
    )
  }
  const via = proxy !== undefined ? ` (through the proxy ${proxy.url}, ${proxy.variable})` : ''
  return new NetworkError(method, shown, error, `${describeCause(error)}${via}`)
}
