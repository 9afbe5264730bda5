// Downloads checked against a pinned SHA-256, and a reader for the zip archives they bring (the Go
// module proxy's zips, PyPI's wheels): what the build scripts fetch, with nothing but Node.
import crypto from 'node:crypto';
import zlib from 'node:zlib';

export async function download(url, sha256) {
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  } catch (e) {
    throw new Error(`GET ${url} failed: ${e.cause?.message ?? e.message}`);
  }
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const data = Buffer.from(await res.arrayBuffer());
  const got = crypto.createHash('sha256').update(data).digest('hex');
  if (got !== sha256) throw new Error(`${url} has SHA-256 ${got}, not the pinned ${sha256}`);
  return data;
}

// The files of a zip archive (stored or deflated entries) that `wanted` accepts: name → { data, mode }.
export function readZip(buf, wanted = () => true) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('zip central directory is damaged');
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/') || !wanted(name)) continue;
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressed);
    let data;
    if (method === 0) data = raw;
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else throw new Error(`zip entry ${name} uses compression method ${method}`);
    files.set(name, { data, mode: (external >>> 16) & 0o7777 });
  }
  return files;
}
