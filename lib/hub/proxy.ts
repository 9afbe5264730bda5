// Corporate networks: the hub client goes through the proxy the environment names, as curl, pip and
// huggingface_hub (requests) do. HTTPS_PROXY for https URLs, HTTP_PROXY for http ones (either case;
// the lower-case name wins), unless NO_PROXY names the host: a comma- or space-separated list of
// host names (a name also covers its subdomains; a leading '.' or '*.' is allowed), optionally with
// ':port', or '*' for every host. IP ranges (CIDR) are not understood. The proxy is reached with
// CONNECT (undici's ProxyAgent); credentials in its URL are sent as Proxy-Authorization.
import { ProxyAgent, fetch as undiciFetch } from 'undici';

function envVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Whether NO_PROXY's list covers this URL. */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry); // host:port or [v6]:port (a bare v6 address has no port)
    if (m) {
      entry = m[1]!;
      entryPort = m[2];
    }
    entry = entry.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy URL a request to `target` goes through, or undefined for a direct connection. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const proxy = target.protocol === 'https:' ? envVar(env, 'https_proxy') : envVar(env, 'http_proxy');
  if (proxy === undefined || bypassesProxy(target, envVar(env, 'no_proxy'))) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/** A proxy URL fit for an error message: without its credentials. */
export function redactProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable proxy URL)';
  }
}

const agents = new Map<string, ProxyAgent>();

/** fetch, through the environment's proxy for this URL when there is one. */
export async function fetchViaProxy(url: string, init: RequestInit): Promise<Response> {
  const proxy = proxyFor(new URL(url));
  if (proxy === undefined) return fetch(url, init);
  let agent = agents.get(proxy);
  if (!agent) {
    agent = new ProxyAgent(proxy);
    agents.set(proxy, agent);
  }
  return (await undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
}
