// Every error code the native side can raise is one of lib/errors.ts's ErrorCode: a code JS callers
// cannot name in a switch would be a broken contract.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, quantizeEmbeddings, semanticSearch, semanticSearchQuantized, similarity } from '../lib/index.js';
import { makeModel, tempDir } from './helpers/models.js';

const root = path.resolve(import.meta.dirname, '..');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('error codes', () => {
  it('every "E_…" string in native/ is a member of ErrorCode', () => {
    const union = fs.readFileSync(path.join(root, 'lib', 'errors.ts'), 'utf8').match(/export type ErrorCode =([^;]*);/)![1]!;
    const declared = new Set([...union.matchAll(/'(E_[A-Z_]+)'/g)].map((m) => m[1]!));
    const used = new Set<string>();
    for (const f of filesUnder(path.join(root, 'native')).filter((f) => /\.(cc|h)$/.test(f))) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/"(E_[A-Z_]+)"/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((c) => !declared.has(c))).toEqual([]);
  });
});

describe('native rejections keep the caller\'s stack', () => {
  // An error raised on a native worker thread has no JS stack of its own; each async API records its
  // caller's before the call, so the stack names the line that called embedrt.
  const here = path.basename(import.meta.filename);
  const nan = new Float32Array([1, 0, NaN, 1]);
  const ok = new Float32Array([1, 0, 0, 1]);
  const m = (data: Float32Array) => ({ data, rows: 2, dim: 2 });
  const cases: [string, () => Promise<unknown>][] = [
    ['similarity', () => similarity(m(nan), m(ok))],
    ['semanticSearch', () => semanticSearch(m(nan), m(ok))],
    ['quantizeEmbeddings', () => quantizeEmbeddings(m(nan), 'int8')],
    ['semanticSearchQuantized', async () => {
      const q = await quantizeEmbeddings(m(ok), 'int8');
      return semanticSearchQuantized(q, q, { rescore: { queries: m(nan), corpus: m(ok) } });
    }],
    ['SentenceTransformer.load', () => {
      const dir = makeModel(tempDir('stack'), 'm');
      const bad = path.join(dir, 'broken.onnx');
      fs.writeFileSync(bad, 'not an onnx graph');
      return SentenceTransformer.load(dir, { onnxFile: 'broken.onnx', cacheDir: path.join(dir, 'cache') });
    }],
  ];
  it.each(cases)('%s', async (_, call) => {
    const e = (await call().then(() => undefined, (err: unknown) => err)) as EmbedrtError;
    expect(e).toBeInstanceOf(EmbedrtError);
    expect(e.stack).toContain(here);
  });
});
