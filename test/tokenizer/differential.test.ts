// Differential tests: embedrt's native tokenizer against Hugging Face tokenizers (npm, the Rust
// implementation) on the same tokenizer.json. Ids, type ids, attention masks, special-token masks and
// offsets must be identical, with and without truncation, for singles and pairs. Four tokenizers:
// bge-base-en-v1.5's (WordPiece, BertProcessing-style template), all-mpnet-base-v2's (RobertaProcessing,
// an lstrip <mask>, its own special tokens), and an XLM-RoBERTa-style SentencePiece Unigram (made by
// scripts/fixtures/make_unigram_tokenizer.py: nmt_nfkc charsmap, Metaspace) twice — as transformers 4.40
// converts it (Precompiled, Strip, Replace " {2,}") and as the hub's older files have it (Precompiled
// alone, Metaspace's add_prefix_space).
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../lib/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bgeTokenizerJson, financialQa, xlmrTokenizerJson } from '../helpers/data.js';
import { hfTokenizer, type HfTokenizer } from '../helpers/hf.js';
import { mpnetDir } from '../helpers/models.js';
import { makeGenerator } from '../helpers/textgen.js';

let ours: Tokenizer;
let ref: HfTokenizer;
/** The file's own truncation (all-mpnet-base-v2's: 128), which both apply when a call gives none. */
let fileMaxLength: number | undefined;

interface CompareOptions {
  maxLength?: number;
  pairs?: string[];
  addSpecialTokens?: boolean;
}

const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

/** Returns a description of every text whose encoding differs (empty when all agree). */
async function compare(texts: string[], opts: CompareOptions = {}): Promise<string[]> {
  const bad: string[] = [];
  const chunk = 2000;
  const maxLength = opts.maxLength ?? fileMaxLength;
  if (maxLength) ref.setTruncation(maxLength);
  else ref.disableTruncation();
  try {
    for (let start = 0; start < texts.length; start += chunk) {
      const part = texts.slice(start, start + chunk);
      const pairs = opts.pairs?.slice(start, start + chunk);
      const addSpecialTokens = opts.addSpecialTokens ?? true;
      // The binding's encodeBatch takes no pairs: encode them one by one.
      const expected = pairs
        ? await Promise.all(part.map((t, i) => ref.encode(t, pairs[i]!, { addSpecialTokens })))
        : await ref.encodeBatch(part, { addSpecialTokens });
      const got = await ours.encodeBatch(part, {
        addSpecialTokens,
        ...(opts.maxLength ? { maxLength: opts.maxLength } : {}),
        ...(pairs ? { pair: pairs } : {}),
      });
      for (let i = 0; i < part.length; i++) {
        const e = expected[i]!;
        const g = got.row(i);
        const fields: [string, ArrayLike<number>, number[]][] = [
          ['ids', g.ids, e.getIds()],
          ['typeIds', g.typeIds, e.getTypeIds()],
          ['attentionMask', g.attentionMask, e.getAttentionMask()],
          ['specialTokensMask', g.specialTokensMask, e.getSpecialTokensMask()],
          ['offsets', g.offsets, e.getOffsets().flat()],
        ];
        for (const [name, a, b] of fields) {
          const at = Array.from(a).findIndex((v, j) => v !== b[j]);
          if (a.length !== b.length || at >= 0) {
            const from = Math.max(0, (at >= 0 ? at : Math.min(a.length, b.length)) - 4);
            const near = (xs: ArrayLike<number>) => Array.from(xs).slice(from, from + 12).join(',');
            bad.push(`text ${start + i} ${show(part[i]!)}: ${name} differ from index ${from}: ours=[${near(a)}] hf=[${near(b)}]`);
            break;
          }
        }
        if (bad.length > 20) return bad;
      }
    }
  } finally {
    ref.disableTruncation();
  }
  return bad;
}

/** The Unigram tokenizer as older files write it: the charsmap alone, Metaspace with add_prefix_space. */
function legacyUnigramFile(): string {
  const out = path.join(os.tmpdir(), `embedrt-xlmr-legacy-${process.pid}.json`);
  const json = JSON.parse(fs.readFileSync(xlmrTokenizerJson, 'utf8')) as { normalizer: { normalizers: unknown[] }; pre_tokenizer: unknown; decoder: unknown };
  const metaspace = { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true };
  fs.writeFileSync(out, JSON.stringify({ ...json, normalizer: json.normalizer.normalizers[0], pre_tokenizer: metaspace, decoder: metaspace }));
  return out;
}

describe.each([
  ['bge-base-en-v1.5', () => bgeTokenizerJson],
  ['all-mpnet-base-v2', () => path.join(mpnetDir(), 'tokenizer.json')],
  ['XLM-RoBERTa-style Unigram', () => xlmrTokenizerJson],
  ['XLM-RoBERTa-style Unigram, older file layout', legacyUnigramFile],
])('against Hugging Face tokenizers, %s tokenizer.json', (_name, file) => {
  beforeAll(() => {
    const f = file();
    ours = Tokenizer.fromFile(f);
    ref = hfTokenizer(f);
    ref.disablePadding(); // all-mpnet-base-v2's file pads to 128
    fileMaxLength = (JSON.parse(fs.readFileSync(f, 'utf8')) as { truncation?: { max_length: number } | null }).truncation?.max_length;
  });

  it('every question and context of the financial QA data (14,000 texts)', async () => {
    const rows = financialQa();
    const texts = rows.flatMap((r) => [r.question, r.context]);
    expect(texts.length).toBe(14_000);
    expect(await compare(texts)).toEqual([]);
    expect(await compare(texts, { maxLength: 32 })).toEqual([]);
    expect(await compare(texts, { addSpecialTokens: false })).toEqual([]);
  });

  it('question/context pairs, with and without longest-first truncation', async () => {
    const rows = financialQa().slice(0, 3000);
    const qs = rows.map((r) => r.question);
    const cs = rows.map((r) => r.context);
    expect(await compare(qs, { pairs: cs })).toEqual([]);
    expect(await compare(qs, { pairs: cs, maxLength: 48 })).toEqual([]);
    expect(await compare(cs, { pairs: qs, maxLength: 20 })).toEqual([]);
  });

  it('100,000 generated strings mixing all Unicode categories and lengths', async () => {
    const gen = makeGenerator(Array.from({ length: ours.vocabSize }, (_, i) => ours.idToToken(i) ?? ''));
    const texts = Array.from({ length: 100_000 }, (_, i) => gen(i + 1));
    expect(new Set(texts).size).toBeGreaterThan(95_000);
    expect(await compare(texts)).toEqual([]);
    const some = texts.slice(0, 20_000);
    expect(await compare(some, { maxLength: 24 })).toEqual([]);
    expect(await compare(some.slice(0, 10_000), { pairs: some.slice(10_000), maxLength: 40 })).toEqual([]);
  }, 300_000);

  it('every Unicode code point, inside a word and alone', async () => {
    const texts: string[] = [];
    for (let cp = 0; cp < 0x110000; cp++) {
      const c = cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      texts.push(`a${c}b ${c}`);
    }
    expect(await compare(texts)).toEqual([]);
  }, 300_000);

  it('curated edge cases', async () => {
    const long = 'The company reported revenue growth of 12% year over year. '.repeat(20_000); // > 1 MB
    const texts = [
      '',
      ' ',
      '\t\n\r\v\f',
      '\0',
      '\u0000abc\u0000',
      '\ufffd',
      '\ud800',
      'a\udc00b',
      '\ud83d\ude00',
      '[CLS]',
      '[SEP] [SEP]',
      'x[SEP]y',
      '[sep]',
      '[MASK]ed',
      '<mask>',
      'a <mask> b',
      'a  \t<mask>  b',
      '\u3000<mask>\u00a0x',
      'x<mask>y <mask><mask>',
      '<s>a</s> <pad> <unk>',
      'İstanbul İİ',
      'ΣΟΦΙΑ ὈΔΥΣΣΕΎΣ',
      'ﬁﬂ ﬃ',
      'Ａｐｐｌｅ １２３',
      '東京都の人口は約1400万人です。',
      '한국어 텍스트 처리',
      'مرحبا بالعالم',
      'שָׁלוֹם עוֹלָם',
      '\u202eevil\u202c',
      'e\u0301 e\u0301\u0301 \u0301',
      'q\u0307\u0323',
      'ｅ\u0301 Ａ\u030a ﬁ\u0301 ™\u001eg \u0001abc café  \t',
      'Der Umsatz stieg um zwölf Prozent. Выручка выросла. 営業収益は増加した。 राजस्व बढ़कर। รายได้เพิ่มขึ้น',
      'a\u200bb\u200dc\ufeffd',
      '👨‍👩‍👧‍👦 🇺🇸 👍🏽 ❤️',
      'x'.repeat(100),
      'x'.repeat(101),
      'é'.repeat(101),
      `${'ab'.repeat(60)}!`,
      '$1,234.56 (10-K) — “quoted” ‘single’ … ¿qué?',
      long,
      `${long}\ud800${long.slice(0, 1000)}`,
    ];
    expect(long.length).toBeGreaterThan(1_000_000);
    expect(await compare(texts)).toEqual([]);
    expect(await compare(texts, { maxLength: 8 })).toEqual([]);
    expect(await compare(texts, { maxLength: 512 })).toEqual([]);
  });

  it('decode matches, with and without special tokens', async () => {
    const texts = financialQa().slice(0, 300).map((r) => r.context);
    texts.push('Hello , world ! it \' s n\'t [SEP] ## ##a', 'naïve café 東京');
    for (const text of texts) {
      const ids = Array.from(ours.encode(text).ids);
      expect(ours.decode(ids)).toBe(await ref.decode(ids, true));
      expect(ours.decode(ids, { skipSpecialTokens: false })).toBe(await ref.decode(ids, false));
    }
  });
});
