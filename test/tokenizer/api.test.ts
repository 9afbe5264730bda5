import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, Tokenizer } from '../../lib/index.js';
import { bgeDir, bgeTokenizerJson, financialQa } from '../helpers/data.js';
import { hfTokenizer } from '../helpers/hf.js';

let tok: Tokenizer;
let tmp: string;

beforeAll(() => {
  tok = Tokenizer.fromPretrained(bgeDir);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-tok-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function expectCode(fn: () => unknown, code: string, message: RegExp) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmbedrtError);
    expect((e as EmbedrtError).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an error');
}

describe('loading', () => {
  it('vocab.txt + tokenizer_config.json gives the same ids as tokenizer.json', async () => {
    const dir = path.join(tmp, 'vocab-only');
    fs.mkdirSync(dir);
    for (const f of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      fs.copyFileSync(path.join(bgeDir, f), path.join(dir, f));
    }
    const fromVocab = Tokenizer.fromPretrained(dir);
    expect(fromVocab.source.endsWith('vocab.txt')).toBe(true);
    const texts = financialQa().slice(0, 500).flatMap((r) => [r.question, r.context]);
    texts.push('Héllo [SEP] wörld 東京 [MASK]', '');
    const a = await fromVocab.encodeBatch(texts, { withTokens: true });
    const b = await tok.encodeBatch(texts, { withTokens: true });
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(Array.from(a.rowStart)).toEqual(Array.from(b.rowStart));
  });

  it('refuses other tokenizer types and mixed stages, naming the type', () => {
    const file = path.join(tmp, 'bpe.json');
    const json = JSON.parse(fs.readFileSync(bgeTokenizerJson, 'utf8'));
    json.model = { type: 'BPE', vocab: { a: 0 }, merges: [] };
    fs.writeFileSync(file, JSON.stringify(json));
    expectCode(() => Tokenizer.fromFile(file), 'E_UNSUPPORTED', /model type "BPE" is not supported/);
    // A Unigram model runs with SentencePiece's stages, not BERT's normalizer (each model kind's own, by name).
    json.model = { type: 'Unigram', vocab: [['a', 0]], unk_id: 0 };
    fs.writeFileSync(file, JSON.stringify(json));
    expectCode(() => Tokenizer.fromFile(file), 'E_UNSUPPORTED', /normalizer type "BertNormalizer" is not supported; embedrt runs the Precompiled, Strip and Replace normalizers with a Unigram model/);
    const ok = JSON.parse(fs.readFileSync(bgeTokenizerJson, 'utf8'));
    ok.normalizer = { type: 'NFKC' };
    fs.writeFileSync(file, JSON.stringify(ok));
    expectCode(() => Tokenizer.fromFile(file), 'E_UNSUPPORTED', /normalizer type "NFKC"/);
  });

  it('names the file when it is missing or malformed', () => {
    expectCode(() => Tokenizer.fromFile(path.join(tmp, 'nope.json')), 'E_MODEL_FILES', /nope\.json: not found/);
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"model": ');
    expectCode(() => Tokenizer.fromFile(bad), 'E_MODEL_FILES', /bad\.json: not valid JSON/);
    expectCode(() => Tokenizer.fromPretrained(tmp), 'E_MODEL_FILES', /no tokenizer\.json and no vocab\.txt/);
    const noUnk = path.join(tmp, 'nounk.json');
    const json = JSON.parse(fs.readFileSync(bgeTokenizerJson, 'utf8'));
    json.model.unk_token = '<unk>';
    fs.writeFileSync(noUnk, JSON.stringify(json));
    expectCode(() => Tokenizer.fromFile(noUnk), 'E_MODEL_FILES', /unknown token "<unk>" is not in model\.vocab/);
  });
});

describe('encode and encodeBatch', () => {
  it('rejects bad inputs with messages that name them', async () => {
    expectCode(() => tok.encode(42 as unknown as string), 'E_BAD_INPUT', /encode: text must be a string, got number 42/);
    expectCode(() => tok.encode('a', { maxLength: 2 }), 'E_BAD_INPUT', /maxLength must be an integer ≥ 3/);
    expectCode(() => tok.encode('a', { maxLength: 1.5 }), 'E_BAD_INPUT', /maxLength/);
    await expect(tok.encodeBatch(['a', null as unknown as string])).rejects.toThrow(/texts\[1\] must be a string, got null/);
    await expect(tok.encodeBatch('abc' as unknown as string[])).rejects.toThrow(/expected an array of strings/);
    await expect(tok.encodeBatch(['a'], { pair: ['x', 'y'] })).rejects.toThrow(/options\.pair must be an array of 1 strings/);
    await expect(tok.encodeBatch(['a'], { padding: 0 })).rejects.toThrow(/padding must be false, 'longest' or a positive integer/);
    expectCode(() => tok.decode([1, -1]), 'E_BAD_INPUT', /ids\[1\] is -1/);
  });

  it('pads like tokenizers does (longest, fixed, multiple of)', async () => {
    const ref = hfTokenizer(bgeTokenizerJson);
    const texts = ['short', 'a somewhat longer text, with punctuation!', '', 'x'];
    const got = await tok.encodeBatch(texts, { padding: 'longest' });
    const width = got.rowStart[1]! - got.rowStart[0]!;
    const expected = await ref.encodeBatch(texts);
    const longest = Math.max(...expected.map((e) => e.getIds().length));
    expect(width).toBe(longest);
    for (let i = 0; i < texts.length; i++) {
      const row = got.row(i);
      const e = expected[i]!.getIds();
      expect(row.length).toBe(e.length);
      expect(Array.from(row.ids)).toEqual([...e, ...Array(longest - e.length).fill(0)]);
      expect(Array.from(row.attentionMask)).toEqual([...Array(e.length).fill(1), ...Array(longest - e.length).fill(0)]);
    }
    const fixed = await tok.encodeBatch(texts, { padding: 32, padToMultipleOf: 8 });
    expect(fixed.ids.length).toBe(4 * 32);
    const multiple = await tok.encodeBatch(texts, { padding: 'longest', padToMultipleOf: 8 });
    expect((multiple.rowStart[1]! - multiple.rowStart[0]!) % 8).toBe(0);
  });

  it('reports truncation per text', async () => {
    const b = await tok.encodeBatch(['one two three four five', 'one'], { maxLength: 4 });
    expect(Array.from(b.lengths)).toEqual([4, 3]);
    expect(b.row(0).truncated).toBe(true);
    expect(b.row(1).truncated).toBe(false);
  });

  it('returns tokens and offsets on request, and decode inverts encode', () => {
    const text = 'Revenue grew 12% in fiscal 2023.';
    const e = tok.encode(text, { withTokens: true });
    expect(e.tokens?.[0]).toBe('[CLS]');
    for (let i = 1; i < e.ids.length - 1; i++) {
      const piece = text.slice(e.offsets[2 * i], e.offsets[2 * i + 1]).toLowerCase();
      expect(e.tokens![i]!.replace(/^##/, '')).toBe(piece);
    }
    expect(tok.decode(e.ids)).toBe('revenue grew 12 % in fiscal 2023.');
  });

  it('keeps the event loop free while a large batch tokenizes', async () => {
    const texts = Array.from({ length: 40 }, () => financialQa().map((r) => r.context)).flat();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = Date.now();
    const result = await tok.encodeBatch(texts);
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(result.rows).toBe(texts.length);
    expect(elapsed).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThan(3);
  });

  it('concurrent batches are safe and each returns its own order', async () => {
    const rows = financialQa().slice(0, 2000);
    const [a, b] = await Promise.all([
      tok.encodeBatch(rows.map((r) => r.question)),
      tok.encodeBatch(rows.map((r) => r.context)),
    ]);
    expect(Array.from(a.row(7).ids)).toEqual(Array.from(tok.encode(rows[7]!.question).ids));
    expect(Array.from(b.row(1999).ids)).toEqual(Array.from(tok.encode(rows[1999]!.context).ids));
  });
});
