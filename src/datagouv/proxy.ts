/**
 * The proxy variables of the caller's environment, honoured as curl and the runner honour them
 * (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, the lower-case name first): which proxy, if any, a URL goes
 * through (http.ts tunnels through it), and how messages name it.
 */

export type Env = Readonly<Record<string, string | undefined>>

/** The proxy a request goes through, as messages name it. */
export interface ProxyRoute {
  /** The proxy's URL without its credentials: `http://proxy.example:3128`. */
  url: string
  /** The proxy's host name, without port. */
  hostname: string
  /** The variable it comes from: `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY` or `http_proxy`. */
  variable: string
}

/** The first of the names that is set and not empty, lower case first. */
function variable(env: Env, name: string): { name: string; value: string } | undefined {
  for (const candidate of [name, name.toUpperCase()]) {
    const value = env[candidate]
    if (value !== undefined && value !== '') return { name: candidate, value }
  }
  return undefined
}

/** The variable whose proxy a request for `target` goes through; `undefined`: direct. */
function chosenFor(env: Env, target: URL): { name: string; value: string } | undefined {
  const chosen =
    (target.protocol === 'https:' ? variable(env, 'https_proxy') : undefined) ??
    variable(env, 'http_proxy')
  if (chosen === undefined || exempted(variable(env, 'no_proxy')?.value ?? '', target))
    return undefined
  return chosen
}

/** A proxy variable whose value is not a URL: no request can go through it. */
export class ProxySettingError extends Error {
  override readonly name = 'ProxySettingError'
  constructor(readonly variable: string) {
    // The value is not shown: it may hold credentials.
    super(`${variable} is not a URL: expected http://host:port`)
  }
}

/** The variable's URL; `proxy:3128`, as curl takes it, is http://proxy:3128. */
function parsed(chosen: { name: string; value: string }): URL {
  try {
    return new URL(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(chosen.value) ? chosen.value : `http://${chosen.value}`,
    )
  } catch {
    throw new ProxySettingError(chosen.name)
  }
}

/**
 * The proxy's URL, credentials included, that a request for `target` goes through (http.ts);
 * `undefined` when it goes direct. A value that is not a URL throws a `ProxySettingError`.
 */
export function proxyUrl(env: Env, target: URL): URL | undefined {
  const chosen = chosenFor(env, target)
  return chosen === undefined ? undefined : parsed(chosen)
}

/**
 * The proxy a request for `target` goes through, as messages name it (an https URL takes
 * HTTPS_PROXY, else HTTP_PROXY; NO_PROXY lists hosts, optionally with a port, that go direct, and
 * their subdomains; `*` means every host); `undefined` when it goes direct.
 */
export function proxyFor(env: Env, target: URL): ProxyRoute | undefined {
  const chosen = chosenFor(env, target)
  if (chosen === undefined) return undefined
  let proxy: URL
  try {
    proxy = parsed(chosen)
  } catch {
    return { url: '(unreadable URL)', hostname: '', variable: chosen.name }
  }
  return {
    url: `${proxy.protocol}//${proxy.host}`,
    hostname: proxy.hostname,
    variable: chosen.name,
  }
}

function exempted(noProxy: string, target: URL): boolean {
  if (noProxy.trim() === '*') return true
  const hostname = target.host.replace(/:\d*$/, '').toLowerCase()
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80)
  return noProxy
    .split(/[,\s]/)
    .filter((entry) => entry !== '')
    .some((entry) => {
      const parsed = /^(.+):(\d+)$/.exec(entry)
      const host = (parsed?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase()
      if (parsed !== null && Number(parsed[2]) !== port) return false
      return hostname === host || hostname.endsWith(`.${host}`)
    })
}
