// The hub's HTTP side: endpoint and token, requests with a stall timeout, retries, errors explained.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError } from '../errors.js';
import type { HubOptions } from './options.js';
import { hfHome } from './cache.js';
import { fetchViaProxy, proxyFor, redactProxy } from './proxy.js';

const DEFAULT_ENDPOINT = 'https://huggingface.co';

function hubToken(opts: HubOptions): string | undefined {
  if (opts.token !== undefined) return opts.token || undefined;
  if (process.env.HF_TOKEN) return process.env.HF_TOKEN;
  const file = process.env.HF_TOKEN_PATH ?? path.join(hfHome(), 'token');
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly hubCode: string | null,
    readonly hubMessage: string | null,
  ) {
    super(`HTTP ${status} from ${url}`);
  }
}

export class Client {
  readonly endpoint: string;
  private readonly token: string | undefined;

  constructor(
    private readonly opts: HubOptions,
    private readonly repoId: string,
  ) {
    const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new EmbedrtError('E_BAD_INPUT', `hub endpoint ${JSON.stringify(endpoint)} is not a URL (HF_ENDPOINT or options.endpoint)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EmbedrtError('E_BAD_INPUT', `hub endpoint ${JSON.stringify(endpoint)} must be http(s)`);
    }
    this.endpoint = endpoint;
    this.token = hubToken(opts);
  }

  get attempts(): number {
    return Math.max(1, this.opts.attempts ?? 4);
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs ?? 30_000;
  }

  /**
   * One request, following up to 10 redirects by hand so the token goes only to the hub's own origin
   * (a CDN gets a signed URL, never the Authorization header). Returns a response with status < 300.
   * The timer aborts the request when no byte arrives for timeoutMs; `touch()` re-arms it.
   */
  async request(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ res: Response; touch: () => void; done: () => void }> {
    if (signal.aborted) throw new EmbedrtError('E_ABORTED', `${url}: aborted`);
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ctl.abort(new Stalled(this.timeoutMs)), this.timeoutMs);
    };
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const origin = new URL(this.endpoint).origin;
    try {
      for (let hop = 0; hop <= 10; hop++) {
        const h: Record<string, string> = { 'user-agent': 'embedrt', 'accept-encoding': 'identity', ...headers };
        if (this.token && new URL(url).origin === origin) h.authorization = `Bearer ${this.token}`;
        touch();
        const res = await fetchViaProxy(url, { headers: h, redirect: 'manual', signal: ctl.signal });
        if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
          await res.body?.cancel();
          url = new URL(res.headers.get('location')!, url).toString();
          continue;
        }
        if (res.status >= 300) {
          let msg: string | null = res.headers.get('x-error-message');
          try {
            const body = await res.text();
            if (!msg && body) msg = (JSON.parse(body) as { error?: string }).error ?? null;
          } catch {
            /* not JSON */
          }
          throw new HttpError(res.status, url, res.headers.get('x-error-code'), msg);
        }
        return { res, touch, done };
      }
      throw new EmbedrtError('E_HUB_DOWNLOAD', `${url}: more than 10 redirects`);
    } catch (e) {
      done();
      throw e;
    }
  }

  /** Maps a failure to the error a user sees, naming the repo, file and what to do. */
  explain(e: unknown, what: string): EmbedrtError {
    if (e instanceof EmbedrtError) return e;
    if (e instanceof HttpError) {
      const detail = e.hubMessage ? ` (${e.hubMessage})` : '';
      if (e.status === 401 || e.status === 403) {
        const fix = this.token
          ? 'the token in HF_TOKEN was refused: check it, and that it has access to the repo (gated repos need access granted on the hub)'
          : 'the repo is gated or private: set HF_TOKEN to a token with access';
        return new EmbedrtError('E_HUB_AUTH', `${what}: HTTP ${e.status}${detail}; ${fix}`);
      }
      if (e.status === 404) {
        const kind =
          e.hubCode === 'RevisionNotFound'
            ? `revision ${JSON.stringify(this.opts.revision ?? 'main')} not found in ${this.repoId}`
            : e.hubCode === 'EntryNotFound'
              ? 'file not found in the repo'
              : `repo ${this.repoId} not found (or private without a token)`;
        return new EmbedrtError('E_HUB_NOT_FOUND', `${what}: ${kind}${detail}`);
      }
      return new EmbedrtError('E_HUB_DOWNLOAD', `${what}: HTTP ${e.status} from ${e.url}${detail}`);
    }
    if (e instanceof Stalled || e instanceof CutOff) {
      return new EmbedrtError('E_HUB_DOWNLOAD', `${what}: ${e.message} (after ${this.attempts} attempts); run again to resume`);
    }
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err?.name === 'AbortError' && this.opts.signal?.aborted) return new EmbedrtError('E_ABORTED', `${what}: aborted`, { cause: e });
    const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
    const proxy = proxyFor(new URL(this.endpoint));
    const via = proxy === undefined ? '' : ` through the proxy ${redactProxy(proxy)} (HTTPS_PROXY / HTTP_PROXY; NO_PROXY to bypass it)`;
    return new EmbedrtError('E_HUB_DOWNLOAD', `${what}: cannot reach ${this.endpoint}${via} (${cause}); set HF_HUB_OFFLINE=1 to use only the cache`, { cause: e });
  }

  /** Whether a failure is worth another attempt. */
  static retryable(e: unknown): boolean {
    if (e instanceof HttpError) return e.status >= 500 || e.status === 429 || e.status === 408;
    if (e instanceof EmbedrtError) return e.code === 'E_HUB_DOWNLOAD';
    if (e instanceof CutOff || e instanceof Stalled) return true;
    return (e as Error)?.name !== 'AbortError' || (e as { cause?: unknown }).cause instanceof Stalled;
  }

  async withRetries<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const reason = e instanceof Error && (e as { cause?: unknown }).cause instanceof Stalled ? (e as { cause: Stalled }).cause : e;
        if (this.opts.signal?.aborted) throw new EmbedrtError('E_ABORTED', `${what}: aborted`);
        if (attempt >= this.attempts || !Client.retryable(reason)) throw this.explain(reason, what);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  async json(urlPath: string, what: string): Promise<unknown> {
    return this.withRetries(what, async () => {
      const { res, done } = await this.request(`${this.endpoint}${urlPath}`, { accept: 'application/json' }, this.opts.signal ?? new AbortController().signal);
      try {
        return (await res.json()) as unknown;
      } finally {
        done();
      }
    });
  }
}

class Stalled extends Error {
  constructor(ms: number) {
    super(`the server sent nothing for ${ms} ms`);
  }
}

export class CutOff extends Error {}
