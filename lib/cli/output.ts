// Where `embedrt encode` writes embeddings as they come: JSON lines (stdout or a file), a float32 .npy
// matrix, raw float32 rows with a JSON sidecar, or Parquet (parquet.ts). A file is written as <out>.partial, always up to a
// whole row once a chunk's write has returned, and gets its name only when the run is complete — so
// an interrupted run never leaves a file that looks whole, and --resume finds how far it got.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { EmbedrtError } from '../errors.js';
import { writeAll } from '../files.js';
import { npyHeader } from './npy.js';
import { parquetSink } from './parquet.js';
import type { EmbeddingSink, OutputRows } from './sink.js';

export type OutputFormat = 'jsonl' | 'npy' | 'raw' | 'parquet';

export interface SinkOptions {
  format: OutputFormat;
  /** The output file; undefined: stdout (JSON lines only). */
  file: string | undefined;
  dim: number;
  /** Write each row's input index and id (JSON lines: objects; binary formats: <out>.ids.jsonl). */
  withIds: boolean;
  /** Continue <out>.partial where it ends instead of starting over. */
  resume: boolean;
}

const jsonRow = (r: OutputRows, i: number, dim: number, withIds: boolean): string => {
  const v = Array.from(r.data.subarray(i * dim, (i + 1) * dim)).join(',');
  if (!withIds) return `[${v}]\n`;
  const id = r.ids[i];
  return `{"index":${r.indices[i]}${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"embedding":[${v}]}\n`;
};
const idRow = (r: OutputRows, i: number): string => {
  const id = r.ids[i];
  return `{"index":${r.indices[i]}${id === undefined ? '' : `,"id":${JSON.stringify(id)}`}}\n`;
};

const fileError = (file: string, doing: string, e: unknown) =>
  new EmbedrtError('E_BAD_INPUT', `--out ${file}: ${doing} failed (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });

/** Offsets just past each of the first `max` line breaks of a file (a partial last line excluded). */
async function lineEnds(file: FileHandle, max: number): Promise<{ count: number; end: number }> {
  const buf = Buffer.alloc(1 << 20);
  let pos = 0;
  let count = 0;
  let end = 0;
  for (;;) {
    const { bytesRead } = await file.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return { count, end };
    for (let i = buf.indexOf(0x0a); i !== -1 && i < bytesRead; i = buf.indexOf(0x0a, i + 1)) {
      if (count === max) return { count, end };
      count++;
      end = pos + i + 1;
    }
    pos += bytesRead;
  }
}

/** JSON lines to stdout: nothing to resume or rename. */
function stdoutSink(dim: number, withIds: boolean): EmbeddingSink {
  const sink: EmbeddingSink = {
    rows: 0,
    async write(r) {
      let text = '';
      for (let i = 0; i < r.rows; i++) text += jsonRow(r, i, dim, withIds);
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
      sink.rows += r.rows;
    },
    async finish() {},
    async stop() {
      return 'every row written to stdout is whole';
    },
  };
  return sink;
}

/**
 * Opens the output. A file is written as <out>.partial (and <out>.ids.jsonl.partial for ids beside a
 * binary format); with resume, an existing partial output is cut back to its last whole row (in every
 * file) and continued.
 */
export async function openSink(o: SinkOptions): Promise<EmbeddingSink> {
  if (o.file === undefined) return stdoutSink(o.dim, o.withIds);
  const out = o.file;
  if (o.format === 'parquet') return parquetSink(out, o.dim, o.withIds, (doing, e) => fileError(out, doing, e));
  const partial = `${out}.partial`;
  const idsFile = o.format !== 'jsonl' && o.withIds ? `${out}.ids.jsonl` : undefined;
  const idsPartial = idsFile && `${idsFile}.partial`;
  const rowBytes = o.dim * 4;
  const open = async (file: string, keep: boolean) => {
    try {
      return await fs.promises.open(file, keep ? 'r+' : 'w+');
    } catch (e) {
      throw fileError(out, `opening ${file}`, e);
    }
  };
  const keep = o.resume && fs.existsSync(partial) && (idsPartial === undefined || fs.existsSync(idsPartial));
  const main = await open(partial, keep);
  const ids = idsPartial === undefined ? undefined : await open(idsPartial, keep);
  const header = o.format === 'npy' ? npyHeader(0, o.dim) : Buffer.alloc(0);
  let rows = 0;
  let mainEnd = header.length;
  let idsEnd = 0;
  try {
    if (keep) {
      ({ rows, mainEnd } = await measure(main, o, header, out));
      if (ids !== undefined) {
        const l = await lineEnds(ids, rows);
        if (l.count < rows) {
          rows = l.count;
          mainEnd = header.length + rows * rowBytes;
        }
        idsEnd = l.end;
        await ids.truncate(idsEnd);
      }
      await main.truncate(mainEnd);
    } else {
      await writeAll(main, header, 0);
    }
  } catch (e) {
    await main.close();
    await ids?.close();
    throw e instanceof EmbedrtError ? e : fileError(out, 'reading the partial output', e);
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await main.close();
    await ids?.close();
  };
  const sink: EmbeddingSink = {
    rows,
    async write(r) {
      let bytes: Buffer;
      if (o.format === 'jsonl') {
        let text = '';
        for (let i = 0; i < r.rows; i++) text += jsonRow(r, i, o.dim, o.withIds);
        bytes = Buffer.from(text);
      } else {
        bytes = Buffer.from(r.data.buffer, r.data.byteOffset, r.rows * rowBytes);
      }
      try {
        // The sidecar first: a row counts once both files hold it.
        if (ids !== undefined) {
          let text = '';
          for (let i = 0; i < r.rows; i++) text += idRow(r, i);
          const b = Buffer.from(text);
          await writeAll(ids, b, idsEnd);
          idsEnd += b.length;
        }
        await writeAll(main, bytes, mainEnd);
      } catch (e) {
        throw fileError(out, 'writing', e);
      }
      mainEnd += bytes.length;
      sink.rows += r.rows;
    },
    async finish() {
      try {
        if (o.format === 'npy') await writeAll(main, npyHeader(sink.rows, o.dim), 0);
        await main.sync();
        await close();
        if (o.format === 'raw') fs.writeFileSync(`${out}.json`, `${JSON.stringify({ dtype: 'float32', rows: sink.rows, dim: o.dim, layout: 'row-major, little-endian' })}\n`);
        if (idsFile !== undefined) fs.renameSync(idsPartial!, idsFile);
        fs.renameSync(partial, out);
      } catch (e) {
        throw fileError(out, 'completing the output', e);
      }
    },
    async stop() {
      await close();
      if (sink.rows === 0) {
        fs.rmSync(partial, { force: true });
        if (idsPartial !== undefined) fs.rmSync(idsPartial, { force: true });
        return 'nothing was written';
      }
      return `${partial} holds the first ${sink.rows} row${sink.rows === 1 ? "" : "s"}, each whole; run the same command with --resume to continue`;
    },
  };
  return sink;
}

/** The whole rows of a partial output, checked against this run's format and dimension. */
async function measure(main: FileHandle, o: SinkOptions, header: Buffer, out: string): Promise<{ rows: number; mainEnd: number }> {
  const size = (await main.stat()).size;
  const rowBytes = o.dim * 4;
  if (o.format === 'jsonl') {
    const l = await lineEnds(main, Number.MAX_SAFE_INTEGER);
    if (l.count > 0) {
      const first = Buffer.alloc(Math.min(l.end, 1 << 24));
      await main.read(first, 0, first.length, 0);
      const line = first.toString('utf8', 0, first.indexOf(0x0a));
      let width = -1;
      try {
        const v = JSON.parse(line) as unknown;
        width = Array.isArray(v) ? v.length : Array.isArray((v as { embedding?: unknown }).embedding) ? (v as { embedding: unknown[] }).embedding.length : -1;
        if (Array.isArray(v) === o.withIds) width = -2;
      } catch {
        width = -1;
      }
      if (width === -2) throw new EmbedrtError('E_BAD_INPUT', `--resume: ${out}.partial was written ${o.withIds ? 'without' : 'with'} ids; run with the same flags as before`);
      if (width !== o.dim) throw new EmbedrtError('E_BAD_INPUT', `--resume: ${out}.partial does not hold ${o.dim}-dimensional JSON rows (was it written with another --dim or model?)`);
    }
    return { rows: l.count, mainEnd: l.end };
  }
  if (o.format === 'npy') {
    const head = Buffer.alloc(header.length);
    await main.read(head, 0, head.length, 0);
    const dim = /'shape': \(\d+, (\d+)\)/.exec(head.toString('latin1'))?.[1];
    if (head.subarray(0, 6).toString('latin1') !== '\x93NUMPY' || Number(dim) !== o.dim) {
      throw new EmbedrtError('E_BAD_INPUT', `--resume: ${out}.partial is not a ${o.dim}-column .npy this command wrote (was it written with another --dim or model?)`);
    }
  }
  const rows = Math.floor(Math.max(0, size - header.length) / rowBytes);
  return { rows, mainEnd: header.length + rows * rowBytes };
}
