// What a sentence-transformers folder says about running its model: the modules (Transformer →
// Pooling → Normalize), the pooling modes, max_seq_length and lower-casing, prompts and the similarity
// function. Each file is read confined to the folder (modelfiles.ts) and each field checked: a wrong
// type or value is an E_MODEL_FILES error naming the file and the field.
import { EmbedrtError } from './errors.js';
import type { ModelFolder } from './modelfiles.js';
import { describe, ownKey } from './validate.js';
import { maxSequenceTokens } from './onnx/config.js';

/** sentence-transformers' pooling modes, in the order they are concatenated, and the native codes. */
export const POOLING_MODES = [
  ['pooling_mode_cls_token', 0],
  ['pooling_mode_max_tokens', 1],
  ['pooling_mode_mean_tokens', 2],
  ['pooling_mode_mean_sqrt_len_tokens', 3],
  ['pooling_mode_weightedmean_tokens', 4],
  ['pooling_mode_lasttoken', 5],
] as const;

const SIMILARITIES = { cosine: true, dot: true, euclidean: true, manhattan: true } as const;

export interface ModelSpec {
  /** Native pooling codes (POOLING_MODES). */
  pooling: number[];
  /** The Pooling config read (or the default), for messages. */
  poolingFile: string;
  normalizeModule: boolean;
  maxSeqLength: number;
  lowercase: boolean;
  prompts: Record<string, string>;
  defaultPromptName: string | undefined;
  similarity: string;
  /** config.json's vocab_size, when it has one: the tokenizer must not produce ids past it. */
  vocabSize: number | undefined;
}

export function readModelSpec(folder: ModelFolder): ModelSpec {
  const bad = (rel: string, what: string): never => {
    throw new EmbedrtError('E_MODEL_FILES', `${folder.join(rel)}: ${what}`);
  };
  const positive = (rel: string, o: Record<string, unknown>, key: string): number | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(rel, `${key} must be a positive integer, got ${describe(v)}`);
    return v as number;
  };

  // modules.json: absent → sentence-transformers' default for a plain transformer (mean pooling).
  let poolingRel: string | undefined = '1_Pooling';
  let poolingRequired = false;
  let normalizeModule = false;
  if (folder.has('modules.json')) {
    const modules = folder.json('modules.json', 'the module list');
    if (!Array.isArray(modules)) bad('modules.json', 'expected a JSON array of modules');
    poolingRel = undefined;
    (modules as unknown[]).forEach((m, i) => {
      const mod = m as { type?: unknown; path?: unknown } | null;
      if (mod === null || typeof mod !== 'object' || typeof mod.type !== 'string') bad('modules.json', `module ${i} must be an object with a string type`);
      if (mod!.path !== undefined && typeof mod!.path !== 'string') bad('modules.json', `module ${i}'s path must be a string`);
      const type = mod!.type as string;
      if (type.endsWith('.Transformer')) return;
      if (type.endsWith('.Pooling')) {
        poolingRel = (mod!.path as string | undefined) || '1_Pooling';
        poolingRequired = true;
      } else if (type.endsWith('.Normalize')) normalizeModule = true;
      else throw new EmbedrtError('E_UNSUPPORTED', `${folder.join('modules.json')}: module type ${JSON.stringify(type)} is not supported (Transformer, Pooling, Normalize)`);
    });
    if (poolingRel === undefined) {
      throw new EmbedrtError('E_UNSUPPORTED', `${folder.join('modules.json')}: no Pooling module; embedrt computes sentence embeddings (Transformer → Pooling)`);
    }
  }
  const poolingFileRel = `${poolingRel}/config.json`;
  const poolingCfg = folder.optionalObject(poolingFileRel, 'the Pooling config');
  if (poolingCfg === undefined && poolingRequired) bad(poolingFileRel, 'not found (modules.json lists a Pooling module; sentence-transformers needs its config)');
  const pcfg = poolingCfg ?? { pooling_mode_mean_tokens: true };
  for (const [key] of POOLING_MODES) {
    if (pcfg[key] !== undefined && typeof pcfg[key] !== 'boolean') bad(poolingFileRel, `${key} must be a boolean, got ${describe(pcfg[key])}`);
  }
  const pooling = POOLING_MODES.filter(([key]) => pcfg[key] === true).map(([, mode]) => mode);
  if (pooling.length === 0) bad(poolingFileRel, 'no pooling_mode_* is true');
  if (pcfg.include_prompt === false) throw new EmbedrtError('E_UNSUPPORTED', `${folder.join(poolingFileRel)}: include_prompt false is not supported yet`);

  const sbertRel = 'sentence_bert_config.json';
  const sbert = folder.optionalObject(sbertRel, 'sentence_bert_config') ?? {};
  if (sbert.do_lower_case !== undefined && typeof sbert.do_lower_case !== 'boolean') bad(sbertRel, `do_lower_case must be a boolean, got ${describe(sbert.do_lower_case)}`);

  const stRel = 'config_sentence_transformers.json';
  const st = folder.optionalObject(stRel, 'config_sentence_transformers') ?? {};
  const prompts: Record<string, string> = Object.create(null) as Record<string, string>;
  if (st.prompts !== undefined && st.prompts !== null) {
    if (typeof st.prompts !== 'object' || Array.isArray(st.prompts)) bad(stRel, `prompts must be an object of strings, got ${describe(st.prompts)}`);
    for (const [name, text] of Object.entries(st.prompts as Record<string, unknown>)) {
      if (typeof text !== 'string') bad(stRel, `prompts[${JSON.stringify(name)}] must be a string, got ${describe(text)}`);
      prompts[name] = text as string;
    }
  }
  let defaultPromptName: string | undefined;
  if (st.default_prompt_name !== undefined && st.default_prompt_name !== null) {
    if (!ownKey(prompts, st.default_prompt_name)) bad(stRel, `default_prompt_name ${describe(st.default_prompt_name)} is not one of its prompts`);
    defaultPromptName = st.default_prompt_name as string;
  }
  const similarity = st.similarity_fn_name ?? 'cosine';
  if (!ownKey(SIMILARITIES, similarity)) bad(stRel, `similarity_fn_name must be cosine, dot, euclidean or manhattan, got ${describe(similarity)}`);

  const config = folder.optionalObject('config.json', 'the model config') ?? {};
  positive('config.json', config, 'max_position_embeddings');
  const maxPos = maxSequenceTokens(config) ?? 512;
  const maxSeqLength = Math.min(positive(sbertRel, sbert, 'max_seq_length') ?? maxPos, maxPos);
  return {
    pooling,
    poolingFile: folder.join(poolingFileRel),
    normalizeModule,
    maxSeqLength,
    lowercase: sbert.do_lower_case === true,
    prompts,
    defaultPromptName,
    similarity: similarity as string,
    vocabSize: positive('config.json', config, 'vocab_size'),
  };
}
