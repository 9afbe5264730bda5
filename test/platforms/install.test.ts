// The packages as users get them: npm pack of embedrt and of the five platform packages; their contents
// and sizes; then, from the tarballs only, an install with scripts disabled and no compiler on PATH for
// linux-x64 (here), linux-arm64 (run under qemu-user) and win32-x64 (run under Wine), each running the
// same fidelity subset (test/platforms/subset.mjs) on the real all-MiniLM-L6-v2: token ids of 3,000
// generated texts, embeddings, a semantic search — equal to linux-x64's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGenerator } from '../helpers/textgen.js';
import { miniLmDir } from '../helpers/models.js';
import { Tokenizer } from '../../lib/index.js';
import { TARGETS, installApp, pack, packageDir, qemuArm64, requirePrebuilds, root, run, tarList, tempDir, wineX64, type Machine, type Target } from './harness.js';

interface SubsetOutput {
  runtime: { platform: string; addon: string; addonSource: string; ortVersion: string; ortLibrary: string; simd: string };
  ids: number[][];
  dim: number;
  embeddings: number[];
  hits: { corpusId: number; score: number }[][];
  seconds: number;
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; optionalDependencies: Record<string, string> };
let work: string;
let mainTarball: string;
const tarballs = {} as Record<Target, string>;
let input: string;
let reference: SubsetOutput;

beforeAll(async () => {
  requirePrebuilds();
  work = tempDir('platforms');
  mainTarball = await pack(root, work);
  for (const t of TARGETS) tarballs[t] = await pack(packageDir(t), work);
  // 3,000 texts: every Unicode category the BERT pipeline treats specially, MiniLM's vocabulary, financial words.
  const tok = Tokenizer.fromPretrained(miniLmDir());
  const gen = makeGenerator(Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i) ?? ''));
  const texts = Array.from({ length: 3000 }, (_, i) => gen(i + 1));
  input = path.join(work, 'input.json');
  fs.writeFileSync(input, JSON.stringify({ model: miniLmDir(), texts, encode: 24, queries: 6 }));
}, 300_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

// Installs embedrt from the tarballs into a fresh app folder as `target` sees it and runs the subset there.
async function installAndRun(target: Target, machine?: Machine): Promise<{ app: string; out: SubsetOutput }> {
  const app = path.join(work, `app-${target}`);
  fs.mkdirSync(app);
  await installApp(app, mainTarball, target, tarballs[target]);
  const installed = fs.readdirSync(path.join(app, 'node_modules', '@embedrt'));
  expect(installed).toEqual([target]); // only this platform's binaries came down
  fs.copyFileSync(path.join(root, 'test', 'platforms', 'subset.mjs'), path.join(app, 'subset.mjs'));
  // Paths relative to the app folder, so Windows' Node reads them too (Wine maps / to Z:).
  const rel = JSON.parse(fs.readFileSync(input, 'utf8')) as Record<string, unknown>;
  rel.model = path.relative(app, miniLmDir());
  rel.cacheDir = 'graph-cache';
  fs.writeFileSync(path.join(app, 'input.json'), JSON.stringify(rel));
  if (machine) await machine.node(['subset.mjs', 'input.json', 'output.json'], app);
  else {
    await run(process.execPath, ['subset.mjs', 'input.json', 'output.json'], { cwd: app, env: { ...process.env, PATH: path.join(app, '.bin') } });
  }
  return { app, out: JSON.parse(fs.readFileSync(path.join(app, 'output.json'), 'utf8')) as SubsetOutput };
}

function expectSameResults(out: SubsetOutput, ref: SubsetOutput): void {
  expect(out.ids.length).toBe(ref.ids.length);
  const differing = out.ids.findIndex((ids, i) => JSON.stringify(ids) !== JSON.stringify(ref.ids[i]));
  expect(differing).toBe(-1);
  expect(out.dim).toBe(ref.dim);
  expect(out.embeddings.length).toBe(ref.embeddings.length);
  let worst = 0;
  for (let i = 0; i < ref.embeddings.length; i++) worst = Math.max(worst, Math.abs(out.embeddings[i]! - ref.embeddings[i]!));
  expect(worst).toBeLessThanOrEqual(1e-5);
  expect(out.hits.map((q) => q.map((h) => h.corpusId))).toEqual(ref.hits.map((q) => q.map((h) => h.corpusId)));
}

describe('npm pack', () => {
  it('embedrt: compiled JS and types, the sources a source build needs, no build output, tests or binaries; ≤ 2.5 MB', async () => {
    const files = await tarList(mainTarball);
    const names = files.map((f) => f.name);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli.js', 'CMakeLists.txt', 'native/core/platform.cc', 'third_party/onnxruntime/include/onnxruntime_c_api.h',
      'third_party/onnxruntime/LICENSE', 'scripts/install.mjs', 'scripts/assemble-ort.mjs', 'LICENSE', 'README.md', 'package.json']) {
      expect(names).toContain(`package/${f}`);
    }
    const forbidden = names.filter(
      (n) => /^package\/(build|test|packages|node_modules|prebuilds|bench|\.ci|\.github|native\/tests|native\/fuzz)\//.test(n) || /\.(node|so(\.\d+)*|dll|dylib|tgz)$/.test(n) || /\.test\.(js|ts|d\.ts)/.test(n),
    );
    expect(forbidden).toEqual([]);
    expect(files.reduce((s, f) => s + f.size, 0)).toBeLessThan(2.5e6);
    // Source maps carry their TypeScript (lib/ is not shipped, so a map that only named it would dangle).
    const maps = names.filter((n) => n.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const m of maps) {
      const map = JSON.parse(await run('tar', ['-xOzf', mainTarball, m])) as { sources: string[]; sourcesContent?: string[] };
      expect(map.sourcesContent?.length, m).toBe(map.sources.length);
    }
    // The package.json inside the tarball: what npm will read on a user's machine.
    const packed = JSON.parse(await run('tar', ['-xOzf', mainTarball, 'package/package.json'])) as Record<string, unknown>;
    expect(packed.optionalDependencies).toEqual(Object.fromEntries(TARGETS.map((t) => [`@embedrt/${t}`, pkg.version])));
    for (const field of ['repository', 'bugs', 'homepage', 'license']) expect(packed[field], field).toBeTruthy();
  });

  it('npm reads the project configuration without a warning (no unknown .npmrc keys)', async () => {
    const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.each(TARGETS)('@embedrt/%s: the addon, its ONNX Runtime library, README and licenses only; os/cpu(/libc) set; within its size budget', async (target) => {
    const files = await tarList(tarballs[target]);
    const manifest = JSON.parse(fs.readFileSync(path.join(packageDir(target), 'package.json'), 'utf8')) as Record<string, unknown>;
    const [os, cpu] = target.split('-');
    expect(manifest).toMatchObject({ name: `@embedrt/${target}`, version: pkg.version, os: [os], cpu: [cpu] });
    if (os === 'linux') expect(manifest.libc).toEqual(['glibc']);
    const lib = fs.readdirSync(packageDir(target)).find((f) => /onnxruntime/.test(f))!;
    expect(files.map((f) => f.name).sort()).toEqual(
      ['package.json', 'README.md', 'THIRD_PARTY_LICENSES.md', 'embedrt.node', lib].map((f) => `package/${f}`).sort(),
    );
    // Budget: ONNX Runtime's own library plus 3 MB (the addon is ~1–1.5 MB).
    const ortBytes = fs.statSync(path.join(packageDir(target), lib)).size;
    expect(files.reduce((s, f) => s + f.size, 0)).toBeLessThan(ortBytes + 3e6);
  });
});

describe('install from the tarballs with no compiler on PATH (scripts disabled unless said)', () => {
  it('linux-x64 (this machine): resolves @embedrt/linux-x64 and runs the subset', async () => {
    const { app, out } = await installAndRun('linux-x64');
    expect(out.runtime).toMatchObject({ platform: 'linux-x64', addonSource: 'package', ortVersion: '1.30.0' });
    expect(out.runtime.addon).toBe(path.join(app, 'node_modules', '@embedrt', 'linux-x64', 'embedrt.node'));
    expect(out.runtime.simd).not.toBe('scalar'); // one binary for every x64 CPU, dispatching at run time
    reference = out;
  }, 300_000);

  it('with install scripts enabled, the install hook finds @embedrt/linux-x64 and builds nothing (no compiler on PATH)', async () => {
    const app = path.join(work, 'app-scripts');
    fs.mkdirSync(app);
    const stderr = await installApp(app, mainTarball, 'linux-x64', tarballs['linux-x64'], { scripts: true });
    expect(stderr).toContain('[embedrt:install] using @embedrt/linux-x64');
    expect(fs.existsSync(path.join(app, 'node_modules', 'embedrt', 'build'))).toBe(false);
  }, 300_000);

  it('linux-arm64 under qemu-user: same token ids, embeddings within 1e-5, same search hits', async () => {
    expect(reference).toBeDefined();
    const { out } = await installAndRun('linux-arm64', await qemuArm64());
    expect(out.runtime).toMatchObject({ platform: 'linux-arm64', addonSource: 'package', ortVersion: '1.30.0', simd: 'neon' });
    expectSameResults(out, reference);
  }, 600_000);

  it('win32-x64 under Wine: same token ids, embeddings within 1e-5, same search hits', async () => {
    expect(reference).toBeDefined();
    const { out } = await installAndRun('win32-x64', await wineX64());
    expect(out.runtime).toMatchObject({ platform: 'win32-x64', addonSource: 'package', ortVersion: '1.30.0' });
    expect(out.runtime.ortLibrary).toMatch(/\\node_modules\\@embedrt\\win32-x64\\onnxruntime\.dll$/);
    expectSameResults(out, reference);
  }, 600_000);
});
