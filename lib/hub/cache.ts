// The hub cache layout Python tools share (huggingface_hub):
//   <cache>/models--org--name/blobs/<sha256 of LFS files | git blob sha1 of the others>
//   <cache>/models--org--name/snapshots/<commit>/<file>  -> relative symlink to ../../blobs/<id>
//   <cache>/models--org--name/refs/<revision>            the commit a branch or tag points to
// Names, paths, what a snapshot holds, and the lock that keeps two processes off one blob.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbedrtError } from '../errors.js';
import type { HubOptions } from './options.js';

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
export const SHA1 = /^[0-9a-f]{40}$/;
export const SHA256 = /^[0-9a-f]{64}$/;
export const TOKENIZER_AND_CONFIG = new Set([
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
]);

export const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());

export function hfHome(): string {
  return process.env.HF_HOME ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
}

/** The hub cache folder the options and environment select. */
export function hubCacheDir(opts: HubOptions = {}): string {
  return path.resolve(opts.cacheDir ?? process.env.HF_HUB_CACHE ?? path.join(hfHome(), 'hub'));
}

/** True for strings of the form "org/name" (a hub id rather than a path). */
export function isHubId(s: string): boolean {
  return REPO_ID.test(s) && !s.includes('..');
}

export function checkRepoId(repoId: string): void {
  if (typeof repoId !== 'string' || !isHubId(repoId)) {
    throw new EmbedrtError('E_BAD_INPUT', `${JSON.stringify(repoId)} is not a hub id of the form "org/name"`);
  }
}

export function checkRevision(revision: string): void {
  const parts = revision.split('/');
  if (revision === '' || revision.length > 255 || /[\\\0\s:?*~^[]/.test(revision) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new EmbedrtError('E_BAD_INPUT', `revision ${JSON.stringify(revision)} is not a valid branch, tag or commit name`);
  }
}

/**
 * A repo file name from the server, checked before anything is written under it: relative, no `..`,
 * `.` or empty segments, no backslashes or NULs, and inside the snapshot folder once resolved.
 */
export function safeRepoPath(snapshot: string, rfilename: unknown): string {
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

export function repoFolder(cache: string, repoId: string): string {
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

export function listFiles(dir: string): string[] {
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

/** Blob downloads in flight in this process, by blob path. */
export const inflight = new Map<string, Promise<void>>();

/** A lock on one blob among processes: O_EXCL lock file holding the pid; a dead holder's lock is taken over. */
export async function withBlobLock<T>(lockFile: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
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
