// Unknown option names are errors in every public call, with a did-you-mean: an option silently ignored
// (sentence-transformers' `normalize_embeddings`) gives a wrong answer that looks right.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EmbedrtError,
  SentenceTransformer,
  Tokenizer,
  downloadModel,
  evaluateIR,
  generateTestModel,
  paraphraseMining,
  quantizeEmbeddings,
  semanticSearch,
  semanticSearchQuantized,
  similarity,
} from '../lib/index.js';
import { didYouMean } from '../lib/validate.js';
import { bgeDir } from './helpers/data.js';
import { makeModel, tempDir } from './helpers/models.js';

let root: string;
let model: SentenceTransformer;
let tok: Tokenizer;

beforeAll(async () => {
  root = tempDir('options');
  model = await SentenceTransformer.load(makeModel(root, 'tiny', { pooling: 'mean' }), { cacheDir: path.join(root, 'cache') });
  tok = await Tokenizer.load(bgeDir);
});
afterAll(() => {
  model?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

async function rejection(f: () => unknown): Promise<EmbedrtError> {
  let error: unknown;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected an error').toBeInstanceOf(EmbedrtError);
  expect((error as EmbedrtError).code).toBe('E_BAD_INPUT');
  return error as EmbedrtError;
}

const m = [new Float32Array([1, 0]), new Float32Array([0, 1])];

describe('unknown options', () => {
  it('sentence-transformers names in encode are errors naming embedrt’s option, and nothing is computed', async () => {
    const e1 = await rejection(() => model.encode(['a'], { normalize_embeddings: true } as never));
    expect(e1.message).toBe(`encode: unknown option options.normalize_embeddings (did you mean normalize?); known: batchSize, maxBatchTokens, normalize, truncateDim, prompt, promptName, onProgress, signal, precision, outputValue`);
    expect((await rejection(() => model.encode(['a'], { truncate_dim: 64 } as never))).message).toMatch(/options\.truncate_dim \(did you mean truncateDim\?\)/);
    expect((await rejection(() => model.encode(['a'], { batch_size: 8 } as never))).message).toMatch(/did you mean batchSize\?/);
    expect((await rejection(() => model.encode(['a'], { show_progress_bar: true } as never))).message).toMatch(/did you mean onProgress\?/);
    expect((await rejection(() => model.encode(['a'], { normalise: true } as never))).message).toMatch(/did you mean normalize\?/);
    // Nothing close: no guess, the list of known names.
    const far = await rejection(() => model.encode(['a'], { convert_to_tensor: true } as never));
    expect(far.message).not.toMatch(/did you mean/);
    expect(far.message).toMatch(/known: batchSize/);
  });

  it('every public call checks its option names', async () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['load', () => SentenceTransformer.load(root, { truncate_dim: 64 } as never), /^load: unknown option options\.truncate_dim \(did you mean truncateDim\?\)/],
      ['load hub', () => SentenceTransformer.load(root, { hub: { endpiont: 'x' } } as never), /^load: unknown option options\.hub\.endpiont \(did you mean endpoint\?\)/],
      // revision is load's own option, not one of options.hub's.
      ['load hub revision', () => SentenceTransformer.load(root, { hub: { revision: 'v1' } } as never), /^load: options\.hub\.revision is not an option of load; give the revision as options\.revision$/],
      ['Tokenizer.load', () => Tokenizer.load(bgeDir, { sigal: undefined } as never), /^Tokenizer\.load: unknown option options\.sigal \(did you mean signal\?\)/],
      ['tokenizer encode', () => tok.encode('a', { add_special_tokens: false } as never), /^encode: unknown option options\.add_special_tokens \(did you mean addSpecialTokens\?\)/],
      ['encodeBatch', () => tok.encodeBatch(['a'], { max_length: 8 } as never), /^encodeBatch: unknown option options\.max_length \(did you mean maxLength\?\)/],
      ['decode', () => tok.decode([101], { skip_special_tokens: true } as never), /^decode: unknown option options\.skip_special_tokens \(did you mean skipSpecialTokens\?\)/],
      ['similarity', () => similarity(m, m, { score_function: 'dot' } as never), /^similarity: unknown option options\.score_function \(did you mean scoreFunction\?\)/],
      ['semanticSearch', () => semanticSearch(m, m, { top_k: 1 } as never), /^semanticSearch: unknown option options\.top_k \(did you mean topK\?\)/],
      ['quantizeEmbeddings', () => quantizeEmbeddings(m, 'int8', { calibation: m } as never), /^quantizeEmbeddings: unknown option options\.calibation \(did you mean calibration\?\)/],
      ['semanticSearchQuantized', () => semanticSearchQuantized(m as never, m as never, { topk: 1 } as never), /^semanticSearchQuantized: unknown option options\.topk \(did you mean topK\?\)/],
      ['rescore', () => semanticSearchQuantized(m as never, m as never, { rescore: { queries: m, corpus: m, multipler: 2 } } as never), /^semanticSearchQuantized: unknown option options\.rescore\.multipler \(did you mean multiplier\?\)/],
      ['paraphraseMining', () => paraphraseMining(m, { max_pairs: 3 } as never), /^paraphraseMining: unknown option options\.max_pairs \(did you mean maxPairs\?\)/],
      ['evaluateIR', () => evaluateIR({ queries: { q: 'a' }, corpus: { d: 'b' }, relevantDocs: { q: ['d'] } }, model, { truncate_dims: [2] } as never), /^evaluateIR: unknown option options\.truncate_dims/],
      ['downloadModel', () => downloadModel('org/name', { ofline: true } as never), /^downloadModel: unknown option options\.ofline \(did you mean offline\?\)/],
      ['generateTestModel', () => generateTestModel(path.join(root, 'x'), { tokenizerDir: bgeDir, seeed: 1 } as never), /^generateTestModel: unknown option options\.seeed \(did you mean seed\?\)/],
    ];
    for (const [name, call, message] of cases) {
      const e = await rejection(call);
      expect(e.message, name).toMatch(message);
    }
    expect(fs.existsSync(path.join(root, 'x')), 'generateTestModel wrote nothing').toBe(false);
  });

  it('known options still work, null and undefined values among them', async () => {
    const e = await model.encode(['a'], { normalize: true, truncateDim: 8, batchSize: undefined, promptName: null } as unknown as { normalize: boolean });
    expect(e.dim).toBe(8);
    expect(Math.hypot(...e.row(0))).toBeCloseTo(1, 5);
  });

  it('didYouMean: aliases, camelCase, capitalisation, small typos, nothing when far', () => {
    const known = ['normalize', 'truncateDim', 'batchSize', 'onProgress', 'topK'];
    expect(didYouMean('normalize_embeddings', known)).toBe('normalize');
    expect(didYouMean('truncate-dim', known)).toBe('truncateDim');
    expect(didYouMean('BATCHSIZE', known)).toBe('batchSize');
    expect(didYouMean('topk', known)).toBe('topK');
    expect(didYouMean('onProgres', known)).toBe('onProgress');
    expect(didYouMean('device', known)).toBeUndefined();
    expect(didYouMean('x', known)).toBeUndefined();
  });
});
