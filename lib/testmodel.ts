// Generates sentence-transformers model folders with seeded random BERT or XLM-RoBERTa weights in the
// exact Hugging Face layout, for tests (tiny shapes) and benchmarks (the flagship's shape). The tokenizer
// files are copied from a folder (the flagship's real ones, or the generated XLM-RoBERTa-style one). The same seed gives the same bytes on every machine: the generator uses
// integer arithmetic and IEEE float32 rounding only.
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors } from './safetensors.js';
import type { BertConfig } from './onnx/config.js';
import { EmbedrtError } from './errors.js';
import { describe, optionsOf, type OptionKeys } from './validate.js';
import { mkdirp } from './files.js';

export type PoolingMode = 'cls' | 'mean' | 'max' | 'mean_sqrt_len' | 'weightedmean' | 'lasttoken';

export interface TestModelOptions {
  /** 'bert' (the default) or 'xlm-roberta' (BERT's layers; positions after the padding id, one token type). */
  family?: 'bert' | 'xlm-roberta';
  /**
   * A cross-encoder instead: the family's sequence-classification head with this many labels
   * (BertForSequenceClassification / XLMRobertaForSequenceClassification), no sentence-transformers modules.
   */
  classifierLabels?: number;
  /** 'flagship' (BERT-base, as bge-base-en-v1.5), 'tiny' (2 layers, hidden 32), or explicit sizes. */
  shape?: 'flagship' | 'tiny' | Partial<BertConfig>;
  seed?: number;
  pooling?: PoolingMode;
  normalize?: boolean;
  maxSeqLength?: number;
  /** Folder with the tokenizer files to copy (required: tokenizer.json, tokenizer_config.json, special_tokens_map.json; vocab.txt if there). */
  tokenizerDir: string;
  prompts?: Record<string, string>;
  defaultPromptName?: string;
}

const FLAGSHIP: BertConfig = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  vocab_size: 30522,
};

const TINY: Partial<BertConfig> = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64 };

/** Ids a tokenizer.json uses: its model's vocabulary and the added tokens past it. */
function tokenizerVocabSize(dir: string): number {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: unknown[] | object }; added_tokens?: { id: number }[] };
  const n = Array.isArray(json.model.vocab) ? json.model.vocab.length : Object.keys(json.model.vocab).length;
  return Math.max(n, ...(json.added_tokens ?? []).map((t) => t.id + 1));
}

/** Uniform floats in [-scale, scale) from a 32-bit xorshift generator (exactly reproducible). */
function uniform(seed: number) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return (n: number, scale: number, offset = 0): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = offset + (s / 4294967296 - 0.5) * 2 * scale;
    }
    return out;
  };
}

const POOLING_KEYS: Record<PoolingMode, string> = {
  cls: 'pooling_mode_cls_token',
  mean: 'pooling_mode_mean_tokens',
  max: 'pooling_mode_max_tokens',
  mean_sqrt_len: 'pooling_mode_mean_sqrt_len_tokens',
  weightedmean: 'pooling_mode_weightedmean_tokens',
  lasttoken: 'pooling_mode_lasttoken',
};

/** Writes a model folder; returns its BertConfig. */
const TEST_MODEL_KEYS: OptionKeys<TestModelOptions> = {
  family: true, classifierLabels: true, shape: true, seed: true, pooling: true, normalize: true, maxSeqLength: true, tokenizerDir: true, prompts: true, defaultPromptName: true,
};

export function generateTestModel(dir: string, options: TestModelOptions): BertConfig {
  const opts = optionsOf(options, 'generateTestModel', TEST_MODEL_KEYS);
  if (typeof opts.tokenizerDir !== 'string' || opts.tokenizerDir === '') {
    throw new EmbedrtError('E_BAD_INPUT', `generateTestModel: options.tokenizerDir must be the folder of the tokenizer files, got ${describe(opts.tokenizerDir)}`);
  }
  const family = opts.family ?? 'bert';
  if (family !== 'bert' && family !== 'xlm-roberta') {
    throw new EmbedrtError('E_BAD_INPUT', `generateTestModel: options.family must be 'bert' or 'xlm-roberta', got ${describe(family)}`);
  }
  const xlmr = family === 'xlm-roberta';
  const labels = opts.classifierLabels;
  if (labels !== undefined && (!Number.isInteger(labels) || labels < 1 || labels > 1000)) {
    throw new EmbedrtError('E_BAD_INPUT', `generateTestModel: options.classifierLabels must be an integer from 1 to 1000, got ${describe(labels)}`);
  }
  const cfg: BertConfig = {
    ...FLAGSHIP,
    // XLM-RoBERTa: positions 0 and 1 are the padding id's, so 512 tokens take 514; the vocabulary is the tokenizer's.
    ...(xlmr ? { max_position_embeddings: 514, type_vocab_size: 1, layer_norm_eps: 1e-5, vocab_size: tokenizerVocabSize(opts.tokenizerDir) } : {}),
    ...(opts.shape === 'tiny' ? TINY : opts.shape === 'flagship' || opts.shape === undefined ? {} : opts.shape),
  };
  const rand = uniform(opts.seed ?? 42);
  const H = cfg.hidden_size;
  const I = cfg.intermediate_size;
  const std = 0.02 * Math.sqrt(3); // uniform with BERT's initializer_range as standard deviation
  const tensors: [string, number[], Float32Array][] = [];
  // A cross-encoder's encoder tensors carry the family's prefix (as XForSequenceClassification saves them).
  const prefix = labels === undefined ? '' : xlmr ? 'roberta.' : 'bert.';
  const add = (name: string, shape: number[], scale: number, offset = 0) =>
    tensors.push([prefix + name, shape, rand(shape.reduce((a, d) => a * d, 1), scale, offset)]);
  add('embeddings.word_embeddings.weight', [cfg.vocab_size, H], std);
  add('embeddings.position_embeddings.weight', [cfg.max_position_embeddings, H], std);
  add('embeddings.token_type_embeddings.weight', [cfg.type_vocab_size, H], std);
  add('embeddings.LayerNorm.weight', [H], 0.1, 1);
  add('embeddings.LayerNorm.bias', [H], 0.1);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) {
      add(`${p}.attention.self.${m}.weight`, [H, H], std * 4);
      add(`${p}.attention.self.${m}.bias`, [H], std);
    }
    add(`${p}.attention.output.dense.weight`, [H, H], std * 4);
    add(`${p}.attention.output.dense.bias`, [H], std);
    add(`${p}.attention.output.LayerNorm.weight`, [H], 0.1, 1);
    add(`${p}.attention.output.LayerNorm.bias`, [H], 0.1);
    add(`${p}.intermediate.dense.weight`, [I, H], std * 4);
    add(`${p}.intermediate.dense.bias`, [I], std);
    add(`${p}.output.dense.weight`, [H, I], std * 4);
    add(`${p}.output.dense.bias`, [H], std);
    add(`${p}.output.LayerNorm.weight`, [H], 0.1, 1);
    add(`${p}.output.LayerNorm.bias`, [H], 0.1);
  }
  if (labels !== undefined) {
    // The heads, as transformers names them: BERT's pooler + classifier; RoBERTa's classifier.dense + out_proj.
    const head = (name: string, shape: number[], scale: number) => tensors.push([name, shape, rand(shape.reduce((a, d) => a * d, 1), scale)]);
    if (xlmr) {
      head('classifier.dense.weight', [H, H], std * 4);
      head('classifier.dense.bias', [H], std);
    } else {
      add('pooler.dense.weight', [H, H], std * 4);
      add('pooler.dense.bias', [H], std);
    }
    const last = xlmr ? 'classifier.out_proj' : 'classifier';
    head(`${last}.weight`, [labels, H], std * 8);
    head(`${last}.bias`, [labels], std);
  }
  mkdirp(dir);
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  const json = (file: string, v: unknown) => fs.writeFileSync(path.join(dir, file), `${JSON.stringify(v, null, 2)}\n`);
  json('config.json', {
    architectures: [`${xlmr ? 'XLMRoberta' : 'Bert'}${labels === undefined ? 'Model' : 'ForSequenceClassification'}`],
    model_type: family,
    attention_probs_dropout_prob: 0.1,
    hidden_dropout_prob: 0.1,
    initializer_range: 0.02,
    ...(xlmr ? { pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 } : { pad_token_id: 0 }),
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    ...(labels === undefined
      ? {}
      : {
          id2label: Object.fromEntries(Array.from({ length: labels }, (_, i) => [String(i), `LABEL_${i}`])),
          label2id: Object.fromEntries(Array.from({ length: labels }, (_, i) => [`LABEL_${i}`, i])),
        }),
    ...cfg,
  });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
    if (f !== 'vocab.txt' || fs.existsSync(path.join(opts.tokenizerDir, f))) fs.copyFileSync(path.join(opts.tokenizerDir, f), path.join(dir, f));
  }
  if (labels !== undefined) return cfg; // a cross-encoder: no sentence-transformers modules
  mkdirp(path.join(dir, '1_Pooling'));
  const pooling = opts.pooling ?? 'cls';
  const poolingConfig: Record<string, unknown> = { word_embedding_dimension: H };
  for (const [mode, key] of Object.entries(POOLING_KEYS)) poolingConfig[key] = mode === pooling;
  poolingConfig.include_prompt = true;
  json('1_Pooling/config.json', poolingConfig);
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (opts.normalize ?? true) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  json('modules.json', modules);
  json('sentence_bert_config.json', { max_seq_length: opts.maxSeqLength ?? 512, do_lower_case: !xlmr });
  json('config_sentence_transformers.json', {
    prompts: opts.prompts ?? {},
    default_prompt_name: opts.defaultPromptName ?? null,
    similarity_fn_name: 'cosine',
  });
  return cfg;
}
