// `embedrt encode --format parquet`: embeddings as an Apache Parquet file, through hyparquet-writer
// (a small, pure-JS writer). One row group per chunk, written as it comes; the embedding column is a
// list<float> (what pyarrow, pandas, DuckDB, Polars and Hugging Face datasets read as vectors), beside
// `index` (int64, the input position) and `id` (text) when ids or --shard are given. A Parquet file is
// only readable once its footer is written: the file is <out>.partial until finish(), and stop()
// (Ctrl-C) writes the footer so the partial holds whole rows a reader opens. A crash leaves a
// footerless .partial — never a file that looks complete.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { writeAll } from '../files.js';
import type { EmbeddingSink, OutputRows } from './sink.js';

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

function schemaOf(withIds: boolean): SchemaElement[] {
  const embedding: SchemaElement[] = [
    { name: 'embedding', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
  ];
  if (!withIds) return [{ name: 'schema', num_children: 1 }, ...embedding];
  return [
    { name: 'schema', num_children: 3 },
    { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ...embedding,
  ];
}

/**
 * Opens `<out>.partial` for Parquet rows of `dim` floats. `fileError(doing, e)` makes the coded error
 * for a failed file operation (output.ts's, naming --out).
 */
export async function parquetSink(out: string, dim: number, withIds: boolean, fileError: (doing: string, e: unknown) => Error): Promise<EmbeddingSink> {
  const partial = `${out}.partial`;
  let file: FileHandle;
  try {
    file = await fs.promises.open(partial, 'w');
  } catch (e) {
    throw fileError(`opening ${partial}`, e);
  }
  // The writer encodes into memory; each row group's bytes go to the file before the next is encoded.
  const bytes = new ByteWriter(1 << 20);
  let at = 0;
  const flush = async () => {
    const chunk = bytes.getBytes().slice();
    bytes.index = 0;
    await writeAll(file, chunk, at);
    at += chunk.length;
  };
  (bytes as ByteWriter & { flush: () => Promise<void> }).flush = flush; // ParquetWriter awaits it after each row group
  const parquet = new ParquetWriter({
    writer: bytes,
    schema: schemaOf(withIds),
    codec: 'UNCOMPRESSED', // float embeddings do not compress; snappy would cost time for nothing
    statistics: false, // min/max of vector components help no query
    kvMetadata: [{ key: 'embedrt', value: JSON.stringify({ dim }) }],
    createdBy: 'embedrt',
  });
  let closed = false;
  const seal = async () => {
    closed = true;
    await parquet.finish();
    await flush();
    await file.sync();
    await file.close();
  };
  const sink: EmbeddingSink = {
    rows: 0,
    async write(r: OutputRows) {
      if (r.rows === 0) return;
      const vectors = Array.from({ length: r.rows }, (_, i) => Array.from(r.data.subarray(i * dim, (i + 1) * dim)));
      const columnData = withIds
        ? [
            { name: 'index', data: r.indices.slice(0, r.rows).map((i) => BigInt(i)) },
            { name: 'id', data: r.ids.slice(0, r.rows).map((id) => (id === undefined ? null : String(id))) },
            { name: 'embedding', data: vectors },
          ]
        : [{ name: 'embedding', data: vectors }];
      try {
        await parquet.write({ columnData, rowGroupSize: r.rows });
      } catch (e) {
        throw fileError('writing', e);
      }
      sink.rows += r.rows;
    },
    async finish() {
      try {
        await seal();
        fs.renameSync(partial, out);
      } catch (e) {
        throw fileError('completing the output', e);
      }
    },
    async stop() {
      if (closed) return `${partial} could not be completed`;
      if (sink.rows === 0) {
        closed = true;
        await file.close();
        fs.rmSync(partial, { force: true });
        return 'nothing was written';
      }
      await seal();
      const n = `${sink.rows} row${sink.rows === 1 ? '' : 's'}`;
      return `${partial} holds the first ${n} as a complete Parquet file; Parquet output cannot be resumed (run again, or use --format jsonl, npy or raw to resume)`;
    },
  };
  return sink;
}
