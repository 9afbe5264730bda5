// tokenizer.json (or vocab.txt + tokenizer_config.json) → the flat config of the native tokenizer:
// the file's shared parts and WordPiece here, SentencePiece's Unigram in tokenizer-unigram.ts. Everything the native side trusts is checked here: field types, ids (dense enough that the
// memory they cost is proportional to the file, never to a number written in it), template pieces,
// special tokens. A bad file is an E_MODEL_FILES error naming the field; a valid file of a kind embedrt
// does not run is E_UNSUPPORTED.
import fs from 'node:fs';
import { EmbedrtError } from './errors.js';
import { ModelFolder } from './modelfiles.js';
import { isInteger, MAX_TEXT_FILE_BYTES, readJsonFile } from './validate.js';
import { asObject, emptyConfig, idOf, type Json, type NativeTokenizerConfig, type NativeTemplatePiece, optBool, packConfig, type PackedTokenizerConfig, typeIdOf, unsupported } from './tokenizer-json.js';
import { unigramConfig } from './tokenizer-unigram.js';

export type { PackedTokenizerConfig } from './tokenizer-json.js';

/** A tokenizer's files, read and checked: what the native tokenizer is built from. */
export interface TokenizerFiles {
  config: PackedTokenizerConfig;
  /** The file it came from (tokenizer.json or vocab.txt). */
  source: string;
  /** The tokenizer file's truncation length (0: none). */
  maxLength: number;
}

/** Reads a tokenizer.json file. */
export function readTokenizerFile(file: string): TokenizerFiles {
  const { config, maxLength } = configFromTokenizerJson(readJsonFile(file, 'a tokenizer.json'), file);
  return { config: packConfig(config), source: file, maxLength };
}

/** Reads a model folder's tokenizer: tokenizer.json, or vocab.txt + tokenizer_config.json (+ special_tokens_map.json). */
export function readTokenizerFolder(dir: string): TokenizerFiles {
  const folder = new ModelFolder(dir);
  if (folder.has('tokenizer.json')) {
    const file = folder.file('tokenizer.json', 'a tokenizer.json');
    const { config, maxLength } = configFromTokenizerJson(folder.json('tokenizer.json', 'a tokenizer.json'), file);
    return { config: packConfig(config), source: file, maxLength };
  }
  if (folder.has('vocab.txt')) {
    const { config, maxLength } = configFromVocabTxt(folder);
    return { config: packConfig(config), source: folder.join('vocab.txt'), maxLength };
  }
  const spm = folder.has('sentencepiece.bpe.model') || folder.has('spiece.model');
  throw new EmbedrtError(
    'E_MODEL_FILES',
    `${dir}: no tokenizer.json and no vocab.txt; embedrt needs one of them` +
      (spm ? ' (a SentencePiece model file is not read: transformers writes tokenizer.json from it, AutoTokenizer.from_pretrained(dir).save_pretrained(dir))' : ''),
  );
}

export function configFromTokenizerJson(raw: unknown, file: string): { config: NativeTokenizerConfig; maxLength: number } {
  const json = asObject(raw, 'the top level', file);
  const model = asObject(json.model, '"model"', file);
  const modelType = model.type ?? (model.vocab && model.unk_token !== undefined && model.continuing_subword_prefix !== undefined ? 'WordPiece' : undefined);
  let config: NativeTokenizerConfig;
  if (modelType === 'WordPiece') {
    config = wordPieceConfig(json, model, file);
  } else if (modelType === 'Unigram') {
    config = unigramConfig(json, model, file);
  } else {
    unsupported(file, 'model', modelType, 'WordPiece (BERT) and Unigram (SentencePiece) tokenizers');
  }
  const addedRaw = json.added_tokens ?? [];
  if (!Array.isArray(addedRaw)) throw new EmbedrtError('E_MODEL_FILES', `${file}: added_tokens must be an array`);
  for (const [i, a] of addedRaw.entries()) {
    const t = asObject(a, `added_tokens[${i}]`, file);
    if (typeof t.content !== 'string' || t.content === '') {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: added_tokens[${i}] needs a non-empty string content`);
    }
    idOf(t.id, file, `added_tokens[${i}].id`);
    const special = optBool(t, 'special', false, file, `added_tokens[${i}]`);
    config.addedTokens.push({
      content: t.content,
      id: t.id as number,
      special,
      normalized: optBool(t, 'normalized', !special, file, `added_tokens[${i}]`),
      lstrip: optBool(t, 'lstrip', false, file, `added_tokens[${i}]`),
      rstrip: optBool(t, 'rstrip', false, file, `added_tokens[${i}]`),
      singleWord: optBool(t, 'single_word', false, file, `added_tokens[${i}]`),
    });
  }
  if (json.post_processor !== null && json.post_processor !== undefined) {
    const pp = asObject(json.post_processor, '"post_processor"', file);
    if (pp.type === 'TemplateProcessing') {
      const specials = asObject(pp.special_tokens ?? {}, 'post_processor.special_tokens', file);
      const readTemplate = (key: 'single' | 'pair'): NativeTemplatePiece[] => {
        const arr = pp[key];
        if (!Array.isArray(arr)) throw new EmbedrtError('E_MODEL_FILES', `${file}: post_processor.${key} must be an array`);
        const pieces = arr.map((piece, i) => {
          const where = `post_processor.${key}[${i}]`;
          const p = asObject(piece, where, file);
          if (p.Sequence !== undefined) {
            const s = asObject(p.Sequence, `${where}.Sequence`, file);
            // A single text has only sequence A; a pair has A and B.
            const ok = key === 'single' ? ['A'] : ['A', 'B'];
            if (!ok.includes(s.id as string)) {
              throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.Sequence.id must be ${ok.map((x) => `"${x}"`).join(' or ')}, got ${JSON.stringify(s.id)}`);
            }
            return { sequence: s.id === 'B' ? 1 : 0, ids: [], tokens: [], typeId: typeIdOf(s.type_id, file, `${where}.Sequence`) };
          }
          const st = asObject(p.SpecialToken, `${where}.SpecialToken`, file);
          if (typeof st.id !== 'string' || !Object.prototype.hasOwnProperty.call(specials, st.id)) {
            throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.SpecialToken.id ${JSON.stringify(st.id)} is not in post_processor.special_tokens`);
          }
          const sp = asObject(specials[st.id], `post_processor.special_tokens[${JSON.stringify(st.id)}]`, file);
          if (!Array.isArray(sp.ids) || !Array.isArray(sp.tokens) || sp.ids.length !== sp.tokens.length || sp.ids.length === 0) {
            throw new EmbedrtError('E_MODEL_FILES', `${file}: post_processor.special_tokens[${JSON.stringify(st.id)}] needs ids and tokens arrays of one length`);
          }
          const ids = sp.ids.map((id, j) => idOf(id, file, `post_processor.special_tokens[${JSON.stringify(st.id)}].ids[${j}]`));
          sp.tokens.forEach((t, j) => {
            if (typeof t !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: post_processor.special_tokens[${JSON.stringify(st.id)}].tokens[${j}] must be a string`);
          });
          return { sequence: -1, ids, tokens: sp.tokens as string[], typeId: typeIdOf(st.type_id, file, `${where}.SpecialToken`) };
        });
        if (!pieces.some((p) => p.sequence === 0) || (key === 'pair' && !pieces.some((p) => p.sequence === 1))) {
          throw new EmbedrtError('E_MODEL_FILES', `${file}: post_processor.${key} must place ${key === 'pair' ? 'sequences A and B' : 'sequence A'}`);
        }
        return pieces;
      };
      config.single = readTemplate('single');
      config.pair = readTemplate('pair');
    } else if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
      // BertProcessing: [CLS] A [SEP] (B [SEP]), B's type id 1. RobertaProcessing: <s> A </s> (</s> B
      // </s>), every type id 0, and trim_offsets: offsets without the spaces a token's text holds (an
      // added token that took them with lstrip / rstrip).
      const roberta = pp.type === 'RobertaProcessing';
      if (roberta) {
        config.trimOffsets = optBool(pp, 'trim_offsets', true, file, 'post_processor');
        config.trimAddPrefixSpace = optBool(pp, 'add_prefix_space', true, file, 'post_processor');
      }
      const pairOf = (key: 'sep' | 'cls'): [string, number] => {
        const v = pp[key];
        if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string') {
          throw new EmbedrtError('E_MODEL_FILES', `${file}: post_processor.${key} must be [token, id]`);
        }
        return [v[0], idOf(v[1], file, `post_processor.${key}[1]`)];
      };
      const [sepTok, sepId] = pairOf('sep');
      const [clsTok, clsId] = pairOf('cls');
      const cls = { sequence: -1, ids: [clsId], tokens: [clsTok], typeId: 0 };
      const sep = (typeId: number) => ({ sequence: -1, ids: [sepId], tokens: [sepTok], typeId });
      config.single = [cls, { sequence: 0, ids: [], tokens: [], typeId: 0 }, sep(0)];
      const b = roberta ? 0 : 1;
      config.pair = [cls, { sequence: 0, ids: [], tokens: [], typeId: 0 }, sep(0), ...(roberta ? [sep(0)] : []), { sequence: 1, ids: [], tokens: [], typeId: b }, sep(b)];
    } else {
      unsupported(file, 'post_processor', pp.type, 'TemplateProcessing, BertProcessing, RobertaProcessing');
    }
  } else {
    config.single = [{ sequence: 0, ids: [], tokens: [], typeId: 0 }];
    config.pair = [{ sequence: 0, ids: [], tokens: [], typeId: 0 }, { sequence: 1, ids: [], tokens: [], typeId: 1 }];
  }

  let maxLength = 0;
  if (json.truncation !== null && json.truncation !== undefined) {
    const t = asObject(json.truncation, '"truncation"', file);
    if ((t.strategy ?? 'LongestFirst') !== 'LongestFirst' || (t.direction ?? 'Right') !== 'Right' || (t.stride ?? 0) !== 0) {
      throw new EmbedrtError('E_UNSUPPORTED', `${file}: only LongestFirst truncation from the right without stride is supported`);
    }
    if (!isInteger(t.max_length) || (t.max_length as number) < 1) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: truncation.max_length must be a positive integer, got ${JSON.stringify(t.max_length)}`);
    }
    maxLength = t.max_length as number;
  }
  if (json.padding !== null && json.padding !== undefined) {
    const p = asObject(json.padding, '"padding"', file);
    if (p.pad_id !== undefined) config.padId = idOf(p.pad_id, file, 'padding.pad_id');
    if (p.pad_type_id !== undefined) config.padTypeId = typeIdOf(p.pad_type_id, file, 'padding');
    if (p.pad_token !== undefined) {
      if (typeof p.pad_token !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: padding.pad_token must be a string`);
      config.padToken = p.pad_token;
    }
  } else {
    const pad = config.addedTokens.find((a) => a.content === (config.unigram ? '<pad>' : '[PAD]'));
    if (pad) {
      config.padId = pad.id;
      config.padToken = pad.content;
    }
  }
  return { config, maxLength };
}

/** A WordPiece model with BERT's normalizer, pre-tokenizer and decoder. */
function wordPieceConfig(json: Json, model: Json, file: string): NativeTokenizerConfig {
  const vocabObj = asObject(model.vocab, 'model.vocab', file);
  const entries = Object.entries(vocabObj);
  // The native vocabulary is indexed by id: ids must stay below the number of entries (plus the added
  // tokens, which may sit past the vocabulary), so a 60-byte file cannot ask for a 2-billion-slot table.
  const addedCount = Array.isArray(json.added_tokens) ? json.added_tokens.length : 0;
  const limit = entries.length + addedCount;
  const vocab: string[] = new Array<string>(entries.length).fill('');
  const seen = new Uint8Array(limit);
  for (const [tok, id] of entries) {
    // (The label is built only for a bad id: this loop runs once per vocabulary entry.)
    const i = Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0x7fffffff ? (id as number) : idOf(id, file, `model.vocab[${JSON.stringify(tok.length > 40 ? `${tok.slice(0, 40)}…` : tok)}]`);
    if (i >= limit) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: model.vocab has ${entries.length} tokens but uses id ${i}; ids must be dense (below ${limit})`);
    }
    if (seen[i]) throw new EmbedrtError('E_MODEL_FILES', `${file}: model.vocab gives id ${i} to two tokens`);
    seen[i] = 1;
    while (vocab.length <= i) vocab.push('');
    vocab[i] = tok;
  }
  const unkToken = model.unk_token;
  if (typeof unkToken !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: model.unk_token must be a string`);
  const unkId = vocabObj[unkToken];
  if (!isInteger(unkId)) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: the unknown token ${JSON.stringify(unkToken)} is not in model.vocab`);
  }
  const prefix = model.continuing_subword_prefix ?? '##';
  const maxChars = model.max_input_chars_per_word ?? 100;
  if (typeof prefix !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: model.continuing_subword_prefix must be a string`);
  if (!isInteger(maxChars) || (maxChars as number) < 0) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: model.max_input_chars_per_word must be a non-negative integer`);
  }

  const config: NativeTokenizerConfig = { ...emptyConfig(), vocab, unkId: unkId as number, continuingSubwordPrefix: prefix, maxInputCharsPerWord: maxChars as number };

  if (json.normalizer !== null && json.normalizer !== undefined) {
    const n = asObject(json.normalizer, '"normalizer"', file);
    if (n.type !== 'BertNormalizer') unsupported(file, 'normalizer', n.type, 'BertNormalizer with a WordPiece model');
    config.normalize = true;
    config.cleanText = optBool(n, 'clean_text', true, file, 'normalizer');
    config.handleChineseChars = optBool(n, 'handle_chinese_chars', true, file, 'normalizer');
    config.lowercase = optBool(n, 'lowercase', true, file, 'normalizer');
    // tokenizers: strip_accents defaults to the lowercase flag.
    config.stripAccents = optBool(n, 'strip_accents', config.lowercase, file, 'normalizer');
  }
  if (json.pre_tokenizer !== null && json.pre_tokenizer !== undefined) {
    const p = asObject(json.pre_tokenizer, '"pre_tokenizer"', file);
    if (p.type !== 'BertPreTokenizer') unsupported(file, 'pre_tokenizer', p.type, 'BertPreTokenizer with a WordPiece model');
    config.preTokenize = true;
  }
  if (json.decoder !== null && json.decoder !== undefined) {
    const d = asObject(json.decoder, '"decoder"', file);
    if (d.type !== 'WordPiece') unsupported(file, 'decoder', d.type, 'the WordPiece decoder with a WordPiece model');
    config.wordpieceDecoder = true;
    if (d.prefix !== undefined && typeof d.prefix !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: decoder.prefix must be a string`);
    config.decoderPrefix = (d.prefix as string | undefined) ?? '##';
    config.decoderCleanup = optBool(d, 'cleanup', true, file, 'decoder');
  }
  return config;
}

// vocab.txt + tokenizer_config.json (+ special_tokens_map.json): what transformers' BertTokenizerFast
// builds from them.
export function configFromVocabTxt(folder: ModelFolder): { config: NativeTokenizerConfig; maxLength: number } {
  const vocabFile = folder.file('vocab.txt', 'the WordPiece vocabulary', MAX_TEXT_FILE_BYTES);
  const vocab = fs.readFileSync(vocabFile, 'utf8').split('\n');
  if (vocab.length > 0 && vocab[vocab.length - 1] === '') vocab.pop();
  for (let i = 0; i < vocab.length; i++) vocab[i] = vocab[i]!.replace(/\r$/, '');
  const cfg = folder.optionalObject('tokenizer_config.json', 'a tokenizer_config.json') ?? {};
  const map = folder.optionalObject('special_tokens_map.json', 'a special_tokens_map.json') ?? {};
  const special = (key: string, dflt: string): string => {
    const v = map[key] ?? cfg[key];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
    return dflt;
  };
  const index = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (!index.has(t)) index.set(t, i);
  });
  const lower = cfg.do_lower_case === undefined ? true : cfg.do_lower_case === true;
  const names = ['pad_token', 'unk_token', 'cls_token', 'sep_token', 'mask_token'] as const;
  const defaults = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const tokens = names.map((n, i) => special(n, defaults[i]!));
  const ids = tokens.map((t) => {
    const id = index.get(t);
    if (id === undefined) throw new EmbedrtError('E_MODEL_FILES', `${vocabFile}: special token ${JSON.stringify(t)} is not in the vocabulary`);
    return id;
  });
  const [pad, unk, cls, sep, mask] = tokens as [string, string, string, string, string];
  const [padId, unkId, clsId, sepId, maskId] = ids as [number, number, number, number, number];
  const addedTokens = ([[pad, padId], [unk, unkId], [cls, clsId], [sep, sepId], [mask, maskId]] as [string, number][])
    .sort((a, b) => a[1] - b[1])
    .map(([content, id]) => ({ content, id, special: true, normalized: false, lstrip: false, rstrip: false, singleWord: false }));
  const seq = (s: number, typeId: number) => ({ sequence: s, ids: [], tokens: [], typeId });
  const clsP = { sequence: -1, ids: [clsId], tokens: [cls], typeId: 0 };
  const sepP = (typeId: number) => ({ sequence: -1, ids: [sepId], tokens: [sep], typeId });
  const stripAccents = cfg.strip_accents === undefined || cfg.strip_accents === null ? lower : cfg.strip_accents === true;
  return {
    config: {
      ...emptyConfig(),
      normalize: true,
      cleanText: true,
      handleChineseChars: cfg.tokenize_chinese_chars === undefined ? true : cfg.tokenize_chinese_chars === true,
      stripAccents,
      lowercase: lower,
      preTokenize: true,
      vocab,
      unkId,
      addedTokens,
      single: [clsP, seq(0, 0), sepP(0)],
      pair: [clsP, seq(0, 0), sepP(0), seq(1, 1), sepP(1)],
      wordpieceDecoder: true,
      decoderCleanup: cfg.clean_up_tokenization_spaces === undefined ? true : cfg.clean_up_tokenization_spaces === true,
      padId,
      padToken: pad,
    },
    maxLength: 0,
  };
}
