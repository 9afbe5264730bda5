// downloadModel: which files a model needs, and each one fetched into blobs/<id>.incomplete, checked
// (size, then sha256 or the git blob sha1) and renamed into place, so a crash never leaves a corrupt
// blob; a later run resumes a partial file with an HTTP Range request.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError } from '../errors.js';
import { mkdirp, hashOpenFileInto, writeAll } from '../files.js';
import { HUB_OPTION_KEYS, type DownloadResult, type HubOptions, type Sibling } from './options.js';
import { optionsOf } from '../validate.js';
import { SHA1, SHA256, TOKENIZER_AND_CONFIG, cachedSnapshot, checkRepoId, checkRevision, hubCacheDir, inflight, listFiles, repoFolder, safeRepoPath, truthy, withBlobLock } from './cache.js';
import { Client, CutOff } from './http.js';

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

/**
 * Downloads (or finds in the cache) what embedrt needs of a hub model and returns its snapshot folder.
 *
 * @example
 * const { dir } = await downloadModel('BAAI/bge-base-en-v1.5');
 * const model = await SentenceTransformer.load(dir);
 */
export async function downloadModel(repoId: string, options?: HubOptions): Promise<DownloadResult> {
  const opts = optionsOf(options, 'downloadModel', HUB_OPTION_KEYS);
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
  mkdirp(blobs);
  mkdirp(snapshot);

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
    mkdirp(path.dirname(ref));
    const tmp = `${ref}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, commit);
    fs.renameSync(tmp, ref);
  }
  return { dir: snapshot, commit, files: listFiles(snapshot), downloadedBytes: state.downloaded };
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
  mkdirp(path.dirname(target));
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
