// SentencePiece's Unigram tokenizers in a tokenizer.json (XLM-RoBERTa, multilingual-e5, bge-m3,
// paraphrase-multilingual): the pieces and their scores, the normalizer (a Precompiled charsmap, Strip,
// Replace), the Metaspace pre-tokenizer and decoder, as Hugging Face tokenizers reads them. What the
// native side (native/core/sentencepiece.h) cannot run is E_UNSUPPORTED naming the field; a malformed
// field is E_MODEL_FILES.
import { EmbedrtError } from './errors.js';
import { asObject, emptyConfig, idOf, type Json, type NativeSpNormalizerStep, type NativeTokenizerConfig, unsupported } from './tokenizer-json.js';

/** The Unigram model and its SentencePiece stages; the caller adds the parts every model shares. */
export function unigramConfig(json: Json, model: Json, file: string): NativeTokenizerConfig {
  if (!Array.isArray(model.vocab) || model.vocab.length === 0) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: model.vocab of a Unigram model must be a non-empty array of [piece, score]`);
  }
  const vocab: string[] = [];
  const scores: number[] = [];
  model.vocab.forEach((entry: unknown, i: number) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: model.vocab[${i}] must be [piece, score] (a string and a finite number)`);
    }
    vocab.push(entry[0]);
    scores.push(entry[1]);
  });
  if (model.byte_fallback === true) {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: model.byte_fallback is true; embedrt's Unigram model maps what no piece covers to unk_id, not to byte pieces`);
  }
  if (model.unk_id === null || model.unk_id === undefined) {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: model.unk_id is missing; embedrt needs a Unigram model's unknown token (tokenizers fails on the first character no piece covers)`);
  }
  const unkId = idOf(model.unk_id, file, 'model.unk_id');
  if (unkId >= vocab.length) throw new EmbedrtError('E_MODEL_FILES', `${file}: model.unk_id ${unkId} is past model.vocab's ${vocab.length} pieces`);
  const config: NativeTokenizerConfig = { ...emptyConfig(), unigram: true, vocab, scores, unkId, continuingSubwordPrefix: '' };
  config.spNormalizer = normalizerSteps(json.normalizer, file);
  if (json.pre_tokenizer !== null && json.pre_tokenizer !== undefined) {
    const p = asObject(json.pre_tokenizer, '"pre_tokenizer"', file);
    if (p.type !== 'Metaspace') unsupported(file, 'pre_tokenizer', p.type, 'the Metaspace pre-tokenizer with a Unigram model');
    const m = metaspaceOf(p, file, 'pre_tokenizer');
    config.metaspace = true;
    config.metaspaceReplacement = m.replacement;
    config.metaspacePrepend = m.prepend;
    if (p.split !== undefined && p.split !== null && typeof p.split !== 'boolean') throw new EmbedrtError('E_MODEL_FILES', `${file}: pre_tokenizer.split must be a boolean`);
    config.metaspaceSplit = p.split !== false;
  }
  if (json.decoder !== null && json.decoder !== undefined) {
    const d = asObject(json.decoder, '"decoder"', file);
    if (d.type !== 'Metaspace') unsupported(file, 'decoder', d.type, 'the Metaspace decoder with a Unigram model');
    const m = metaspaceOf(d, file, 'decoder');
    config.metaspaceDecoder = true;
    config.metaspaceDecoderReplacement = m.replacement;
    config.metaspaceDecoderPrepend = m.prepend;
  }
  return config;
}

/** Metaspace's replacement and whether it prepends one ("always"; "never" does not; "first" is refused). */
function metaspaceOf(o: Json, file: string, where: string): { replacement: string; prepend: boolean } {
  const replacement = o.replacement;
  if (typeof replacement !== 'string' || [...replacement].length !== 1) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.replacement must be one character, got ${JSON.stringify(replacement)}`);
  }
  const scheme = o.prepend_scheme ?? 'always';
  if (scheme === 'first') {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: ${where}.prepend_scheme "first" is not supported; embedrt runs "always" and "never"`);
  }
  if (scheme !== 'always' && scheme !== 'never') {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.prepend_scheme must be "always", "never" or "first", got ${JSON.stringify(scheme)}`);
  }
  // Files from before prepend_scheme say add_prefix_space; false must agree with "never" (as tokenizers checks).
  if (o.add_prefix_space === false && o.prepend_scheme !== undefined && scheme !== 'never') {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.add_prefix_space false does not match prepend_scheme ${JSON.stringify(scheme)}`);
  }
  return { replacement, prepend: o.add_prefix_space === false ? false : scheme === 'always' };
}

function normalizerSteps(raw: unknown, file: string): NativeSpNormalizerStep[] {
  if (raw === null || raw === undefined) return [];
  const n = asObject(raw, '"normalizer"', file);
  let steps: unknown[] = [n];
  let prefix = 'normalizer';
  if (n.type === 'Sequence') {
    if (!Array.isArray(n.normalizers)) throw new EmbedrtError('E_MODEL_FILES', `${file}: normalizer.normalizers must be an array`);
    steps = n.normalizers;
    prefix = 'normalizer.normalizers';
  }
  return steps.map((step, i): NativeSpNormalizerStep => {
    const where = prefix === 'normalizer' ? prefix : `${prefix}[${i}]`;
    const o = asObject(step, where, file);
    switch (o.type) {
      case 'Precompiled':
        return { kind: 'precompiled', charsmap: charsmapOf(o.precompiled_charsmap, file, where) };
      case 'Strip': {
        const flag = (key: string): boolean => {
          if (typeof o[key] !== 'boolean') throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.${key} must be a boolean`);
          return o[key] as boolean;
        };
        return { kind: 'strip', left: flag('strip_left'), right: flag('strip_right') };
      }
      case 'Replace':
        return replaceStep(o, file, where);
      default:
        return unsupported(file, where, o.type, 'the Precompiled, Strip and Replace normalizers with a Unigram model');
    }
  });
}

/**
 * SentencePiece's precompiled_charsmap: base64 of [trie size u32 LE][trie][NUL-separated UTF-8
 * replacements]. Checked as tokenizers does when it loads one (the native side checks every read too).
 */
function charsmapOf(v: unknown, file: string, where: string): Uint8Array {
  const bad = (why: string): never => {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.precompiled_charsmap ${why}`);
  };
  if (typeof v !== 'string') return bad('must be a base64 string');
  if (v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return bad('is not valid base64');
  const blob = new Uint8Array(Buffer.from(v, 'base64'));
  if (blob.length < 4) return bad('is shorter than its 4-byte header');
  const trieBytes = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0, true);
  const units = Math.floor(trieBytes / 4);
  if (units === 0 || 4 + units * 4 > blob.length) return bad(`says its trie has ${trieBytes} bytes, which its ${blob.length} bytes cannot hold`);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(blob.subarray(4 + units * 4));
  } catch {
    return bad('has replacements that are not UTF-8');
  }
  return blob;
}

/** Metacharacters of a regex: a pattern without them (once unescaped) is a literal. */
const REGEX_META = new Set([...'\\^$.|?*+()[]{}']);

/**
 * A Replace step: a literal pattern, or a regex embedrt can run — a literal (metacharacters escaped),
 * or one character repeated at least n times (` {2,}`, `x+`), the shapes the transformers converters
 * write. Anything else is refused by name.
 */
function replaceStep(o: Json, file: string, where: string): NativeSpNormalizerStep {
  if (typeof o.content !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.content must be a string`);
  const pattern = asObject(o.pattern, `${where}.pattern`, file);
  if (typeof pattern.String === 'string') return { kind: 'replace', pattern: pattern.String, minRepeat: 0, content: o.content };
  if (typeof pattern.Regex !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.pattern must be {"String": ...} or {"Regex": ...}`);
  const re = pattern.Regex;
  const chars: string[] = [];
  let i = 0;
  const cps = [...re];
  while (i < cps.length) {
    const c = cps[i]!;
    if (c === '\\' && i + 1 < cps.length && REGEX_META.has(cps[i + 1]!)) {
      chars.push(cps[i + 1]!);
      i += 2;
    } else if (!REGEX_META.has(c)) {
      chars.push(c);
      i += 1;
    } else {
      break;
    }
  }
  const rest = cps.slice(i).join('');
  if (rest === '' && chars.length > 0) return { kind: 'replace', pattern: chars.join(''), minRepeat: 0, content: o.content };
  const repeat = /^(?:\{([0-9]{1,6}),\}|(\+))$/.exec(rest);
  if (repeat && chars.length === 1) {
    const min = repeat[2] ? 1 : Number(repeat[1]);
    if (min >= 1) return { kind: 'replace', pattern: chars[0]!, minRepeat: min, content: o.content };
  }
  throw new EmbedrtError(
    'E_UNSUPPORTED',
    `${file}: ${where}.pattern's regex ${JSON.stringify(re)} is not supported; embedrt runs literal patterns and one character repeated (such as " {2,}")`,
  );
}
