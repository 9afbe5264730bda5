// An ONNX graph under construction: nodes with generated names, and initializers — inline, in an
// external data file beside the graph (64-byte aligned), or pointing into a checkpoint file beside it.
import fs from 'node:fs';
import path from 'node:path';
import { DataType, type Attribute, type Initializer, type Node } from './proto.js';
import { writeAllSync } from '../files.js';

/**
 * A checkpoint's tensor: its shape, its values as float32 (read when asked), and where its bytes lie in
 * the checkpoint file when they are float32 little-endian as they are (a graph may point there).
 */
export interface SourceTensor {
  shape: number[];
  data(): Float32Array;
  at?: { offset: number; length: number };
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private counter = 0;
  private dataChunks: Uint8Array[] = [];
  private dataSize = 0;

  constructor(
    private readonly dataFile: string,
    private readonly externalData: boolean,
    /** The checkpoint's file name beside the graph (a hard link), when initializers may point into it. */
    private readonly checkpoint: string | undefined,
  ) {}

  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  op(op: string, inputs: string[], attrs: Attribute[] = [], outputs = 1, domain?: string): string[] {
    const outs = Array.from({ length: outputs }, () => this.name(op));
    this.nodes.push({ op, inputs, outputs: outs, name: this.name(`${op}_node`), attrs, ...(domain ? { domain } : {}) });
    return outs;
  }

  op1(op: string, inputs: string[], attrs: Attribute[] = []): string {
    return this.op(op, inputs, attrs)[0]!;
  }

  /** A float32 weight stored in the external data file (64-byte aligned). */
  weight(name: string, dims: number[], data: Float32Array): string {
    return this.tensor(name, dims, DataType.FLOAT, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** A checkpoint tensor: pointing into the checkpoint where it can, else stored like any weight. */
  source(name: string, dims: number[], t: SourceTensor): string {
    if (this.checkpoint === undefined || t.at === undefined) return this.weight(name, dims, t.data());
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, external: { location: this.checkpoint, offset: t.at.offset, length: t.at.length } });
    return name;
  }

  /** A weight of any type, stored in the external data file (64-byte aligned) unless inline. */
  tensor(name: string, dims: number[], dataType: number, bytes: Uint8Array): string {
    if (!this.externalData) {
      this.initializers.push({ name, dims, dataType, raw: bytes });
      return name;
    }
    const pad = (64 - (this.dataSize % 64)) % 64;
    if (pad) {
      this.dataChunks.push(new Uint8Array(pad));
      this.dataSize += pad;
    }
    this.initializers.push({
      name,
      dims,
      dataType,
      external: { location: path.basename(this.dataFile), offset: this.dataSize, length: bytes.length },
    });
    this.dataChunks.push(bytes);
    this.dataSize += bytes.length;
    return name;
  }

  constFloat(values: number[], dims: number[] = [values.length]): string {
    const name = this.name('const_f');
    const raw = new Uint8Array(new Float32Array(values).buffer);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, raw });
    return name;
  }

  constInt64(values: number[], dims: number[] = [values.length]): string {
    const name = this.name('const_i');
    const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    this.initializers.push({ name, dims, dataType: DataType.INT64, raw });
    return name;
  }

  writeData(): void {
    if (!this.externalData || this.dataSize === 0) return;
    const fd = fs.openSync(this.dataFile, 'w');
    try {
      for (const c of this.dataChunks) writeAllSync(fd, c);
    } finally {
      fs.closeSync(fd);
    }
  }
}

