// The hostile-caller battery: table-driven cases over every public call, the CLI and model loading.
// Each case names what it does and the exact result it must give: an error code, or 'ok' (with an
// optional check of the value). battery.test.ts runs each group in a child process (battery-run.mjs),
// so a crash or a hang fails the case where it happened instead of the test runner.
//
// A case: { name, run: async (ctx) => value, expect: 'E_…' | 'ok', check?: (value) => boolean }.
// ctx: { m (the package), native (the addon), tiny (a generated model folder), cache, root, hostile(name, edit) }.
// Longer than 400 lines because it is a table: the cases read as one list, grouped by the call they hit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Values a careless or hostile caller passes where something else belongs. */
const JUNK = [
  ['null', null],
  ['a number', 42],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['a string', 'x'],
  ['a boolean', true],
  ['an object', {}],
  ['a symbol', Symbol('s')],
  ['a function', () => 1],
  ['a bigint', 10n],
];
const BAD_COUNTS = [
  ['zero', 0],
  ['negative', -1],
  ['fractional', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['a numeric string', '2'],
  ['past 2^53', 2 ** 60],
];
const BAD_BOOLEANS = [
  ['a string', 'yes'],
  ['a number', 1],
  ['an object', {}],
];
const PROTO_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

const f32 = (n, v = 0.5) => new Float32Array(n).fill(v);
const mat = (rows, dim, v = 0.5) => ({ data: Float32Array.from({ length: rows * dim }, (_, i) => v + ((i * 7919) % 13) / 13), rows, dim });

const group = (name, cases) => ({ name, cases });
const bad = (name, run, code = 'E_BAD_INPUT') => ({ name, run, expect: code });
const ok = (name, run, check) => ({ name, run, expect: 'ok', ...(check ? { check } : {}) });

// ------------------------------------------------------------------------------------------------
const loadCases = [];
for (const [what, v] of [...JUNK.filter(([w]) => w !== 'a string'), ['an empty string', '']]) {
  loadCases.push(bad(`load(${what})`, ({ m }) => m.SentenceTransformer.load(v)));
}
loadCases.push(bad('load(a missing folder that is no hub id)', ({ m, root }) => m.SentenceTransformer.load(path.join(root, 'nope')), 'E_MODEL_FILES'));
loadCases.push(bad('load(a file, not a folder)', ({ m, tiny }) => m.SentenceTransformer.load(path.join(tiny, 'config.json')), 'E_MODEL_FILES'));
for (const [what, v] of JUNK.filter(([w]) => w !== 'an object')) {
  loadCases.push(bad(`load options = ${what}`, ({ m, tiny }) => m.SentenceTransformer.load(tiny, v)));
}
const loadOption = (key, values, code = 'E_BAD_INPUT') => {
  for (const [what, v] of values) {
    loadCases.push(bad(`load options.${key} = ${what}`, ({ m, tiny, cache }) => m.SentenceTransformer.load(tiny, { cacheDir: cache, [key]: v }), code));
  }
};
loadOption('device', [['"gpu"', 'gpu'], ['"constructor"', 'constructor'], ['a number', 1]]);
loadOption('deviceId', [['negative', -1], ['fractional', 0.5], ['huge', 1e9], ['a string', '0']]);
loadOption('threads', BAD_COUNTS);
loadOption('truncateDim', [['zero', 0], ['negative', -4], ['fractional', 2.5], ['a string', '16'], ['past the model', 33]]);
loadOption('quantize', [['"int4"', 'int4'], ['"__proto__"', '__proto__'], ['true', true]]);
loadOption('onnxFile', [['"../x.onnx"', '../x.onnx'], ['an absolute path', '/etc/passwd.onnx'], ['not .onnx', 'config.json'], ['a number', 5]]);
loadOption('signal', [['an object', {}], ['a string', 'abort']]);
loadOption('cacheDir', [['an empty string', ''], ['a number', 7]]);
loadCases.push(bad('load with an aborted signal', ({ m, tiny, cache }) => m.SentenceTransformer.load(tiny, { cacheDir: cache, signal: AbortSignal.abort() }), 'E_ABORTED'));
loadCases.push(bad('load onnxFile that does not exist', ({ m, tiny, cache }) => m.SentenceTransformer.load(tiny, { cacheDir: cache, onnxFile: 'onnx/none.onnx' }), 'E_MODEL_FILES'));
loadCases.push(ok('load with every option null (null means the default)', async ({ m, tiny, cache }) => (await m.SentenceTransformer.load(tiny, { cacheDir: cache, device: null, deviceId: null, threads: null, truncateDim: null, quantize: null, onnxFile: null, signal: null })).dimension, (d) => d === 32));
loadCases.push(ok('load with valid options', async ({ m, tiny, cache }) => (await m.SentenceTransformer.load(tiny, { cacheDir: cache, threads: 1, truncateDim: 16 })).dimension, (d) => d === 16));

// ------------------------------------------------------------------------------------------------
const encodeCases = [];
for (const [what, v] of [...JUNK.filter(([w]) => w !== 'a string'), ['an array holding a number', ['a', 5]], ['an array holding null', [null]], ['a sparse array', ['a', , 'b']]]) {
  encodeCases.push(bad(`encode(${what})`, ({ model }) => model.encode(v)));
}
for (const [what, v] of JUNK.filter(([w]) => w !== 'an object')) {
  encodeCases.push(bad(`encode options = ${what}`, ({ model }) => model.encode('a', v)));
}
const encodeOption = (key, values, code = 'E_BAD_INPUT') => {
  for (const [what, v] of values) encodeCases.push(bad(`encode options.${key} = ${what}`, ({ model }) => model.encode(['a b', 'c'], { [key]: v }), code));
};
encodeOption('batchSize', BAD_COUNTS);
encodeOption('maxBatchTokens', [['below max_seq_length', 10], ['negative', -1], ['a string', '4096'], ['fractional', 600.5]]);
encodeOption('truncateDim', [['zero', 0], ['past the model', 33], ['negative', -1], ['a string', '8']]);
encodeOption('normalize', BAD_BOOLEANS);
encodeOption('prompt', [['a number', 3], ['an object', {}]]);
encodeOption('promptName', [...PROTO_KEYS.map((k) => [JSON.stringify(k), k]), ['a number', 1], ['"missing"', 'missing']]);
encodeOption('onProgress', [['a string', 'log'], ['an object', {}], ['a number', 1]]);
encodeOption('signal', [['an object', {}], ['a string', 'x'], ['an EventTarget', new EventTarget()]]);
encodeCases.push(ok('encode with every option null (null means the default)', async ({ model }) => (await model.encode('a', { batchSize: null, maxBatchTokens: null, truncateDim: null, normalize: null, prompt: null, promptName: null, onProgress: null, signal: null })).dim, (d) => d === 32));
encodeCases.push(bad('encode with prompt and promptName', ({ model }) => model.encode('a', { prompt: 'q: ', promptName: 'q' })));
encodeCases.push(bad('encode with an aborted signal', ({ model }) => model.encode('a', { signal: AbortSignal.abort() }), 'E_ABORTED'));
encodeCases.push(bad('encode after dispose', async ({ m, tiny, cache }) => {
  const mm = await m.SentenceTransformer.load(tiny, { cacheDir: cache });
  mm.dispose();
  mm.dispose();
  return mm.encode('a');
}, 'E_DISPOSED'));
encodeCases.push(bad('encode with a throwing onProgress rejects with its error', ({ model }) => model.encode(['a', 'b'], { onProgress: () => { throw Object.assign(new Error('mine'), { code: 'E_USER' }); } }), 'E_USER'));
for (const [what, text, rows] of [
  ['an empty string', '', 1],
  ['an empty array', [], 0],
  ['a lone surrogate', '\uD800', 1],
  ['NUL characters', 'a\0b\0', 1],
  ['only whitespace', ' \t\n ', 1],
  ['control characters', '\u0001\u0002\u200b', 1],
  ['a 200,000-character text (truncated)', 'word '.repeat(40000), 1],
  ['10,000 texts', Array.from({ length: 10000 }, (_, i) => `t${i}`), 10000],
  ['emoji and CJK', '💥 收入增长 📈', 1],
  ['a combining-mark flood', 'e' + '\u0301'.repeat(100000), 1],
]) {
  encodeCases.push(ok(`encode(${what})`, async ({ model }) => (await model.encode(text)).rows, (r) => r === rows));
}
encodeCases.push(ok('Embeddings.row(out of range) is E_BAD_INPUT', async ({ model }) => {
  const e = await model.encode(['a']);
  try {
    e.row(1);
  } catch (err) {
    return err.code;
  }
  return 'no error';
}, (c) => c === 'E_BAD_INPUT'));

// ------------------------------------------------------------------------------------------------
const tokCases = [];
for (const [what, v] of JUNK.filter(([w]) => w !== 'a string')) {
  tokCases.push(bad(`tokenizer.encode(${what})`, ({ tok }) => tok.encode(v)));
  tokCases.push(bad(`tokenizer.encodeBatch(${what})`, ({ tok }) => tok.encodeBatch(v)));
}
for (const [what, v] of JUNK.filter(([w]) => w !== 'an object')) {
  tokCases.push(bad(`tokenizer.encode options = ${what}`, ({ tok }) => tok.encode('a', v)));
}
for (const [key, values] of [
  ['addSpecialTokens', BAD_BOOLEANS],
  ['maxLength', [['1 (no room for the specials)', 1], ['negative', -5], ['a string', '8'], ['fractional', 4.5]]],
  ['pair', [['a number', 1], ['an array', ['x']], ['null', null]]],
]) {
  for (const [what, v] of values) tokCases.push(bad(`tokenizer.encode options.${key} = ${what}`, ({ tok }) => tok.encode('a b', { [key]: v })));
}
for (const [key, values] of [
  ['padding', [['true', true], ['"max"', 'max'], ['zero', 0], ['negative', -3]]],
  ['padToMultipleOf', [['negative', -8], ['a string', '8'], ['fractional', 2.5]]],
  ['threads', [['negative', -1], ['a string', '2'], ['fractional', 1.5]]],
  ['pair', [['a shorter array', ['x']], ['a string', 'x'], ['an array with a number', ['x', 2]]]],
]) {
  for (const [what, v] of values) tokCases.push(bad(`tokenizer.encodeBatch options.${key} = ${what}`, ({ tok }) => tok.encodeBatch(['a', 'b'], { [key]: v })));
}
for (const [what, v] of [['null', null], ['a number', 5], ['a string', 'abc'], ['[-1]', [-1]], ['[1.5]', [1.5]], ['[2^31]', [2 ** 31]], ['[NaN]', [NaN]], ["['101']", ['101']]]) {
  tokCases.push(bad(`tokenizer.decode(${what})`, ({ tok }) => tok.decode(v)));
}
tokCases.push(bad('tokenizer.decode options.skipSpecialTokens = "no"', ({ tok }) => tok.decode([101], { skipSpecialTokens: 'no' })));
for (const [what, v] of [['2^32 + 101', 2 ** 32 + 101], ['-1', -1], ['1.5', 1.5], ['NaN', NaN], ['"101"', '101'], ['null', null], ['2^31', 2 ** 31]]) {
  tokCases.push(ok(`tokenizer.idToToken(${what}) is undefined`, ({ tok }) => tok.idToToken(v) ?? 'undefined', (x) => x === 'undefined'));
}
for (const [what, v] of [['a number', 5], ['null', null], ['an object', {}]]) {
  tokCases.push(bad(`tokenizer.tokenToId(${what})`, ({ tok }) => tok.tokenToId(v)));
}
tokCases.push(ok('tokenizer.tokenToId("__proto__") is undefined', ({ tok }) => tok.tokenToId('__proto__') ?? 'undefined', (x) => x === 'undefined'));
tokCases.push(ok('tokenizer.decode of an unknown id is empty for it', ({ tok }) => tok.decode([999999]), (x) => typeof x === 'string'));
tokCases.push(ok('tokenizer: 1 MB of alternating combining marks under a second', ({ tok }) => {
  const t0 = Date.now();
  tok.encode('a' + '\u0301\u0316'.repeat(262144));
  return Date.now() - t0;
}, (ms) => ms < 1000));
tokCases.push(ok('tokenizer: a 1 MB word under a second', ({ tok }) => {
  const t0 = Date.now();
  tok.encode('x'.repeat(1 << 20));
  return Date.now() - t0;
}, (ms) => ms < 1000));
for (const [what, v] of [['a number', 1], ['an empty string', ''], ['null', null]]) {
  tokCases.push(bad(`Tokenizer.fromPretrained(${what})`, ({ m }) => m.Tokenizer.fromPretrained(v)));
}
tokCases.push(bad('Tokenizer.fromFile(a missing file)', ({ m, root }) => m.Tokenizer.fromFile(path.join(root, 'none.json')), 'E_MODEL_FILES'));
tokCases.push(bad('Tokenizer.fromFile(/dev/zero)', ({ m }) => m.Tokenizer.fromFile('/dev/zero'), 'E_MODEL_FILES'));
tokCases.push(bad('Tokenizer.fromFile(a folder)', ({ m, root }) => m.Tokenizer.fromFile(root), 'E_MODEL_FILES'));

// ------------------------------------------------------------------------------------------------
const searchCases = [];
const A = () => mat(3, 8);
const calls = {
  similarity: (m, a, b, o) => m.similarity(a, b, o),
  semanticSearch: (m, a, b, o) => m.semanticSearch(a, b, o),
};
for (const [fname, call] of Object.entries(calls)) {
  for (const [what, v] of [
    ...JUNK.filter(([w]) => w !== 'an object'),
    ['an object without data', { rows: 1, dim: 2 }],
    ['Float64Array data', { data: new Float64Array(4), rows: 2, dim: 2 }],
    ['negative shape', { data: f32(6), rows: -2, dim: -3 }],
    ['shape past its data', { data: f32(6), rows: 4, dim: 2 }],
    ['fractional rows', { data: f32(6), rows: 1.5, dim: 2 }],
    ['rows as a string', { data: f32(6), rows: '3', dim: 2 }],
    ['an empty matrix', { data: f32(0), rows: 0, dim: 8 }],
    ['an empty array', []],
    ['a sparse array of vectors', [f32(8), , f32(8)]],
    ['vectors of different lengths', [f32(8), f32(7)]],
    ['a vector holding a string', [[1, 2, 3, 4, 5, 6, 7, 'x']]],
    ['a NaN', { data: Float32Array.of(NaN, 1, 1, 1, 1, 1, 1, 1), rows: 1, dim: 8 }],
    ['an Infinity', { data: Float32Array.of(1, 1, 1, -Infinity, 1, 1, 1, 1), rows: 1, dim: 8 }],
    ['other dimensions', mat(2, 4)],
  ]) {
    searchCases.push(bad(`${fname}(a = ${what})`, ({ m }) => call(m, v, A())));
    searchCases.push(bad(`${fname}(b = ${what})`, ({ m }) => call(m, A(), v)));
  }
  for (const [what, v] of [...JUNK.filter(([w]) => w !== 'an object')]) {
    searchCases.push(bad(`${fname} options = ${what}`, ({ m }) => call(m, A(), A(), v)));
  }
  for (const k of [...PROTO_KEYS, 'manhattan', 'COSINE']) {
    searchCases.push(bad(`${fname} scoreFunction = ${JSON.stringify(k)}`, ({ m }) => call(m, A(), A(), { scoreFunction: k })));
  }
}
for (const [what, v] of BAD_COUNTS) searchCases.push(bad(`semanticSearch topK = ${what}`, ({ m }) => m.semanticSearch(A(), A(), { topK: v })));
for (const k of ['queryChunkSize', 'corpusChunkSize']) {
  for (const [what, v] of [['zero', 0], ['negative', -1], ['a string', '10']]) searchCases.push(bad(`semanticSearch ${k} = ${what}`, ({ m }) => m.semanticSearch(A(), A(), { [k]: v })));
}
searchCases.push(ok('semanticSearch topK past the corpus gives every row', async ({ m }) => (await m.semanticSearch(A(), A(), { topK: 1e9 }))[0].length, (n) => n === 3));
searchCases.push(ok('similarity of a subarray view', async ({ m }) => {
  const big = mat(10, 8);
  return (await m.similarity({ data: big.data.subarray(8), rows: 2, dim: 8 }, A())).data.length;
}, (n) => n === 6));
for (const p of ['int4', 'float16', ...PROTO_KEYS]) searchCases.push(bad(`quantizeEmbeddings precision = ${JSON.stringify(p)}`, ({ m }) => m.quantizeEmbeddings(A(), p)));
for (const [what, v] of [['a short Float32Array', f32(3)], ['a string', 'minmax'], ['one row', [[0, 0]]], ['rows of strings', [['a'], ['b']]]]) {
  searchCases.push(bad(`quantizeEmbeddings ranges = ${what}`, ({ m }) => m.quantizeEmbeddings(A(), 'int8', { ranges: v })));
}
searchCases.push(bad('quantizeEmbeddings calibration of other dimensions', ({ m }) => m.quantizeEmbeddings(A(), 'int8', { calibration: mat(2, 4) })));
searchCases.push(bad('quantizeEmbeddings of a NaN', ({ m }) => m.quantizeEmbeddings({ data: Float32Array.of(NaN, 1), rows: 1, dim: 2 }, 'int8')));
const q8 = (m) => m.quantizeEmbeddings(A(), 'int8');
for (const [what, forge] of [
  ['rows past its data', (q) => ({ ...q, rows: 100000 })],
  ['width past its data', (q) => ({ ...q, width: 1000, dim: 1000 })],
  ['negative rows', (q) => ({ ...q, rows: -1 })],
  ['a Float32Array', (q) => ({ ...q, data: new Float32Array(24) })],
  ['a Uint8Array for int8', (q) => ({ ...q, data: new Uint8Array(24) })],
  ['precision "__proto__"', (q) => ({ ...q, precision: '__proto__' })],
  ['width not matching dim', (q) => ({ ...q, dim: 9 })],
  ['null', () => null],
  ['zero width', (q) => ({ ...q, width: 0, dim: 0 })],
]) {
  searchCases.push(bad(`semanticSearchQuantized(queries: ${what})`, async ({ m }) => {
    const q = await q8(m);
    return m.semanticSearchQuantized(forge(q), q);
  }));
  searchCases.push(bad(`semanticSearchQuantized(corpus: ${what})`, async ({ m }) => {
    const q = await q8(m);
    return m.semanticSearchQuantized(q, forge(q));
  }));
}
searchCases.push(bad('semanticSearchQuantized int8 against binary', async ({ m }) => m.semanticSearchQuantized(await q8(m), await m.quantizeEmbeddings(mat(3, 64), 'binary'))));
for (const [what, r] of [['a string', 'yes'], ['multiplier 0', { queries: A(), corpus: A(), multiplier: 0 }], ['rows not matching', { queries: mat(2, 8), corpus: A() }], ['null', null]]) {
  searchCases.push(bad(`semanticSearchQuantized rescore = ${what}`, async ({ m }) => {
    const q = await q8(m);
    return m.semanticSearchQuantized(q, q, { rescore: r });
  }));
}
for (const [what, o] of [['topK 0', { topK: 0 }], ['maxPairs 1', { maxPairs: 1 }], ['topK "5"', { topK: '5' }], ['null options', null]]) {
  searchCases.push(bad(`paraphraseMining ${what}`, ({ m }) => m.paraphraseMining(A(), o)));
}
for (const [what, a, b] of [['a number', 1, f32(2)], ['lengths that differ', f32(2), f32(3)], ['empty arrays', f32(0), f32(0)], ['Float64Arrays', new Float64Array(2), new Float64Array(2)], ['plain arrays', [1, 2], [1, 2]]]) {
  searchCases.push(bad(`cosineSimilarity(${what})`, ({ m }) => m.cosineSimilarity(a, b)));
  searchCases.push(bad(`dotProduct(${what})`, ({ m }) => m.dotProduct(a, b)));
}
// The native seam re-checks shapes itself: forged calls that bypass lib/ are coded errors, never reads
// past a buffer.
for (const [what, args] of [
  ['similarity rows past the data', ['similarity', f32(8), 100, f32(8), 1, 8, 0]],
  ['similarity negative dim', ['similarity', f32(8), 1, f32(8), 1, -8, 0]],
  ['similarity an unknown score', ['similarity', f32(8), 1, f32(8), 1, 8, 9]],
  ['similarity a string for data', ['similarity', 'abc', 1, f32(8), 1, 8, 0]],
  ['semanticSearch corpus past its data', ['semanticSearch', f32(8), 1, f32(8), 1e6, 8, 5, 0]],
  ['semanticSearch negative topK', ['semanticSearch', f32(8), 1, f32(8), 1, 8, -5, 0]],
  ['searchQuantized rows past the data', ['searchQuantized', new Int8Array(8), 1, new Int8Array(16), 100000, 1000, 5, 0, null]],
  ['searchQuantized a Float64Array', ['searchQuantized', new Float64Array(1), 1, new Int8Array(8), 1, 8, 5, 0, null]],
  ['searchQuantized an unknown kind', ['searchQuantized', new Int8Array(8), 1, new Int8Array(8), 1, 8, 5, 7, null]],
  ['searchQuantized rescore rows past the data', ['searchQuantized', new Int8Array(8), 1, new Int8Array(16), 2, 8, 5, 0, { queries: f32(8), corpus: f32(8), dim: 8, topK: 1, score: 0 }]],
  ['quantize ranges too short', ['quantize', f32(8), 1, 8, 0, f32(2), null, 0]],
  ['quantize calibration past its data', ['quantize', f32(8), 1, 8, 0, null, f32(8), 99]],
]) {
  searchCases.push(bad(`native ${what}`, ({ native }) => native[args[0]](...args.slice(1))));
}

// ------------------------------------------------------------------------------------------------
const evalCases = [];
const goodData = () => ({ queries: { q1: 'revenue' }, corpus: { d1: 'revenue grew', d2: 'loss' }, relevantDocs: { q1: ['d1'] } });
for (const [what, d] of [
  ['null', null],
  ['a string', 'data'],
  ['no queries', { corpus: {}, relevantDocs: {} }],
  ['queries as an array', { ...goodData(), queries: ['revenue'] }],
  ['a query that is a number', { ...goodData(), queries: { q1: 5 } }],
  ['relevantDocs as a string', { ...goodData(), relevantDocs: { q1: 'd1' } }],
  ['no relevant documents', { ...goodData(), relevantDocs: {} }],
  ['an empty corpus', { ...goodData(), corpus: {} }],
]) {
  evalCases.push(bad(`evaluateIR(data = ${what})`, ({ m, model }) => m.evaluateIR(d, model)));
}
for (const [what, model] of [['null', null], ['an object without encode', {}], ['a function', () => 1]]) {
  evalCases.push(bad(`evaluateIR(model = ${what})`, ({ m }) => m.evaluateIR(goodData(), model)));
}
for (const [what, o] of [['null options', null], ['dims [0]', { dims: [0] }], ['dims past the model', { dims: [64] }], ['accuracyAtK []', { accuracyAtK: [] }], ['scoreFunctions ["constructor"]', { scoreFunctions: ['constructor'] }], ['onProgress a string', { onProgress: 'x' }]]) {
  evalCases.push(bad(`evaluateIR options ${what}`, ({ m, model }) => m.evaluateIR(goodData(), model, o)));
}
evalCases.push(ok('evaluateIR on a tiny set', async ({ m, model }) => Object.keys(await m.evaluateIR(goodData(), model, { dims: [32] })), (k) => k.join() === '32'));

// ------------------------------------------------------------------------------------------------
// Hostile model folders: corrupted copies of the generated model, each checked before any large
// allocation (a file costs memory proportional to its size, never to a number written inside it).
const folderCases = [];
const json = (file, f) => (dir) => {
  const p = path.join(dir, file);
  const j = JSON.parse(fs.readFileSync(p, 'utf8'));
  f(j);
  fs.writeFileSync(p, JSON.stringify(j));
};
const write = (file, text) => (dir) => fs.writeFileSync(path.join(dir, file), text);
const remove = (file) => (dir) => fs.rmSync(path.join(dir, file), { recursive: true, force: true });
const link = (file, target) => (dir) => {
  fs.rmSync(path.join(dir, file), { recursive: true, force: true });
  fs.symlinkSync(target, path.join(dir, file));
};
const fifo = (file) => (dir) => {
  fs.rmSync(path.join(dir, file), { force: true });
  execFileSync('mkfifo', [path.join(dir, file)]);
};
const folder = (name, edit, code) => ({
  name: `folder: ${name}`,
  run: async ({ m, hostile, cache }) => {
    const mm = await m.SentenceTransformer.load(hostile(name, edit), { cacheDir: cache });
    const e = await mm.encode(['revenue grew in 2023', 'x']);
    mm.dispose();
    return e.rows;
  },
  expect: code,
});
for (const file of ['config.json', 'tokenizer.json', 'modules.json', '1_Pooling/config.json', 'sentence_bert_config.json', 'config_sentence_transformers.json']) {
  folderCases.push(folder(`${file} empty`, write(file, ''), 'E_MODEL_FILES'));
  folderCases.push(folder(`${file} not JSON`, write(file, '{"a": '), 'E_MODEL_FILES'));
  folderCases.push(folder(`${file} a JSON number`, write(file, '42'), 'E_MODEL_FILES'));
  folderCases.push(folder(`${file} → /dev/zero`, link(file, '/dev/zero'), 'E_MODEL_FILES'));
  folderCases.push(folder(`${file} a FIFO`, fifo(file), 'E_MODEL_FILES'));
  folderCases.push(folder(`${file} → /etc/hostname`, link(file, '/etc/hostname'), 'E_MODEL_FILES'));
  folderCases.push(folder(`${file} a folder`, (d) => {
    remove(file)(d);
    fs.mkdirSync(path.join(d, file));
  }, 'E_MODEL_FILES'));
}
folderCases.push(folder('config.json missing', remove('config.json'), 'E_MODEL_FILES'));
folderCases.push(folder('tokenizer.json missing (vocab.txt used)', (d) => {
  remove('tokenizer.json')(d);
  fs.writeFileSync(path.join(d, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'revenue', 'grew'].join('\n'));
}, 'ok'));
folderCases.push(folder('no tokenizer at all', (d) => {
  remove('tokenizer.json')(d);
  remove('vocab.txt')(d);
}, 'E_MODEL_FILES'));
folderCases.push(folder('model.safetensors missing', remove('model.safetensors'), 'E_MODEL_FILES'));
folderCases.push(folder('model.safetensors empty', write('model.safetensors', ''), 'E_MODEL_FILES'));
folderCases.push(folder('model.safetensors → /dev/zero', link('model.safetensors', '/dev/zero'), 'E_MODEL_FILES'));
folderCases.push(folder('model.safetensors a FIFO', fifo('model.safetensors'), 'E_MODEL_FILES'));
folderCases.push(folder('model.safetensors truncated', (d) => fs.truncateSync(path.join(d, 'model.safetensors'), 5000), 'E_MODEL_FILES'));
folderCases.push(folder('safetensors header size 2^63', (d) => {
  const p = path.join(d, 'model.safetensors');
  const b = fs.readFileSync(p);
  b.writeBigUInt64LE(2n ** 63n, 0);
  fs.writeFileSync(p, b);
}, 'E_MODEL_FILES'));
const safetensorsHeader = (edit) => (d) => {
  const p = path.join(d, 'model.safetensors');
  const b = fs.readFileSync(p);
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  // The same data after a header of a new length (offsets are relative to the data, so they hold).
  const text = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(text.length), 0);
  fs.writeFileSync(p, Buffer.concat([size, text, b.subarray(8 + n)]));
};
const firstTensor = (h) => Object.keys(h).find((k) => k !== '__metadata__');
folderCases.push(folder('safetensors negative shape', safetensorsHeader((h) => (h[firstTensor(h)].shape = h[firstTensor(h)].shape.map((x) => -x))), 'E_MODEL_FILES'));
folderCases.push(folder('safetensors shape of 10^12 elements', safetensorsHeader((h) => (h[firstTensor(h)].shape = [1e6, 1e6])), 'E_MODEL_FILES'));
folderCases.push(folder('safetensors offsets past the file', safetensorsHeader((h) => (h[firstTensor(h)].data_offsets = [0, 1e12])), 'E_MODEL_FILES'));
folderCases.push(folder('safetensors fractional offsets', safetensorsHeader((h) => (h[firstTensor(h)].data_offsets = [0.5, 4.5])), 'E_MODEL_FILES'));
folderCases.push(folder('safetensors dtype "F128"', safetensorsHeader((h) => (h[firstTensor(h)].dtype = 'F128')), 'E_MODEL_FILES'));
folderCases.push(folder('safetensors tensor named "__proto__"', safetensorsHeader((h) => {
  const k = firstTensor(h);
  h.__proto__x = h[k];
}), 'ok'));
for (const [key, v, code] of [
  ['model_type', 'gpt2', 'E_UNSUPPORTED'],
  ['model_type', undefined, 'E_UNSUPPORTED'],
  ['hidden_size', -32, 'E_MODEL_FILES'],
  ['hidden_size', 1e9, 'E_MODEL_FILES'],
  ['hidden_size', '32', 'E_MODEL_FILES'],
  ['num_attention_heads', 5, 'E_MODEL_FILES'],
  ['num_hidden_layers', 1e6, 'E_MODEL_FILES'],
  ['num_hidden_layers', 0, 'E_MODEL_FILES'],
  ['intermediate_size', 2 ** 40, 'E_MODEL_FILES'],
  ['vocab_size', 2 ** 31, 'E_MODEL_FILES'],
  ['max_position_embeddings', 1e12, 'E_MODEL_FILES'],
  ['hidden_act', 'swish', 'E_UNSUPPORTED'],
  ['position_embedding_type', 'relative_key', 'E_UNSUPPORTED'],
  ['layer_norm_eps', 'small', 'E_MODEL_FILES'],
]) {
  folderCases.push(folder(`config.json ${key} = ${JSON.stringify(v)}`, json('config.json', (j) => (j[key] = v)), code));
}
for (const [what, edit, code] of [
  ['vocab id 2^31 - 1', (j) => (j.model.vocab.x = 2147483647), 'E_MODEL_FILES'],
  ['vocab id 2e7', (j) => (j.model.vocab.x = 2e7), 'E_MODEL_FILES'],
  ['vocab id negative', (j) => (j.model.vocab.x = -1), 'E_MODEL_FILES'],
  ['vocab id a string', (j) => (j.model.vocab.x = '5'), 'E_MODEL_FILES'],
  ['vocab two tokens, one id', (j) => (j.model.vocab.xyzzy = 100), 'E_MODEL_FILES'],
  ['vocab an array', (j) => (j.model.vocab = ['a']), 'E_MODEL_FILES'],
  ['unk_token missing from vocab', (j) => (j.model.unk_token = '<nope>'), 'E_MODEL_FILES'],
  ['model type BPE', (j) => (j.model.type = 'BPE'), 'E_UNSUPPORTED'],
  ['normalizer type NFKC', (j) => (j.normalizer = { type: 'NFKC' }), 'E_UNSUPPORTED'],
  ['normalizer lowercase "yes"', (j) => (j.normalizer.lowercase = 'yes'), 'E_MODEL_FILES'],
  ['single template with B', (j) => (j.post_processor.single = [{ Sequence: { id: 'B', type_id: 0 } }]), 'E_MODEL_FILES'],
  ['single template with C', (j) => (j.post_processor.single = [{ Sequence: { id: 'C', type_id: 0 } }]), 'E_MODEL_FILES'],
  ['pair template without B', (j) => (j.post_processor.pair = [{ Sequence: { id: 'A', type_id: 0 } }]), 'E_MODEL_FILES'],
  ['template type_id 300', (j) => (j.post_processor.single[1].Sequence.type_id = 300), 'E_MODEL_FILES'],
  ['template special token unknown', (j) => (j.post_processor.single[0].SpecialToken.id = '[NOPE]'), 'E_MODEL_FILES'],
  ['template special token "constructor"', (j) => (j.post_processor.single[0].SpecialToken.id = 'constructor'), 'E_MODEL_FILES'],
  ['special token ids as strings', (j) => (j.post_processor.special_tokens['[CLS]'].ids = ['101']), 'E_MODEL_FILES'],
  ['special token ids and tokens of different lengths', (j) => (j.post_processor.special_tokens['[CLS]'].ids = [101, 102]), 'E_MODEL_FILES'],
  ['BertProcessing sep a string', (j) => (j.post_processor = { type: 'BertProcessing', sep: '[SEP]', cls: ['[CLS]', 101] }), 'E_MODEL_FILES'],
  ['added token id negative', (j) => (j.added_tokens[0].id = -4), 'E_MODEL_FILES'],
  ['added token empty content', (j) => (j.added_tokens[0].content = ''), 'E_MODEL_FILES'],
  ['added_tokens an object', (j) => (j.added_tokens = {}), 'E_MODEL_FILES'],
  ['truncation max_length 0', (j) => (j.truncation = { max_length: 0 }), 'E_MODEL_FILES'],
  ['truncation stride', (j) => (j.truncation = { max_length: 8, stride: 2 }), 'E_UNSUPPORTED'],
  ['padding pad_id a string', (j) => (j.padding = { pad_id: '0' }), 'E_MODEL_FILES'],
  ['decoder prefix a number', (j) => (j.decoder = { type: 'WordPiece', prefix: 3 }), 'E_MODEL_FILES'],
  ['max_input_chars_per_word 1e9', (j) => (j.model.max_input_chars_per_word = 1e9), 'ok'],
]) {
  folderCases.push(folder(`tokenizer.json ${what}`, json('tokenizer.json', edit), code));
}
for (const [what, edit, code] of [
  ['modules.json pooling path "../../../outside"', json('modules.json', (j) => (j[1].path = '../../../outside')), 'E_MODEL_FILES'],
  ['modules.json pooling path absolute', json('modules.json', (j) => (j[1].path = '/etc')), 'E_MODEL_FILES'],
  ['modules.json a Dense module', json('modules.json', (j) => j.push({ path: '2_Dense', type: 'sentence_transformers.models.Dense' })), 'E_UNSUPPORTED'],
  ['modules.json without Pooling', json('modules.json', (j) => j.splice(1, 1)), 'E_UNSUPPORTED'],
  ['modules.json an object', write('modules.json', '{}'), 'E_MODEL_FILES'],
  ['modules.json type a number', json('modules.json', (j) => (j[1].type = 5)), 'E_MODEL_FILES'],
  ['pooling config missing', remove('1_Pooling/config.json'), 'E_MODEL_FILES'],
  ['pooling folder → outside', link('1_Pooling', '/etc'), 'E_MODEL_FILES'],
  ['pooling no mode true', json('1_Pooling/config.json', (j) => {
    for (const k of Object.keys(j)) if (k.startsWith('pooling_mode')) j[k] = false;
  }), 'E_MODEL_FILES'],
  ['pooling mode "true" (a string)', json('1_Pooling/config.json', (j) => (j.pooling_mode_max_tokens = 'true')), 'E_MODEL_FILES'],
  ['sbert max_seq_length 0', json('sentence_bert_config.json', (j) => (j.max_seq_length = 0)), 'E_MODEL_FILES'],
  ['sbert max_seq_length -1', json('sentence_bert_config.json', (j) => (j.max_seq_length = -1)), 'E_MODEL_FILES'],
  ['sbert max_seq_length "512"', json('sentence_bert_config.json', (j) => (j.max_seq_length = '512')), 'E_MODEL_FILES'],
  ['sbert do_lower_case "yes"', json('sentence_bert_config.json', (j) => (j.do_lower_case = 'yes')), 'E_MODEL_FILES'],
  ['st prompts an array', json('config_sentence_transformers.json', (j) => (j.prompts = ['q'])), 'E_MODEL_FILES'],
  ['st prompt a number', json('config_sentence_transformers.json', (j) => (j.prompts = { q: 1 })), 'E_MODEL_FILES'],
  ['st default prompt not among prompts', json('config_sentence_transformers.json', (j) => (j.default_prompt_name = 'constructor')), 'E_MODEL_FILES'],
  ['st similarity "l1"', json('config_sentence_transformers.json', (j) => (j.similarity_fn_name = 'l1')), 'E_MODEL_FILES'],
  ['config vocab_size below the tokenizer', json('config.json', (j) => (j.vocab_size = 100)), 'E_MODEL_FILES'],
  ['onnx/model.onnx garbage', (d) => {
    remove('model.safetensors')(d);
    fs.mkdirSync(path.join(d, 'onnx'));
    fs.writeFileSync(path.join(d, 'onnx', 'model.onnx'), 'garbage');
  }, 'E_MODEL_FILES'],
  ['onnx/model.onnx empty', (d) => {
    remove('model.safetensors')(d);
    fs.mkdirSync(path.join(d, 'onnx'));
    fs.writeFileSync(path.join(d, 'onnx', 'model.onnx'), '');
  }, 'E_MODEL_FILES'],
  ['onnx/ holds a link outside the folder', (d) => {
    fs.mkdirSync(path.join(d, 'onnx'));
    fs.copyFileSync(path.join(d, 'config.json'), path.join(d, 'onnx', 'model.onnx'));
    fs.symlinkSync('/etc/hostname', path.join(d, 'onnx', 'model.onnx.data'));
  }, 'E_MODEL_FILES'],
]) {
  folderCases.push(folder(what, edit, code));
}

// ------------------------------------------------------------------------------------------------
// CLI: [args, stdin, exit code, stderr pattern]. 2: usage; 1: bad input; never a stack trace.
const cliCases = [];
const cli = (name, args, input, code, pattern) =>
  cliCases.push({
    name: `cli: ${name}`,
    run: ({ runCli }) => runCli(args, input),
    expect: 'ok',
    check: (r) => r.status === code && !/\n\s+at /.test(r.stderr) && (!pattern || new RegExp(pattern).test(r.stderr)),
  });
cli('no command', [], '', 2);
cli('unknown command', ['frobnicate'], '', 2, 'unknown command');
cli('unknown flag', ['encode', '--model', '$TINY', '--frob'], 'x\n', 2);
cli('--model without a value', ['encode', '--model'], 'x\n', 2);
cli('--batch-size -1', ['encode', '--model', '$TINY', '--batch-size', '-1'], 'x\n', 2);
cli('--batch-size 0', ['encode', '--model', '$TINY', '--batch-size', '0'], 'x\n', 2);
cli('--batch-size abc', ['encode', '--model', '$TINY', '--batch-size', 'abc'], 'x\n', 2);
cli('--dim 1.5', ['encode', '--model', '$TINY', '--dim', '1.5'], 'x\n', 2);
cli('--dim past the model', ['encode', '--model', '$TINY', '--dim', '4096'], 'x\n', 1, 'E_BAD_INPUT');
cli('--format xml', ['encode', '--model', '$TINY', '--format', 'xml'], 'x\n', 2);
cli('an extra positional', ['encode', '--model', '$TINY', 'extra'], 'x\n', 2);
cli('--prompt-name constructor', ['encode', '--model', '$TINY', '--prompt-name', 'constructor'], 'x\n', 1, 'E_BAD_INPUT');
cli('--prompt-name __proto__', ['encode', '--model', '$TINY', '--prompt-name', '__proto__'], 'x\n', 1, 'E_BAD_INPUT');
cli('--jsonl with a non-string line', ['encode', '--model', '$TINY', '--jsonl'], '5\n', 1, 'line 1');
cli('--jsonl with broken JSON', ['encode', '--model', '$TINY', '--jsonl'], '"a\n', 1, 'line 1');
cli('--out in a missing folder', ['encode', '--model', '$TINY', '--out', '/nonexistent-dir/x.jsonl'], 'x\n', 1, 'cannot write there');
cli('--out a folder', ['encode', '--model', '$TINY', '--out', '/tmp'], 'x\n', 1, 'is a folder');
cli('--quantize int4', ['encode', '--model', '$TINY', '--quantize', 'int4'], 'x\n', 2);
cli('--device gpu', ['encode', '--model', '$TINY', '--device', 'gpu'], 'x\n', 1, 'E_BAD_INPUT');
cli('a missing model folder', ['encode', '--model', '/nonexistent-model'], 'x\n', 1, 'E_MODEL_FILES');
cli('encode of empty input', ['encode', '--model', '$TINY'], '', 0);
cli('tokenize without --model', ['tokenize'], 'x\n', 2);
cli('tokenize --max-length 0', ['tokenize', '--model', '$TINY', '--max-length', '0'], '"x"\n', 2);
cli('tokenize a non-JSON line', ['tokenize', '--model', '$TINY'], 'plain\n', 1);
cli('search without --corpus', ['search', '--model', '$TINY', '--query', 'x'], '', 2);
cli('search a missing corpus file', ['search', '--model', '$TINY', '--corpus', '/nonexistent.txt', '--query', 'x'], '', 1);
cli('search --top-k 0', ['search', '--model', '$TINY', '--corpus', '/etc/hostname', '--query', 'x', '--top-k', '0'], '', 2);
cli('eval without --data', ['eval', '--model', '$TINY'], '', 2);
cli('eval --split dev', ['eval', '--model', '$TINY', '--data', 'x.csv', '--split', 'dev'], '', 2);
cli('eval a missing data file', ['eval', '--model', '$TINY', '--data', '/nonexistent.csv'], '', 1);
cli('convert without --out', ['convert', '--model', '$TINY'], '', 2);
cli('download without a repo id', ['download'], '', 2);
cli('download a hostile repo id', ['download', '../../etc'], '', 1);
cli('bench --texts 0', ['bench', '--model', '$TINY', '--texts', '0'], '', 2);

export const groups = [
  group('load', loadCases),
  group('encode', encodeCases),
  group('tokenizer', tokCases),
  group('search', searchCases),
  group('evaluateIR', evalCases),
  group('model folders', folderCases),
  group('cli', cliCases),
];
