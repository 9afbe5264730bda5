// Small file helpers shared by the caches and the hub client.
import type { Hash } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * fs.mkdirSync(dir, { recursive: true }), but finite: Node's own loops forever where mkdir answers
 * ENOENT under a parent that exists (/proc, /sys: "cacheDir: '/proc/x'" hung load() in a spinning
 * worker). Each missing folder is made once, from the top; any error but EEXIST on a folder is thrown.
 */
export function mkdirp(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if (fs.statSync(d).isDirectory()) break;
      const e: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${dir}'`);
      e.code = 'ENOTDIR';
      throw e;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || d === path.dirname(d)) throw e;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(d).isDirectory()) throw e;
    }
  }
}

/**
 * Writes all of `data` at the file's current position, or throws (ENOSPC, EIO, …): fs.writeSync may
 * write fewer bytes than asked (a disk filling up) without an error; only the next call says why.
 */
export function writeAllSync(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
}

/** writeAllSync's asynchronous form, at file offset `at` (the writes run on libuv's threads). */
export async function writeAll(file: FileHandle, data: Uint8Array, at: number): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await file.write(data, done, data.length - done, at + done)).bytesWritten;
}

/**
 * Feeds the first `length` bytes of an open file into `hash`, 1 MiB per read, reading off the JS
 * thread (each update is about a millisecond of hashing on it).
 */
export async function hashOpenFileInto(hash: Hash, file: FileHandle, length: number): Promise<Hash> {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let at = 0; at < length; ) {
    const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, length - at), at);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
  return hash;
}

/** Feeds a file's bytes into `hash`, 16 MiB at a time; returns the hash. */
export function hashFileInto(hash: Hash, file: string): Hash {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(16 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash;
}
