// The safetensors format: an 8-byte little-endian header size, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data.
import fs from 'node:fs';
import { EmbedrtError } from './errors.js';
import { isCount, regularFileSize } from './validate.js';
import { writeAllSync } from './files.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'F64' | 'U8' | 'I8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, F64: 8, U8: 1, I8: 1, BOOL: 1 };

export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range in the file, absolute. */
  begin: number;
  end: number;
}

/** A safetensors file opened for reading: the header parsed, tensors read on demand. */
export class SafetensorsFile {
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.tensors = tensors;
    this.metadata = metadata;
  }

  static open(file: string): SafetensorsFile {
    regularFileSize(file); // a FIFO or a device would block or never end
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`, { cause: e });
    }
    const size = fs.fstatSync(fd).size;
    const fail = (why: string): never => {
      fs.closeSync(fd);
      throw new EmbedrtError('E_MODEL_FILES', `${file}: not a valid safetensors file: ${why}`);
    };
    if (size < 8) fail('shorter than its 8-byte header size');
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, 0);
    const n = Number(head.readBigUInt64LE(0));
    if (n <= 0 || n > 100 * 1024 * 1024 || 8 + n > size) fail(`header size ${n} does not fit the file (${size} bytes)`);
    const json = Buffer.alloc(n);
    fs.readSync(fd, json, 0, n, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      return fail('header is not JSON');
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('header is not a JSON object');
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (v !== null && (typeof v !== 'object' || Array.isArray(v) || Object.values(v as object).some((x) => typeof x !== 'string'))) {
          fail('__metadata__ must be an object of strings');
        }
        metadata = (v ?? {}) as Record<string, string>;
        continue;
      }
      const t = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      if (!t || typeof t.dtype !== 'string' || !(t.dtype in BYTES) || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets)) {
        fail(`tensor ${JSON.stringify(name)} has no valid dtype/shape/data_offsets`);
      }
      if (!t.shape!.every(isCount) || t.data_offsets!.length !== 2 || !t.data_offsets!.every(isCount)) {
        fail(`tensor ${JSON.stringify(name)}: shape and data_offsets must be non-negative integers`);
      }
      const [b, e] = t.data_offsets!;
      const count = t.shape!.reduce((a, d) => a * d, 1);
      if (e < b || e - b !== count * BYTES[t.dtype as SafetensorsDtype] || 8 + n + e > size) {
        fail(`tensor ${JSON.stringify(name)}: data_offsets [${b}, ${e}] do not match its shape or the file size`);
      }
      tensors.set(name, { dtype: t.dtype as SafetensorsDtype, shape: t.shape!, begin: 8 + n + b, end: 8 + n + e });
    }
    return new SafetensorsFile(file, fd, tensors, metadata);
  }

  /** Raw bytes of a tensor. */
  bytes(name: string): Buffer {
    const t = this.tensors.get(name);
    if (!t) throw new EmbedrtError('E_MODEL_FILES', `${this.file}: no tensor named ${JSON.stringify(name)}`);
    const buf = Buffer.alloc(t.end - t.begin);
    fs.readSync(this.fd, buf, 0, buf.length, t.begin);
    return buf;
  }

  /** A tensor as float32 (F32 as is; F16 and BF16 widened exactly). */
  float32(name: string): Float32Array {
    const t = this.tensors.get(name);
    const raw = this.bytes(name);
    switch (t!.dtype) {
      case 'F32':
        return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice();
      case 'F16':
        return f16ToF32(new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)));
      case 'BF16': {
        const src = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
        const out = new Uint32Array(src.length);
        for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
        return new Float32Array(out.buffer);
      }
      default:
        throw new EmbedrtError('E_UNSUPPORTED', `${this.file}: tensor ${JSON.stringify(name)} is ${t!.dtype}; expected F32, F16 or BF16`);
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Writes float32 tensors (in the given order) as a safetensors file. */
export function writeSafetensors(file: string, tensors: [string, number[], Float32Array][], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, shape, data] of tensors) {
    if (data.length !== shape.reduce((a, d) => a * d, 1)) throw new Error(`${name}: data length does not match shape`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = fs.openSync(file, 'w');
  try {
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeAllSync(fd, head);
    writeAllSync(fd, Buffer.from(json));
    for (const [, , data] of tensors) writeAllSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } finally {
    fs.closeSync(fd);
  }
}
