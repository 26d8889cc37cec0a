/**
 * The proxy variables of the caller's environment, honoured as curl and the runner honour them
 * (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, the lower-case name first): the agent that sends every
 * request through them, and which proxy, if any, a URL goes through, for messages.
 */
import { EnvHttpProxyAgent, type Dispatcher } from 'undici'

type Env = Readonly<Record<string, string | undefined>>

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

/**
 * An agent that honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY as curl does (the lower-case name
 * first), read from `env` once. Not undici's default, which reads the process's: only the entry
 * points read the process, and a run in a test keeps an environment of its own.
 */
export function proxyAgent(env: Env): Dispatcher {
  return new EnvHttpProxyAgent({
    keepAliveTimeout: 10_000,
    httpProxy: variable(env, 'http_proxy')?.value ?? '',
    httpsProxy: variable(env, 'https_proxy')?.value ?? '',
    noProxy: variable(env, 'no_proxy')?.value ?? '',
  })
}

/**
 * The proxy that `proxyAgent(env)` sends a request for `target` through, by the same rules as
 * undici's EnvHttpProxyAgent (an https URL takes HTTPS_PROXY, else HTTP_PROXY; NO_PROXY lists
 * hosts, optionally with a port, that go direct, and their subdomains; `*` means every host);
 * `undefined` when it goes direct.
 */
export function proxyFor(env: Env, target: URL): ProxyRoute | undefined {
  const chosen =
    (target.protocol === 'https:' ? variable(env, 'https_proxy') : undefined) ??
    variable(env, 'http_proxy')
  if (chosen === undefined || exempted(variable(env, 'no_proxy')?.value ?? '', target))
    return undefined
  let parsed: URL
  try {
    parsed = new URL(chosen.value)
  } catch {
    return { url: '(unreadable URL)', hostname: '', variable: chosen.name }
  }
  return {
    url: `${parsed.protocol}//${parsed.host}`,
    hostname: parsed.hostname,
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
