// embedrt search: embed a corpus once (cached by content) and rank it for each query.
import fs from 'node:fs';
import readline from 'node:readline';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { EmbedrtError } from '../errors.js';
import { SentenceTransformer, type Device } from '../model.js';
import { semanticSearch } from '../search.js';
import { readCachedEmbeddings, writeCachedEmbeddings } from './embedcache.js';
import { type Command, UsageError, hubForCli, quantizeFlag, positiveInt, batches, parseFlags, progressBar } from './common.js';

const SEARCH_HELP = `Usage: embedrt search --model <dir|hub-id> --corpus <file> [--query TEXT ...] [options]

Embeds the corpus (one passage per non-empty line; .jsonl: one JSON string per line) once — the embeddings are
cached under $EMBEDRT_CACHE (or ~/.cache/embedrt)/search, keyed by model, dimension and corpus content —
then ranks it for each query (--query, repeatable, else one query per stdin line). Hits are numbered as
semanticSearch numbers them: corpusId, the passage's position among the passages, from 0.

Options:
  --top-k <K>        hits per query (default 5)
  --dim <D>          Matryoshka dimension
  --format <f>       text (default) | jsonl
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>     int8 | int8-fast | fp16 | bf16: that graph, built from model.safetensors`;

async function search(argv: string[]): Promise<void> {
  const { values } = parseFlags('search', {
    args: argv,
    options: {
      model: { type: 'string' },
      corpus: { type: 'string' },
      query: { type: 'string', multiple: true },
      'top-k': { type: 'string', default: '5' },
      dim: { type: 'string' },
      format: { type: 'string', default: 'text' },
      device: { type: 'string', default: 'cpu' },
      quantize: { type: 'string' },
    },
  });
  if (!values.model) throw new UsageError('search: --model <dir|hub-id> is required');
  if (!values.corpus) throw new UsageError('search: --corpus <file> is required');
  if (values.format !== 'text' && values.format !== 'jsonl') throw new UsageError(`search: --format must be text or jsonl, got ${values.format}`);
  const topK = positiveInt(values['top-k'], '--top-k')!;
  const dim = positiveInt(values.dim, '--dim');
  let raw: string;
  try {
    raw = fs.readFileSync(values.corpus, 'utf8');
  } catch (e) {
    throw new EmbedrtError('E_BAD_INPUT', `${values.corpus}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const corpus: string[] = [];
  for await (const b of batches(raw.split(/\r?\n/), values.corpus.endsWith('.jsonl') ? { source: values.corpus, plainHint: 'a corpus not named .jsonl is read as plain lines' } : undefined, 4096)) for (const t of b) if (t.trim() !== '') corpus.push(t);
  if (corpus.length === 0) throw new EmbedrtError('E_BAD_INPUT', `${values.corpus}: no passages`);
  let queries = values.query ?? [];
  if (queries.length === 0) {
    const qrl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of qrl) if (line.trim()) queries.push(line);
  }
  if (queries.length === 0) throw new UsageError('search: no queries (give --query or lines on stdin)');
  const cli = hubForCli();
  const quantize = quantizeFlag(values.quantize);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(dim ? { truncateDim: dim } : {}), ...(quantize ? { quantize } : {}) });
  cli.done();
  const key = crypto.createHash('sha256').update(`${model.info().graph}|${model.dimension}|${raw}`).digest('hex').slice(0, 32);
  const cacheFile = path.join(process.env.EMBEDRT_CACHE ?? path.join(os.homedir(), '.cache', 'embedrt'), 'search', `${key}.f32`);
  // The cached file is used only when it holds exactly corpus × dim finite floats (and its checksum
  // matches); anything else (truncated, damaged) is recomputed and replaced.
  let docs = readCachedEmbeddings(cacheFile, corpus.length * model.dimension);
  if (docs) {
    process.stderr.write(`embedrt: using cached embeddings of ${corpus.length} passages\n`);
  } else {
    const bar = process.stderr.isTTY ? progressBar('embedding the corpus', undefined, { rateUnit: 'passages' }) : undefined;
    docs = (await model.encode(corpus, { normalize: true, ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}) })).data;
    bar?.finish();
    try {
      writeCachedEmbeddings(cacheFile, docs);
    } catch (e) {
      process.stderr.write(`embedrt: could not cache the corpus embeddings (${(e as NodeJS.ErrnoException).code ?? e}); continuing\n`);
    }
  }
  queries = queries.slice();
  const q = await model.encode(queries, { normalize: true });
  const hits = await semanticSearch(q, { data: docs, rows: corpus.length, dim: model.dimension }, { topK });
  model.dispose();
  let out = '';
  hits.forEach((row, i) => {
    if (values.format === 'jsonl') {
      out += `${JSON.stringify({ query: queries[i], hits: row.map((h) => ({ corpusId: h.corpusId, score: h.score, text: corpus[h.corpusId] })) })}\n`;
    } else {
      out += `Q: ${queries[i]}\n`;
      for (const h of row) out += `  ${h.score.toFixed(4)}  #${h.corpusId}  ${corpus[h.corpusId]!.slice(0, 120)}\n`;
    }
  });
  process.stdout.write(out);
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'Embed a corpus once (cached) and rank it for each query',
  help: SEARCH_HELP,
  run: search,
};
