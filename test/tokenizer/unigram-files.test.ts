// A SentencePiece Unigram tokenizer.json that embedrt cannot run, or that is malformed, is refused at
// load with a coded error naming the field (E_UNSUPPORTED for a valid file of another kind,
// E_MODEL_FILES for a broken one). Each case edits the generated XLM-RoBERTa-style tokenizer; the
// unedited file loads (and matches HF tokenizers: differential.test.ts), so each refusal is the edit's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, Tokenizer } from '../../lib/index.js';
import { xlmrTokenizerJson } from '../helpers/data.js';
import { hfTokenizer } from '../helpers/hf.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let tmp: string;
let base: Json;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-unigram-'));
  base = JSON.parse(fs.readFileSync(xlmrTokenizerJson, 'utf8')) as Json;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function load(edit: (j: Json) => void): Tokenizer {
  const j = structuredClone(base);
  edit(j);
  const file = path.join(tmp, 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify(j));
  return Tokenizer.fromFile(file);
}

function expectRefused(edit: (j: Json) => void, code: string, message: RegExp) {
  let err: unknown;
  try {
    load(edit);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EmbedrtError);
  expect((err as EmbedrtError).code).toBe(code);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).toContain('tokenizer.json');
}

const charsmapOf = (j: Json): Buffer => Buffer.from(j.normalizer.normalizers[0].precompiled_charsmap as string, 'base64');
const setCharsmap = (j: Json, blob: Buffer) => (j.normalizer.normalizers[0].precompiled_charsmap = blob.toString('base64'));

describe('a Unigram tokenizer.json embedrt cannot run is refused by field', () => {
  it('the unedited file loads', () => {
    expect(load(() => {}).encode('Hello world').ids.length).toBeGreaterThan(2);
  });

  it('E_UNSUPPORTED: byte_fallback, no unk_id, prepend_scheme "first", another normalizer or pre-tokenizer, a regex it cannot run', () => {
    expectRefused((j) => (j.model.byte_fallback = true), 'E_UNSUPPORTED', /model\.byte_fallback/);
    expectRefused((j) => (j.model.unk_id = null), 'E_UNSUPPORTED', /model\.unk_id/);
    expectRefused((j) => (j.pre_tokenizer.prepend_scheme = 'first'), 'E_UNSUPPORTED', /pre_tokenizer\.prepend_scheme "first"/);
    expectRefused((j) => (j.decoder.prepend_scheme = 'first'), 'E_UNSUPPORTED', /decoder\.prepend_scheme "first"/);
    expectRefused((j) => j.normalizer.normalizers.push({ type: 'NFKC' }), 'E_UNSUPPORTED', /normalizer\.normalizers\[3\] type "NFKC"/);
    expectRefused((j) => (j.pre_tokenizer = { type: 'Sequence', pretokenizers: [] }), 'E_UNSUPPORTED', /pre_tokenizer type "Sequence"/);
    expectRefused((j) => (j.decoder = { type: 'WordPiece' }), 'E_UNSUPPORTED', /decoder type "WordPiece"/);
    expectRefused((j) => (j.normalizer = { type: 'BertNormalizer' }), 'E_UNSUPPORTED', /normalizer type "BertNormalizer"/);
    expectRefused((j) => (j.normalizer.normalizers[2].pattern = { Regex: '\\s+' }), 'E_UNSUPPORTED', /regex "\\\\s\+" is not supported/);
    expectRefused((j) => (j.normalizer.normalizers[2].pattern = { Regex: 'ab{2,}' }), 'E_UNSUPPORTED', /regex "ab\{2,\}"/);
    expectRefused((j) => (j.model.type = 'BPE'), 'E_UNSUPPORTED', /model type "BPE"/);
  });

  it('E_MODEL_FILES: a broken vocabulary, unk_id, charsmap, Strip or Metaspace', () => {
    expectRefused((j) => (j.model.vocab = []), 'E_MODEL_FILES', /model\.vocab of a Unigram model/);
    expectRefused((j) => (j.model.vocab[7] = ['x']), 'E_MODEL_FILES', /model\.vocab\[7\] must be \[piece, score\]/);
    expectRefused((j) => (j.model.vocab[7] = ['x', 'NaN']), 'E_MODEL_FILES', /model\.vocab\[7\]/);
    expectRefused((j) => (j.model.unk_id = 99999), 'E_MODEL_FILES', /model\.unk_id 99999 is past/);
    expectRefused((j) => (j.model.unk_id = -1), 'E_MODEL_FILES', /model\.unk_id must be a token id/);
    expectRefused((j) => (j.normalizer.normalizers[0].precompiled_charsmap = 'not base64!'), 'E_MODEL_FILES', /precompiled_charsmap is not valid base64/);
    expectRefused((j) => setCharsmap(j, Buffer.from([1, 2])), 'E_MODEL_FILES', /shorter than its 4-byte header/);
    expectRefused((j) => setCharsmap(j, charsmapOf(j).subarray(0, 1000)), 'E_MODEL_FILES', /its trie has \d+ bytes, which its 1000 bytes cannot hold/);
    expectRefused((j) => setCharsmap(j, Buffer.concat([charsmapOf(j), Buffer.from([0xff, 0xfe])])), 'E_MODEL_FILES', /replacements that are not UTF-8/);
    expectRefused((j) => (j.normalizer.normalizers[1].strip_left = 'no'), 'E_MODEL_FILES', /normalizers\[1\]\.strip_left must be a boolean/);
    expectRefused((j) => (j.pre_tokenizer.replacement = '__'), 'E_MODEL_FILES', /pre_tokenizer\.replacement must be one character/);
    expectRefused((j) => (j.pre_tokenizer.prepend_scheme = 'sometimes'), 'E_MODEL_FILES', /prepend_scheme must be/);
    expectRefused((j) => Object.assign(j.pre_tokenizer, { add_prefix_space: false, prepend_scheme: 'always' }), 'E_MODEL_FILES', /add_prefix_space false does not match/);
  });

  it('what it can run loads and equals HF tokenizers: a literal Replace, " +" and escaped literals, prepend "never", no pre-tokenizer or decoder', async () => {
    const texts = ['Hello   world  ', 'a+b (c)', '  (c)  x   <mask>  ', ' Ａ ｅ\u0301 '];
    for (const edit of [
      (j: Json) => (j.normalizer.normalizers[2].pattern = { String: '  ' }),
      (j: Json) => (j.normalizer.normalizers[2].pattern = { Regex: ' +' }),
      (j: Json) => (j.normalizer.normalizers[2].pattern = { Regex: '\\(c\\)' }),
      (j: Json) => (j.pre_tokenizer.prepend_scheme = 'never'),
      (j: Json) => {
        j.pre_tokenizer = null;
        j.decoder = null;
      },
    ]) {
      const tok = load(edit);
      const ref = hfTokenizer(path.join(tmp, 'tokenizer.json'));
      for (const t of texts) {
        const [ours, hf] = [tok.encode(t), await ref.encode(t)];
        expect([Array.from(ours.ids), Array.from(ours.offsets)], t).toEqual([hf.getIds(), hf.getOffsets().flat()]);
        expect(tok.decode(Array.from(ours.ids)), t).toBe(await ref.decode(hf.getIds(), true));
      }
    }
  });
});
