// Small file helpers shared by the caches and the hub client.
import type { Hash } from 'node:crypto';
import fs from 'node:fs';

/**
 * Writes all of `data` at the file's current position, or throws (ENOSPC, EIO, …): fs.writeSync may
 * write fewer bytes than asked (a disk filling up) without an error; only the next call says why.
 */
export function writeAllSync(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
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
