// embedrt search's corpus cache: one file per (model, dimension, corpus content).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mkdirp } from '../files.js';

// Cached corpus embeddings: the float32 values, then the sha256 of those bytes (32 bytes).
export function readCachedEmbeddings(file: string, values: number): Float32Array | undefined {
  let b: Buffer;
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    b = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (b.length !== values * 4 + 32) return undefined;
  const body = b.subarray(0, values * 4);
  if (!crypto.createHash('sha256').update(body).digest().equals(b.subarray(values * 4))) return undefined;
  const docs = new Float32Array(values);
  new Uint8Array(docs.buffer).set(body);
  return docs;
}

export function writeCachedEmbeddings(file: string, docs: Float32Array): void {
  const body = new Uint8Array(docs.buffer, docs.byteOffset, docs.byteLength);
  mkdirp(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([body, crypto.createHash('sha256').update(body).digest()]));
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
