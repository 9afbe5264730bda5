// embedrt's on-disk caches of ONNX graphs: graphs built from model.safetensors (keyed by the
// checkpoint's content) and ONNX Runtime's optimized graphs (keyed by the identity of every file the
// source graph may load). Each entry is a folder built under a temporary name, sealed with a
// manifest.json (each file's size and on-disk identity) and renamed into place, so an entry is
// either complete or absent. An entry that no longer matches its manifest (a file deleted, truncated,
// rewritten) is removed and rebuilt, never fatal; leftovers of crashed writers are swept.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbedrtError } from './errors.js';
import { mkdirp, hashFileInto } from './files.js';

/** Where embedrt caches graphs: options.cacheDir, else $EMBEDRT_CACHE, else ~/.cache/embedrt. */
export function cacheRoot(cacheDir?: string): string {
  return cacheDir ?? process.env.EMBEDRT_CACHE ?? path.join(os.homedir(), '.cache', 'embedrt');
}

/**
 * The identity of files as they are on disk now: real path, device, inode, size, mtime and ctime in
 * nanoseconds. Writing, truncating, replacing (rename over) or copying over a file — even with its
 * mtime preserved (cp -p, tar) — changes it: a new inode, or a new ctime, which nothing can set back.
 */
export function fileIdentity(files: readonly string[]): string {
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(`${fs.realpathSync(f)}|${inodeIdentity(f)}\n`);
  return h.digest('hex').slice(0, 32);
}

/**
 * fileIdentity without the path: what stays when the folder holding the file is renamed. `shared`: a
 * hard link to a file outside the entry (the checkpoint a graph points into), whose ctime changes
 * whenever another entry links it too — without it; the content key of the entry stands for its bytes.
 */
function inodeIdentity(file: string, shared = false): string {
  const st = fs.statSync(file, { bigint: true });
  return `${st.dev}|${st.ino}|${st.size}|${st.mtimeNs}${shared ? '' : `|${st.ctimeNs}`}`;
}

/** sha256 of a file's bytes (and `extra`). */
export function contentHash(file: string, extra: string): string {
  return hashFileInto(crypto.createHash('sha256'), file).update(extra).digest('hex').slice(0, 32);
}

const MANIFEST = 'manifest.json';

/** Whether `dir` is a sealed entry whose files are all still as they were sealed. */
export function entryIsValid(dir: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as { files?: Record<string, string>; shared?: string[] };
    const files = Object.entries(m.files ?? {});
    const shared = new Set(m.shared ?? []);
    return files.length > 0 && files.every(([name, id]) => inodeIdentity(path.join(dir, name), shared.has(name)) === id);
  } catch {
    return false;
  }
}

/**
 * A temporary folder beside `final` to build an entry in (`tag`: a name removeWorkspaces finds it by);
 * throws E_CACHE when the cache cannot be written.
 */
export function entryWorkspace(final: string, tag = 'w'): string {
  const parent = path.dirname(final);
  try {
    mkdirp(parent);
    return fs.mkdtempSync(`${final}.tmp-${process.pid}-${tag}-`);
  } catch (e) {
    throw cacheError(parent, e);
  }
}

/**
 * Seals the entry built in `tmp` (its manifest written last) and renames it to `final`. If another
 * process published a valid entry first, ours is dropped; a damaged one is replaced. `shared`: names
 * of hard links to files outside the entry (see inodeIdentity).
 */
export function publishEntry(tmp: string, final: string, shared: readonly string[] = []): void {
  try {
    const files: Record<string, string> = {};
    const linked = fs.readdirSync(tmp).filter((name) => shared.includes(name));
    for (const name of fs.readdirSync(tmp).sort()) files[name] = inodeIdentity(path.join(tmp, name), linked.includes(name));
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify({ files, ...(linked.length ? { shared: linked } : {}) }));
    if (fs.existsSync(final) && !entryIsValid(final)) removeEntry(final);
    try {
      fs.renameSync(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw cacheError(path.dirname(final), e);
  }
}

/** Removes the workspaces this process made in `parent` under `tag` (a build that was stopped). */
export function removeWorkspaces(parent: string, tag: string): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) if (name.includes(`.tmp-${process.pid}-${tag}-`)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
}

/** Removes an entry (renamed aside first, so a reader never sees it half-deleted). */
export function removeEntry(dir: string): void {
  const aside = `${dir}.tmp-${process.pid}-removed-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(dir, aside);
  } catch {
    return;
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

/** Writes a small file atomically (temporary name, then rename). */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    mkdirp(path.dirname(file));
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw cacheError(path.dirname(file), e);
  }
}

/**
 * Removes leftovers of writers that died (ENOSPC, a kill) from a cache folder: `<name>.tmp-<pid>-…`
 * whose process is gone, or older than a day whatever its pid says. A folder that cannot be read is
 * left alone.
 */
export function sweepLeftovers(parent: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /\.tmp-(\d+)-/.exec(name);
    if (!m) continue;
    const file = path.join(parent, name);
    let stale = !processAlive(Number(m[1]));
    if (!stale) {
      try {
        stale = Date.now() - fs.lstatSync(file).mtimeMs > 24 * 3600 * 1000;
      } catch {
        continue;
      }
    }
    if (stale) {
      try {
        fs.rmSync(file, { recursive: true, force: true });
      } catch {
        // another process swept it, or it cannot be removed: not our concern here
      }
    }
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An E_CACHE error for a failed write in `dir` (an EmbedrtError passes through as it is). */
export function cacheError(dir: string, e: unknown): EmbedrtError {
  if (e instanceof EmbedrtError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  return new EmbedrtError(
    'E_CACHE',
    `cannot write embedrt's graph cache in ${dir} (${code}); free space or permissions there, or point options.cacheDir / EMBEDRT_CACHE at a writable folder`,
    { cause: e },
  );
}
