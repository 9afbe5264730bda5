// config.json of the encoder families the graph builder (encoder.ts) runs: what each family's graph
// depends on, checked field by field. Anything the builder cannot express is refused by name
// (E_UNSUPPORTED); a wrong value is E_MODEL_FILES naming the file and the field.
import { EmbedrtError } from '../errors.js';

/** The sizes and settings every family shares (BERT's names; what generateTestModel takes). */
export interface BertConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu' | 'gelu_new' | 'relu' | 'gelu_pytorch_tanh';
  layer_norm_eps: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  vocab_size: number;
}

/**
 * The encoder families, by config.json's model_type:
 * - bert: absolute positions from 0, token type embeddings.
 * - mpnet: positions counted from pad_token_id + 1 over the non-padding ids (as RoBERTa), no token
 *   types, a learned bias per relative-position bucket added to every layer's attention scores, and
 *   its own module names (attention.attn.q/k/v/o, attention.LayerNorm).
 * - xlm-roberta: BERT's layers and names (checkpoint prefix `roberta.`), positions as mpnet's, one
 *   token type (its embedding added to every token).
 */
export type EncoderFamily = 'bert' | 'mpnet' | 'xlm-roberta';

export interface EncoderConfig extends BertConfig {
  model_type: EncoderFamily;
  /** The padding id: positions start after it (mpnet, xlm-roberta). */
  pad_token_id: number;
  /** mpnet's relative-position buckets (0 for bert). */
  relative_attention_num_buckets: number;
}

const FAMILIES: readonly string[] = ['bert', 'mpnet', 'xlm-roberta'] satisfies EncoderFamily[];

/** Whether a family counts positions from the padding id (as RoBERTa: mpnet, xlm-roberta). */
export function positionsAfterPadding(family: unknown): boolean {
  return family === 'mpnet' || family === 'xlm-roberta';
}

/** The first position id of a family: mpnet's and xlm-roberta's start after the padding id. */
function firstPosition(modelType: unknown, padTokenId: unknown): number {
  const pad = padTokenId ?? 1;
  return positionsAfterPadding(modelType) && typeof pad === 'number' && Number.isSafeInteger(pad) && pad >= 0 ? pad + 1 : 0;
}

/**
 * Tokens a sequence may have at most: max_position_embeddings, less the positions a family skips.
 * From config.json as it is (undefined without the field; parseEncoderConfig checks the rest).
 */
export function maxSequenceTokens(raw: Record<string, unknown>): number | undefined {
  const max = raw.max_position_embeddings;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0) return undefined;
  return Math.max(1, max - firstPosition(raw.model_type, raw.pad_token_id));
}

/** Checks config.json's fields for the graph builder. */
export function parseEncoderConfig(raw: Record<string, unknown>, file: string): EncoderConfig {
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !FAMILIES.includes(modelType)) {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: model_type ${JSON.stringify(modelType)} is not supported; the graph builder handles ${FAMILIES.map((f) => `"${f}"`).join(', ')}`);
  }
  const family = modelType as EncoderFamily;
  const pos = raw.position_embedding_type ?? 'absolute';
  if (pos !== 'absolute') {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: position_embedding_type ${JSON.stringify(pos)} is not supported; only "absolute" is`);
  }
  const act = raw.hidden_act ?? 'gelu';
  if (!['gelu', 'gelu_new', 'relu', 'gelu_pytorch_tanh'].includes(act as string)) {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: hidden_act ${JSON.stringify(act)} is not supported (gelu, gelu_new, relu)`);
  }
  const int = (key: string, dflt?: number, min = 1): number => {
    const v = raw[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: ${key} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const eps = (): number => {
    const v = raw.layer_norm_eps ?? 1e-12;
    if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new EmbedrtError('E_MODEL_FILES', `${file}: layer_norm_eps must be a small positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const cfg: EncoderConfig = {
    model_type: family,
    hidden_size: int('hidden_size'),
    num_hidden_layers: int('num_hidden_layers'),
    num_attention_heads: int('num_attention_heads'),
    intermediate_size: int('intermediate_size'),
    hidden_act: act as BertConfig['hidden_act'],
    layer_norm_eps: eps(),
    max_position_embeddings: int('max_position_embeddings', 512),
    type_vocab_size: family === 'mpnet' ? 0 : int('type_vocab_size', family === 'bert' ? 2 : 1),
    vocab_size: int('vocab_size'),
    pad_token_id: int('pad_token_id', positionsAfterPadding(family) ? 1 : 0, 0),
    relative_attention_num_buckets: family === 'mpnet' ? int('relative_attention_num_buckets', 32) : 0,
  };
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: hidden_size ${cfg.hidden_size} is not a multiple of num_attention_heads ${cfg.num_attention_heads}`);
  }
  if (firstPosition(cfg.model_type, cfg.pad_token_id) >= cfg.max_position_embeddings) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: pad_token_id ${cfg.pad_token_id} leaves no position of max_position_embeddings ${cfg.max_position_embeddings}`);
  }
  return cfg;
}

/**
 * MPNet's bucket of a relative position (key position − query position), as transformers computes it
 * (MPNetEncoder.relative_position_bucket, bidirectional, max_distance 128): half the buckets for each
 * direction, exact below a quarter of them, logarithmic up to max_distance. In float32 as torch does
 * (Math.fround at each step), so a boundary case rounds the same way.
 */
export function relativePositionBucket(relative: number, numBuckets: number, maxDistance = 128): number {
  const half = Math.floor(numBuckets / 2);
  let n = -relative;
  let ret = n < 0 ? half : 0;
  n = Math.abs(n);
  const maxExact = Math.floor(half / 2);
  if (n < maxExact) return ret + n;
  const f = Math.fround;
  const scaled = f(f(f(Math.log(f(n / maxExact))) / f(Math.log(maxDistance / maxExact))) * (half - maxExact));
  ret += Math.min(maxExact + Math.trunc(scaled), half - 1);
  return ret;
}

/**
 * A sequence-classification head (cross-encoders): BertForSequenceClassification (the pooler's dense +
 * tanh on the CLS row, then `classifier`) or XLMRobertaForSequenceClassification (`classifier.dense` +
 * tanh, then `classifier.out_proj`), with its number of labels.
 */
export interface ClassifierHead {
  architecture: 'BertForSequenceClassification' | 'XLMRobertaForSequenceClassification';
  numLabels: number;
  /** id2label's names by id ("LABEL_0"… when config.json has none). */
  labels: string[];
}

const HEADS: Record<ClassifierHead['architecture'], EncoderFamily> = {
  BertForSequenceClassification: 'bert',
  XLMRobertaForSequenceClassification: 'xlm-roberta',
};

/** config.json's classification head, or undefined when its architecture is not one (an encoder). */
export function classifierHead(raw: Record<string, unknown>, file: string): ClassifierHead | undefined {
  const arch = Array.isArray(raw.architectures) ? raw.architectures[0] : undefined;
  if (typeof arch !== 'string' || !arch.endsWith('ForSequenceClassification')) return undefined;
  if (!Object.hasOwn(HEADS, arch)) {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: architectures[0] ${JSON.stringify(arch)} is not supported; embedrt runs ${Object.keys(HEADS).join(' and ')}`);
  }
  const architecture = arch as ClassifierHead['architecture'];
  if (raw.model_type !== HEADS[architecture]) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: architectures[0] ${arch} does not go with model_type ${JSON.stringify(raw.model_type)}`);
  }
  if (raw.problem_type !== undefined && raw.problem_type !== null && raw.problem_type !== 'single_label_classification' && raw.problem_type !== 'regression') {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: problem_type ${JSON.stringify(raw.problem_type)} is not supported (single_label_classification, regression)`);
  }
  // transformers: num_labels is id2label's size (config.json keeps id2label, not num_labels); 2 without either.
  let labels: string[];
  if (raw.id2label !== undefined && raw.id2label !== null) {
    if (typeof raw.id2label !== 'object' || Array.isArray(raw.id2label)) throw new EmbedrtError('E_MODEL_FILES', `${file}: id2label must be an object`);
    const entries = Object.entries(raw.id2label as Record<string, unknown>);
    if (entries.length === 0 || entries.length > 100_000) throw new EmbedrtError('E_MODEL_FILES', `${file}: id2label must have 1 to 100000 labels, got ${entries.length}`);
    labels = new Array<string>(entries.length);
    for (const [k, v] of entries) {
      const id = Number(k);
      if (!/^(0|[1-9][0-9]*)$/.test(k) || id >= entries.length || labels[id] !== undefined || typeof v !== 'string') {
        throw new EmbedrtError('E_MODEL_FILES', `${file}: id2label must map the ids 0 to ${entries.length - 1} to names, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      }
      labels[id] = v;
    }
  } else {
    const n = raw.num_labels ?? 2;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100_000) throw new EmbedrtError('E_MODEL_FILES', `${file}: num_labels must be an integer from 1 to 100000, got ${JSON.stringify(n)}`);
    labels = Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  if (raw.num_labels !== undefined && raw.num_labels !== labels.length) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: num_labels ${JSON.stringify(raw.num_labels)} disagrees with id2label's ${labels.length} labels`);
  }
  return { architecture, numLabels: labels.length, labels };
}
