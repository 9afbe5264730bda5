// embedrt convert: the ONNX graph of a safetensors checkpoint into a folder.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError } from '../errors.js';
import { convertCheckpoint, onnxGraphFor } from '../graph.js';
import { ModelFolder } from '../modelfiles.js';
import { locateModel } from '../modelload.js';
import { classifierHead } from '../onnx/config.js';
import { type Command, UsageError, quantizeFlag, parseFlags } from './common.js';
import { mkdirp } from '../files.js';

const CONVERT_HELP = `Usage: embedrt convert --model <dir|hub-id> --out <dir> [--inline]

Builds the ONNX graph (opset 17; inputs input_ids, attention_mask, and token_type_ids for BERT; output
last_hidden_state) of a BERT, MPNet or XLM-RoBERTa model.safetensors checkpoint into <dir>/model.onnx,
weights in <dir>/model.onnx.data (--inline: inside model.onnx). A cross-encoder (config.json's
architecture BertForSequenceClassification or XLMRobertaForSequenceClassification) gets its
classification head: output logits [batch, labels], the first token's.

  --quantize int8        8-bit weights: int8 dynamic quantization (DynamicQuantizeMatMul) for the attention
                         projections, 8-bit blockwise (MatMulNBits) for the feed-forward layers
  --quantize int8-fast   int8 dynamic quantization everywhere: faster, less faithful
  --quantize fp16        float16 projection weights and products (for GPUs), the rest float32
(bf16 is not written: it runs on embedrt's own kernels only, which a portable file cannot name.)`;

async function convert(argv: string[]): Promise<void> {
  const { values } = parseFlags('convert', {
    args: argv,
    options: { model: { type: 'string' }, out: { type: 'string' }, inline: { type: 'boolean', default: false }, quantize: { type: 'string' } },
  });
  if (!values.model) throw new UsageError('convert: --model <dir|hub-id> is required');
  if (!values.out) throw new UsageError('convert: --out <dir> is required');
  const quantize = quantizeFlag(values.quantize);
  if (quantize === 'bf16') throw new UsageError("convert: --quantize bf16 runs on embedrt's own kernels only; convert writes standard ONNX (int8, int8-fast or fp16)");
  const dir = await locateModel(values.model, {});
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    // A model that ships onnx/model.onnx needs no conversion; say where it is.
    const graph = onnxGraphFor(dir);
    throw new EmbedrtError('E_MODEL_FILES', `${dir}: no model.safetensors to convert (the model ships ${graph})`);
  }
  if (fs.existsSync(path.join(values.out, 'model.onnx')) || (fs.existsSync(values.out) && !fs.statSync(values.out).isDirectory())) {
    throw new EmbedrtError('E_BAD_INPUT', `convert: --out ${values.out} already holds a model.onnx (or is a file); give a new folder`);
  }
  // Built beside the target and moved into it when complete: a full disk leaves nothing that looks whole.
  const tmp = `${path.resolve(values.out)}.tmp-${process.pid}`;
  try {
    const head = classifierHead(new ModelFolder(dir).optionalObject('config.json', 'the model config') ?? {}, path.join(dir, 'config.json'));
    convertCheckpoint(dir, tmp, { externalData: !values.inline, ...(quantize ? { quantize } : {}), ...(head ? { head } : {}) });
    mkdirp(values.out);
    for (const f of fs.readdirSync(tmp)) fs.renameSync(path.join(tmp, f), path.join(values.out, f));
  } catch (e) {
    if (e instanceof EmbedrtError) throw e;
    throw new EmbedrtError('E_BAD_INPUT', `convert: cannot write ${values.out} (${(e as NodeJS.ErrnoException).code ?? e}); nothing was written`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${path.join(values.out, 'model.onnx')}\n`);
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'Build the ONNX graph of a safetensors checkpoint into a folder',
  help: CONVERT_HELP,
  run: convert,
};
