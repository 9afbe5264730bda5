// File writes that cannot end short: fs.writeSync may write fewer bytes than asked (a disk filling up)
// without an error; only the next call says why.
import fs from 'node:fs';

/** Writes all of `data` at the file's current position, or throws (ENOSPC, EIO, …). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
}
