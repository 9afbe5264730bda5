// embedrt eval: the IR evaluation of the financial QA recipe, per Matryoshka dimension.
import { evaluateIR } from '../evaluate.js';
import { qaDataset, readQaRows } from '../irdata.js';
import { SentenceTransformer, type Device } from '../model.js';
import fs from 'node:fs';
import { EmbedrtError } from '../errors.js';
import { renderEvalReport } from '../report.js';
import { type Command, UsageError, progressBar, hubForCli, outputFile, quantizeFlag, positiveInt, parseFlags } from './common.js';

const EVAL_HELP = `Usage: embedrt eval --model <dir|hub-id> --data <file.csv|file.jsonl> [options]

Applies the financial QA evaluation recipe: the corpus is every row's context (keyed by row id), the
queries are the questions of the split (test: rows with index % 10 == 9), and each query's one relevant
document is its own row's context. Prints one markdown table per dimension, as the model card does.

Options:
  --split <s>        test (default) | train | all
  --dims <list>      comma-separated Matryoshka dimensions (default: the model's own, then
                     768,512,256,128,64 below it)
  --batch-size <B>   texts per inference run (default 32)
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>     int8 | int8-fast | fp16 | bf16: that graph, built from model.safetensors
  --json             print the metrics as JSON instead
  --report <file>    also write an HTML report: the tables, and a chart of NDCG@10, MRR@10, MAP@100
                     and accuracy@1 against the dimension beside the bytes per embedding (float32,
                     int8, binary); one self-contained file, nothing fetched when it is viewed
  --no-progress      no progress bar on stderr`;

async function evaluate(argv: string[]): Promise<void> {
  const { values } = parseFlags('eval', {
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string', default: 'test' },
      dims: { type: 'string' },
      'batch-size': { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      json: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      quantize: { type: 'string' },
      report: { type: 'string' },
    },
  });
  if (!values.model) throw new UsageError('eval: --model <dir|hub-id> is required');
  if (!values.data) throw new UsageError('eval: --data <file.csv|file.jsonl> is required');
  if (!['test', 'train', 'all'].includes(values.split)) throw new UsageError(`eval: --split must be test, train or all, got ${values.split}`);
  const dims = values.dims?.split(',').map((d) => positiveInt(d.trim(), '--dims')!);
  const batchSize = positiveInt(values['batch-size'], '--batch-size');
  const report = values.report === undefined ? undefined : outputFile(values.report, '--report');
  const data = qaDataset(readQaRows(values.data), values.split as 'test');
  for (const n of data.notes) process.stderr.write(`embedrt: ${n}\n`);
  const cli = hubForCli();
  const quantize = quantizeFlag(values.quantize);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(quantize ? { quantize } : {}) });
  cli.done();
  const bar = values['no-progress'] ? undefined : progressBar('embedding');
  const started = Date.now();
  const results = await evaluateIR(data, model, {
    ...(dims ? { dims } : {}),
    scoreFunctions: ['cosine'],
    ...(batchSize ? { batchSize } : {}),
    ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
  });
  bar?.finish();
  model.dispose();
  const run = { model: values.model, split: values.split, queries: Object.keys(data.queries).length, corpus: Object.keys(data.corpus).length, seconds: (Date.now() - started) / 1000, results };
  if (report !== undefined) {
    // Whole or not at all: written beside it, then renamed over it.
    const partial = `${report}.partial`;
    try {
      fs.writeFileSync(partial, renderEvalReport({ ...run, date: new Date() }));
      fs.renameSync(partial, report);
    } catch (e) {
      fs.rmSync(partial, { force: true });
      throw new EmbedrtError('E_BAD_INPUT', `--report ${values.report}: writing it failed (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
    process.stderr.write(`embedrt: wrote the report to ${values.report}\n`);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  for (const dim of Object.keys(results).map(Number).sort((a, b) => b - a)) {
    const m = results[dim]!.cosine!;
    lines.push(`#### dim_${dim}`, '', '| Metric | Value |', '| :-- | --: |');
    const row = (name: string, v: number) => lines.push(`| ${name} | ${v.toFixed(4)} |`);
    for (const [k, v] of Object.entries(m['accuracy@k'])) row(`cosine_accuracy@${k}`, v);
    for (const [k, v] of Object.entries(m['precision@k'])) row(`cosine_precision@${k}`, v);
    for (const [k, v] of Object.entries(m['recall@k'])) row(`cosine_recall@${k}`, v);
    for (const [k, v] of Object.entries(m['ndcg@k'])) row(`cosine_ndcg@${k}`, v);
    for (const [k, v] of Object.entries(m['mrr@k'])) row(`cosine_mrr@${k}`, v);
    for (const [k, v] of Object.entries(m['map@k'])) row(`cosine_map@${k}`, v);
    lines.push('');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export const evalCommand: Command = {
  name: 'eval',
  summary: "Information-retrieval evaluation per Matryoshka dimension (the model card's tables)",
  help: EVAL_HELP,
  run: evaluate,
};
