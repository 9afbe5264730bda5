// model.encodeIds: token ids as Hugging Face tokenizers (the npm package, the reference) gives them for a
// text — special tokens included — embed to exactly what model.encode gives the text itself, in every
// output (sentence embeddings with options, quantized, token embeddings); bad ids are E_BAD_INPUT naming
// the input and the id.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, TokenEmbeddings } from '../../lib/index.js';
import { financialQa } from '../helpers/data.js';
import { hfTokenizer } from '../helpers/hf.js';
import { makeModel, miniLmDir, tempDir } from '../helpers/models.js';
import { expectCode } from '../robustness/harness.js';

let root: string;
const models: Record<string, SentenceTransformer> = {};
beforeAll(async () => {
  root = tempDir('encode-ids');
  const cacheDir = path.join(root, 'cache');
  models.minilm = await SentenceTransformer.load(miniLmDir(), { cacheDir });
  // CLS-pooled, as the flagship: a CLS-only graph (token embeddings from the full one).
  models.cls = await SentenceTransformer.load(makeModel(root, 'cls', { pooling: 'cls', seed: 3 }), { cacheDir });
});
afterAll(() => {
  for (const m of Object.values(models)) m.dispose();
});

const rows = financialQa();
// Questions and passages of mixed lengths, one longer than any model's max_seq_length.
const texts = [rows[0]!.question, rows[1]!.context, 'a', rows[2]!.context.repeat(40), rows[3]!.question, rows[4]!.context];

async function referenceIds(model: SentenceTransformer): Promise<number[][]> {
  const hf = hfTokenizer(path.join(model.dir, 'tokenizer.json'));
  hf.setTruncation(model.maxSeqLength); // as sentence-transformers cuts a text: the last special token kept
  // Without the padding MiniLM's tokenizer.json asks for (to 128): the ids its attention mask covers.
  return (await hf.encodeBatch(texts)).map((e) => e.getIds().filter((_, t) => e.getAttentionMask()[t] === 1));
}

describe('encodeIds', () => {
  for (const name of ['minilm', 'cls']) {
    it(`${name}: the tokenizer's ids of a text embed to the text's own embedding, bit for bit`, async () => {
      const model = models[name]!;
      const ids = await referenceIds(model);
      expect(ids[3]!.length).toBe(model.maxSeqLength); // the long text was cut
      const fromText = await model.encode(texts);
      const fromIds = await model.encodeIds(ids);
      expect([fromIds.rows, fromIds.dim]).toEqual([fromText.rows, fromText.dim]);
      expect(Array.from(fromIds.data)).toEqual(Array.from(fromText.data));
      // Typed arrays too, and encode's options.
      const opts = { normalize: true, truncateDim: 16 } as const;
      const typed = await model.encodeIds(ids.map((r) => Int32Array.from(r)), opts);
      expect(Array.from(typed.data)).toEqual(Array.from((await model.encode(texts, opts)).data));
      const q = await model.encodeIds(ids, { precision: 'int8' });
      expect(Array.from(q.data)).toEqual(Array.from((await model.encode(texts, { precision: 'int8' })).data));
      const tok = await model.encodeIds(ids, { outputValue: 'token_embeddings' });
      const tokText = await model.encode(texts, { outputValue: 'token_embeddings' });
      tok.forEach((t, i) => {
        expect(t).toBeInstanceOf(TokenEmbeddings);
        expect(t.rows).toBe(ids[i]!.length);
        expect(Array.from(t.data)).toEqual(Array.from(tokText[i]!.data));
      });
    });
  }

  it('bad ids are E_BAD_INPUT naming the input and the id; prompts are not options of it', async () => {
    const model = models.minilm!;
    const vocab = model.tokenizer.vocabSize;
    const good = [101, 2054, 102];
    await expectCode(model.encodeIds('101 2054 102' as never), 'E_BAD_INPUT', /ids must be an array of token id lists, got /);
    await expectCode(model.encodeIds([good, 5 as never]), 'E_BAD_INPUT', /ids\[1\] must be an array of token ids/);
    await expectCode(model.encodeIds([good, []]), 'E_BAD_INPUT', /ids\[1\] is empty/);
    await expectCode(model.encodeIds([[101, 2054, vocab]]), 'E_BAD_INPUT', new RegExp(`ids\\[0\\]\\[2\\] = ${vocab} is not an id of the vocabulary \\(an integer from 0 to ${vocab - 1}\\)`));
    await expectCode(model.encodeIds([[101, -1]]), 'E_BAD_INPUT', /ids\[0\]\[1\] = -1 is not an id/);
    await expectCode(model.encodeIds([[101, 1.5]]), 'E_BAD_INPUT', /ids\[0\]\[1\] = 1.5 is not an id/);
    await expectCode(model.encodeIds([[101, '2054' as never]]), 'E_BAD_INPUT', /ids\[0\]\[1\] must be a token id, got /);
    await expectCode(model.encodeIds([new Array(model.maxSeqLength + 1).fill(1000)]), 'E_BAD_INPUT', new RegExp(`ids\\[0\\] has ${model.maxSeqLength + 1} ids, more than max_seq_length \\(${model.maxSeqLength}\\)`));
    await expectCode(model.encodeIds([good], { prompt: 'query: ' } as never), 'E_BAD_INPUT', /prompt/);
    await expectCode(model.encodeIds([good], { batchSize: 0 }), 'E_BAD_INPUT', /encodeIds: options.batchSize must be a positive integer/);
    const ctl = new AbortController();
    ctl.abort();
    await expectCode(model.encodeIds([good], { signal: ctl.signal }), 'E_ABORTED', /encodeIds: the signal was already aborted/);
    // The longest list it takes, and an empty call.
    expect((await model.encodeIds([new Array(model.maxSeqLength).fill(1000)])).rows).toBe(1);
    expect((await model.encodeIds([])).rows).toBe(0);
  });
});
