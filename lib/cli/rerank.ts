// embedrt rerank: score documents against a query with a cross-encoder, best first.
import fs from 'node:fs';
import readline from 'node:readline';
import { CrossEncoder } from '../crossencoder.js';
import { EmbedrtError } from '../errors.js';
import type { Device } from '../modelload.js';
import { type Command, UsageError, batches, hubForCli, parseFlags, positiveInt, progressBar } from './common.js';

const RERANK_HELP = `Usage: embedrt rerank --model <dir|hub-id> --query TEXT [--documents <file>] [options]

Scores every document against the query with a cross-encoder (CrossEncoder.rank: the model's activation,
sigmoid for a reranker) and prints them best first. Documents: one per non-empty line of --documents
(.jsonl: one JSON string per line), else of stdin. corpusId is a document's position among them, from 0.

Options:
  --top-k <K>        documents to print (default: all)
  --max-length <N>   tokens per query + document at most (default: the model's)
  --format <f>       text (default) | jsonl
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)`;

async function rerank(argv: string[]): Promise<void> {
  const { values } = parseFlags('rerank', {
    args: argv,
    options: {
      model: { type: 'string' },
      query: { type: 'string' },
      documents: { type: 'string' },
      'top-k': { type: 'string' },
      'max-length': { type: 'string' },
      format: { type: 'string', default: 'text' },
      device: { type: 'string', default: 'cpu' },
    },
  });
  if (!values.model) throw new UsageError('rerank: --model <dir|hub-id> is required');
  if (values.query === undefined) throw new UsageError('rerank: --query TEXT is required');
  if (values.format !== 'text' && values.format !== 'jsonl') throw new UsageError(`rerank: --format must be text or jsonl, got ${values.format}`);
  const topK = positiveInt(values['top-k'], '--top-k');
  const maxLength = positiveInt(values['max-length'], '--max-length');
  const source = values.documents ?? 'stdin';
  let lines: AsyncIterable<string> | Iterable<string>;
  if (values.documents !== undefined) {
    try {
      lines = fs.readFileSync(values.documents, 'utf8').split(/\r?\n/);
    } catch (e) {
      throw new EmbedrtError('E_BAD_INPUT', `${values.documents}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  } else {
    lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  }
  const json = source.endsWith('.jsonl') ? { source, plainHint: 'a file not named .jsonl is read as plain lines' } : undefined;
  const documents: string[] = [];
  for await (const b of batches(lines, json, 4096)) for (const t of b) if (t.trim() !== '') documents.push(t);
  if (documents.length === 0) throw new EmbedrtError('E_BAD_INPUT', `${source}: no documents`);
  const cli = hubForCli();
  const model = await CrossEncoder.load(values.model, { device: values.device as Device, hub: cli.hub, ...(maxLength ? { maxLength } : {}) });
  cli.done();
  const bar = process.stderr.isTTY ? progressBar('scoring', undefined, { rateUnit: 'documents' }) : undefined;
  const hits = await model.rank(values.query, documents, { ...(topK ? { topK } : {}), ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}) });
  bar?.finish();
  model.dispose();
  let out = '';
  for (const h of hits) {
    const text = documents[h.corpusId]!;
    out += values.format === 'jsonl' ? `${JSON.stringify({ corpusId: h.corpusId, score: h.score, text })}\n` : `${h.score.toFixed(4)}  #${h.corpusId}  ${text.slice(0, 120)}\n`;
  }
  process.stdout.write(out);
}

export const rerankCommand: Command = {
  name: 'rerank',
  summary: 'Score documents against a query with a cross-encoder, best first',
  help: RERANK_HELP,
  run: rerank,
};
