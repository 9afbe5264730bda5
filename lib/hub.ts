// Hugging Face Hub downloads into the cache layout Python tools share (huggingface_hub):
//   <cache>/models--org--name/blobs/<sha256 of LFS files | git blob sha1 of the others>
//   <cache>/models--org--name/snapshots/<commit>/<file>  -> relative symlink to ../../blobs/<id>
//   <cache>/models--org--name/refs/<revision>            the commit a branch or tag pointed to
// Every file is written to blobs/<id>.incomplete, checked (size, then sha256 or the git blob sha1),
// and renamed into place, so a crash never leaves a corrupt blob; a later run resumes the .incomplete
// file with an HTTP Range request.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbedrtError } from './errors.js';
import { hashOpenFileInto, writeAll } from './files.js';

/** Options of downloadModel() and of SentenceTransformer.load() for hub ids. */
export interface HubOptions {
  /** Branch, tag or commit. Default 'main'. */
  revision?: string;
  /** Hub base URL. Default $HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Access token for gated and private repos. Default $HF_TOKEN, else the token file in $HF_HOME. */
  token?: string;
  /** The hub cache folder. Default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Never touch the network; use what is cached. Default: $HF_HUB_OFFLINE is 1/true/yes/on. */
  offline?: boolean;
  /** Download every file of the repo, not only those embedrt needs. Default false. */
  allFiles?: boolean;
  /** Files downloaded at the same time (default 4). */
  concurrency?: number;
  /** A response that sends nothing for this long is abandoned and resumed (default 30,000 ms). */
  timeoutMs?: number;
  /** Attempts per request on network errors, cut-off or stalled responses and 5xx/429 (default 4). */
  attempts?: number;
  /** Called as bytes arrive: bytes done and total of the files being fetched. */
  onProgress?: (done: number, total: number, file: string) => void;
  signal?: AbortSignal;
}

/** What downloadModel() did. */
export interface DownloadResult {
  /** The snapshot folder: a model folder SentenceTransformer.load() accepts. */
  dir: string;
  commit: string;
  /** The repo files in the snapshot (paths relative to dir). */
  files: string[];
  /** Bytes fetched over the network by this call (0 when everything was cached). */
  downloadedBytes: number;
}

interface Sibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256?: string; size?: number };
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const SHA1 = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const TOKENIZER_AND_CONFIG = new Set([
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
]);

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());

function hfHome(): string {
  return process.env.HF_HOME ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
}

/** The hub cache folder the options and environment select. */
export function hubCacheDir(opts: HubOptions = {}): string {
  return path.resolve(opts.cacheDir ?? process.env.HF_HUB_CACHE ?? path.join(hfHome(), 'hub'));
}

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

/** True for strings of the form "org/name" (a hub id rather than a path). */
export function isHubId(s: string): boolean {
  return REPO_ID.test(s) && !s.includes('..');
}

function checkRepoId(repoId: string): void {
  if (typeof repoId !== 'string' || !isHubId(repoId)) {
    throw new EmbedrtError('E_BAD_INPUT', `${JSON.stringify(repoId)} is not a hub id of the form "org/name"`);
  }
}

function checkRevision(revision: string): void {
  const parts = revision.split('/');
  if (revision === '' || revision.length > 255 || /[\\\0\s:?*~^[]/.test(revision) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new EmbedrtError('E_BAD_INPUT', `revision ${JSON.stringify(revision)} is not a valid branch, tag or commit name`);
  }
}

/**
 * A repo file name from the server, checked before anything is written under it: relative, no `..`,
 * `.` or empty segments, no backslashes or NULs, and inside the snapshot folder once resolved.
 */
function safeRepoPath(snapshot: string, rfilename: unknown): string {
  const bad = (why: string) =>
    new EmbedrtError('E_HUB_UNSAFE', `the hub listed a file named ${JSON.stringify(rfilename)}, which ${why}; refusing to write it`);
  if (typeof rfilename !== 'string' || rfilename === '') throw bad('is not a file name');
  if (/[\\\0]/.test(rfilename) || /^[A-Za-z]:/.test(rfilename)) throw bad('contains a backslash, a NUL or a drive letter');
  if (rfilename.startsWith('/')) throw bad('is absolute');
  if (rfilename.split('/').some((p) => p === '' || p === '.' || p === '..')) throw bad('would leave the cache folder or has empty segments');
  const full = path.resolve(snapshot, rfilename);
  if (!full.startsWith(snapshot + path.sep)) throw bad('would leave the cache folder');
  return full;
}

function repoFolder(cache: string, repoId: string): string {
  return path.join(cache, `models--${repoId.replace('/', '--')}`);
}

/** The cached snapshot of repoId at revision, or undefined. Never touches the network. */
export function cachedSnapshot(repoId: string, opts: HubOptions = {}): string | undefined {
  checkRepoId(repoId);
  const revision = opts.revision ?? 'main';
  checkRevision(revision);
  const repo = repoFolder(hubCacheDir(opts), repoId);
  let commit = revision;
  if (!SHA1.test(revision)) {
    try {
      commit = fs.readFileSync(path.join(repo, 'refs', revision), 'utf8').trim();
    } catch {
      return undefined;
    }
    if (!SHA1.test(commit)) return undefined;
  }
  const snapshot = path.join(repo, 'snapshots', commit);
  return fs.existsSync(snapshot) ? snapshot : undefined;
}

/** Whether a snapshot holds what loading needs: a config, a tokenizer and weights. */
export function snapshotLooksComplete(dir: string): boolean {
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  return has('config.json') && (has('tokenizer.json') || has('vocab.txt')) && (has('model.safetensors') || has('onnx/model.onnx'));
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

class Client {
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
        const res = await fetch(url, { headers: h, redirect: 'manual', signal: ctl.signal });
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
    return new EmbedrtError('E_HUB_DOWNLOAD', `${what}: cannot reach ${this.endpoint} (${cause}); set HF_HUB_OFFLINE=1 to use only the cache`, { cause: e });
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

class CutOff extends Error {}

/** The files of a repo embedrt needs to load it as a sentence-transformers model. */
function selectFiles(siblings: Sibling[], modules: { path?: string }[] | undefined, repoId: string): Sibling[] {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  const out: Sibling[] = siblings.filter((s) => TOKENIZER_AND_CONFIG.has(s.rfilename));
  for (const m of modules ?? []) {
    const dir = typeof m.path === 'string' ? m.path.replace(/\/+$/, '') : '';
    if (dir === '') continue;
    out.push(...siblings.filter((s) => s.rfilename.startsWith(`${dir}/`) && s.rfilename.endsWith('.json')));
  }
  if (byName.has('model.safetensors')) out.push(byName.get('model.safetensors')!);
  else if (byName.has('onnx/model.onnx')) {
    out.push(byName.get('onnx/model.onnx')!);
    for (const extra of ['onnx/model.onnx_data', 'onnx/model.onnx.data']) if (byName.has(extra)) out.push(byName.get(extra)!);
  } else if (byName.has('model.safetensors.index.json')) {
    throw new EmbedrtError('E_UNSUPPORTED', `${repoId}: sharded safetensors checkpoints (model.safetensors.index.json) are not supported yet`);
  } else if (byName.has('pytorch_model.bin')) {
    throw new EmbedrtError('E_UNSUPPORTED', `${repoId}: ships only pytorch_model.bin; embedrt reads model.safetensors or onnx/model.onnx`);
  } else {
    throw new EmbedrtError('E_MODEL_FILES', `${repoId}: the repo has neither model.safetensors nor onnx/model.onnx`);
  }
  return [...new Map(out.map((s) => [s.rfilename, s])).values()];
}

/** The blob name of a listed file, as huggingface_hub names it (the file's ETag). */
function blobName(s: Sibling): { id: string; kind: 'sha256' | 'git' } {
  const lfs = s.lfs?.sha256;
  if (typeof lfs === 'string' && SHA256.test(lfs)) return { id: lfs, kind: 'sha256' };
  if (lfs !== undefined) throw new EmbedrtError('E_HUB_UNSAFE', `the hub gave ${s.rfilename} an LFS hash ${JSON.stringify(lfs)} that is not a sha256`);
  if (typeof s.blobId === 'string' && SHA1.test(s.blobId)) return { id: s.blobId, kind: 'git' };
  throw new EmbedrtError('E_HUB_DOWNLOAD', `the hub listed ${s.rfilename} without a blob id; cannot check it`);
}

/** The hash the hub names a blob by: sha256 for an LFS file, the git blob sha1 of a regular one (sha1 of "blob <size>\\0" + bytes). */
function blobHash(kind: 'sha256' | 'git', size: number): crypto.Hash {
  return kind === 'sha256' ? crypto.createHash('sha256') : crypto.createHash('sha1').update(`blob ${size}\0`);
}

/** Blob downloads in flight in this process, by blob path. */
const inflight = new Map<string, Promise<void>>();

/** A lock on one blob among processes: O_EXCL lock file holding the pid; a dead holder's lock is taken over. */
async function withBlobLock<T>(lockFile: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lockFile, 'utf8').trim());
      let alive = Number.isInteger(pid) && pid > 0 && pid !== process.pid;
      if (alive) {
        try {
          process.kill(pid, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (signal?.aborted) throw new EmbedrtError('E_ABORTED', 'download aborted');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/**
 * Downloads (or finds in the cache) what embedrt needs of a hub model and returns its snapshot folder.
 *
 * @example
 * const { dir } = await downloadModel('BAAI/bge-base-en-v1.5');
 * const model = await SentenceTransformer.load(dir);
 */
export async function downloadModel(repoId: string, opts: HubOptions = {}): Promise<DownloadResult> {
  checkRepoId(repoId);
  const revision = opts.revision ?? 'main';
  checkRevision(revision);
  const cache = hubCacheDir(opts);
  const offline = opts.offline ?? truthy(process.env.HF_HUB_OFFLINE);
  if (offline) {
    const dir = cachedSnapshot(repoId, opts);
    if (dir === undefined) {
      throw new EmbedrtError(
        'E_HUB_OFFLINE',
        `${repoId}@${revision} is not in the hub cache (${repoFolder(cache, repoId)}) and offline mode is on (HF_HUB_OFFLINE); download it first or unset HF_HUB_OFFLINE`,
      );
    }
    return { dir, commit: path.basename(dir), files: listFiles(dir), downloadedBytes: 0 };
  }
  // One signal for the whole call: the caller's, and a failed file's, which stops the other files, so
  // nothing goes on downloading once the call has failed.
  const stop = new AbortController();
  const userSignal = opts.signal;
  const forward = () => stop.abort();
  if (userSignal?.aborted) stop.abort();
  userSignal?.addEventListener('abort', forward, { once: true });
  try {
    return await downloadSnapshot(repoId, revision, cache, { ...opts, signal: stop.signal }, stop);
  } finally {
    userSignal?.removeEventListener('abort', forward);
  }
}

async function downloadSnapshot(repoId: string, revision: string, cache: string, opts: HubOptions, stop: AbortController): Promise<DownloadResult> {
  const client = new Client(opts, repoId);
  const info = (await client.json(
    `/api/models/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`,
    `${repoId}@${revision}`,
  )) as { sha?: unknown; siblings?: unknown };
  if (typeof info?.sha !== 'string' || !SHA1.test(info.sha) || !Array.isArray(info.siblings)) {
    throw new EmbedrtError('E_HUB_DOWNLOAD', `${client.endpoint}: the repo listing of ${repoId} has no commit sha or file list; is HF_ENDPOINT a hub?`);
  }
  const commit = info.sha;
  const siblings = info.siblings as Sibling[];
  const repo = repoFolder(cache, repoId);
  const snapshot = path.join(repo, 'snapshots', commit);
  for (const s of siblings) safeRepoPath(snapshot, s?.rfilename); // refuse a hostile listing before writing anything
  const blobs = path.join(repo, 'blobs');
  fs.mkdirSync(blobs, { recursive: true });
  fs.mkdirSync(snapshot, { recursive: true });

  const state = { done: 0, total: 0, downloaded: 0 };
  const fetchOne = (s: Sibling) => fetchFile(client, repoId, commit, snapshot, blobs, s, state, opts);
  let wanted: Sibling[];
  if (opts.allFiles) wanted = siblings;
  else {
    const modulesEntry = siblings.find((s) => s.rfilename === 'modules.json');
    let modules: { path?: string }[] | undefined;
    if (modulesEntry) {
      await fetchOne(modulesEntry);
      try {
        const parsed = JSON.parse(fs.readFileSync(path.join(snapshot, 'modules.json'), 'utf8')) as unknown;
        if (Array.isArray(parsed)) modules = parsed as { path?: string }[];
      } catch {
        /* load() reports a malformed modules.json by name */
      }
    }
    wanted = selectFiles(siblings, modules, repoId);
  }
  for (const s of wanted) {
    const { id } = blobName(s);
    state.total += fs.existsSync(path.join(blobs, id)) ? 0 : (s.lfs?.size ?? s.size ?? 0);
  }
  const queue = [...wanted];
  let failed: { error: unknown } | undefined;
  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, queue.length)) }, async () => {
    for (let s = queue.shift(); s !== undefined && !failed; s = queue.shift()) {
      try {
        await fetchOne(s);
      } catch (e) {
        failed ??= { error: e };
        stop.abort();
      }
    }
  });
  await Promise.all(workers); // every worker has stopped: the first failure is the call's
  if (failed) throw failed.error;
  if (revision !== commit) {
    const ref = path.join(repo, 'refs', revision);
    fs.mkdirSync(path.dirname(ref), { recursive: true });
    const tmp = `${ref}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, commit);
    fs.renameSync(tmp, ref);
  }
  return { dir: snapshot, commit, files: listFiles(snapshot), downloadedBytes: state.downloaded };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

async function fetchFile(
  client: Client,
  repoId: string,
  commit: string,
  snapshot: string,
  blobs: string,
  s: Sibling,
  state: { done: number; total: number; downloaded: number },
  opts: HubOptions,
): Promise<void> {
  const target = safeRepoPath(snapshot, s.rfilename);
  const { id, kind } = blobName(s);
  const blob = path.join(blobs, id);
  const size = s.lfs?.size ?? s.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
    throw new EmbedrtError('E_HUB_DOWNLOAD', `the hub listed ${s.rfilename} without a size; cannot check it`);
  }
  const what = `${repoId}/${s.rfilename}`;
  if (!fs.existsSync(blob)) {
    // Two listed files with the same content share a blob: in this process, the second waits for the first.
    const pending = inflight.get(blob);
    if (pending) await pending;
  }
  if (!fs.existsSync(blob)) {
    const job = withBlobLock(`${blob}.lock`, opts.signal, async () => {
      if (fs.existsSync(blob)) return; // another process finished it meanwhile
      const partial = `${blob}.incomplete`;
      const url = `${client.endpoint}/${repoId}/resolve/${commit}/${s.rfilename.split('/').map(encodeURIComponent).join('/')}`;
      await client.withRetries(what, async () => {
        // A kept partial file may hold the bad bytes: a mismatch after a resume retries once from zero.
        let resumed = fs.existsSync(partial);
        for (;;) {
          const got = await downloadTo(client, url, partial, size, s.rfilename, blobHash(kind, size), state, opts);
          if (got === id) return;
          fs.rmSync(partial, { force: true });
          if (!resumed) {
            throw new EmbedrtError(
              'E_HUB_CHECKSUM',
              `${what}: the downloaded bytes have ${kind === 'sha256' ? 'sha256' : 'git blob sha1'} ${got}, the hub lists ${id}; nothing was kept`,
            );
          }
          resumed = false;
        }
      });
      fs.renameSync(partial, blob);
    });
    inflight.set(blob, job);
    try {
      await job;
    } finally {
      inflight.delete(blob);
    }
  }
  // The snapshot entry: a relative symlink to the blob, as huggingface_hub makes; a copy where links fail.
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const rel = path.relative(path.dirname(target), blob);
  let current: string | undefined;
  try {
    current = fs.readlinkSync(target);
  } catch {
    current = undefined;
  }
  if (current !== undefined && path.resolve(path.dirname(target), current) === blob) return;
  fs.rmSync(target, { force: true });
  try {
    fs.symlinkSync(rel, target);
  } catch {
    fs.copyFileSync(blob, target);
  }
}

/**
 * Fetches url into `partial`, resuming what is there with a Range request; checks the length. Returns
 * the hex digest of the whole file (`hash` is fed the kept bytes, then each chunk in order), so the
 * file is never read again; all file I/O runs off the JS thread.
 *
 * The response is read as fast as it comes, with the hashing and writing chained behind it: a response
 * that breaks drops the chunks still queued in it, so a read that waited on the disk would lose bytes
 * that a resume then fetches again. Up to 16 MiB may wait for the disk; past that the reading waits.
 */
async function downloadTo(
  client: Client,
  url: string,
  partial: string,
  size: number,
  name: string,
  hash: crypto.Hash,
  state: { done: number; total: number; downloaded: number },
  opts: HubOptions,
): Promise<string> {
  // Opened before the request, so that nothing waits on the file system once bytes arrive.
  const file = await fs.promises.open(partial, fs.constants.O_RDWR | fs.constants.O_CREAT);
  try {
    let have = (await file.stat()).size;
    if (have > size) have = 0; // rewritten from the start below
    if (have === size && size > 0) return (await hashOpenFileInto(hash, file, size)).digest('hex');
    const { res, touch, done } = await client.request(url, have > 0 ? { range: `bytes=${have}-` } : {}, opts.signal ?? new AbortController().signal);
    let failure: { error: unknown } | undefined;
    let writing: Promise<void> = Promise.resolve();
    const chain = (step: () => Promise<unknown>) => {
      writing = writing.then(() => (failure ? undefined : step())).then(
        () => undefined,
        (e: unknown) => void (failure ??= { error: e }),
      );
    };
    const settled = async () => {
      await writing;
      if (failure) throw failure.error;
    };
    try {
      let append = false;
      if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        append = m !== null && Number(m[1]) === have;
        if (!append) throw new CutOff(`${url}: the server resumed at the wrong offset (${res.headers.get('content-range')})`);
      }
      if (!append) have = 0;
      state.done += have;
      chain(() => (append ? hashOpenFileInto(hash, file, have) : file.truncate(0)));
      let got = have;
      let queued = 0;
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          touch();
          const at = got;
          queued += chunk.length;
          chain(async () => {
            hash.update(chunk);
            await writeAll(file, chunk, at);
            queued -= chunk.length;
          });
          got += chunk.length;
          state.done += chunk.length;
          state.downloaded += chunk.length;
          if (got > size) throw new EmbedrtError('E_HUB_DOWNLOAD', `${url}: the server sent more than the ${size} bytes the hub lists`);
          opts.onProgress?.(state.done, Math.max(state.total, state.done), name);
          if (failure || queued > 16 << 20) await settled();
        }
      }
      await settled();
      await file.sync();
      if (got < size) throw new CutOff(`${url}: the response ended after ${got} of ${size} bytes`);
      return hash.digest('hex');
    } finally {
      await writing; // never rejects: a failure not thrown yet gives way to the error already leaving
      done();
    }
  } finally {
    await file.close();
  }
}
