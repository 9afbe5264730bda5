// The prepared GPU check (scripts/gpu/: pack.mjs here, cuda-check.sh on a GPU machine) as far as this
// machine takes it: the CUDA provider pruned to one architecture keeps those kernel images and still
// loads (with stand-in CUDA libraries it fails at its first CUDA call, as the full provider does), and
// the whole check — staging the parts, finding node and the libraries, every step of the driver — runs
// through on the CPU (`--device cpu --quick`). What only a GPU can show is the GPU run itself.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/data.js';
import { buildCudaStubs } from '../helpers/cuda-stubs.js';
import { makeModel, tempDir } from '../helpers/models.js';

const execFileP = promisify(execFile);
let root: string;
let gpu: string;

beforeAll(async () => {
  root = tempDir('gpu-check');
  gpu = path.join(root, 'gpu');
  const { stdout } = await execFileP(process.execPath, [path.join(repoRoot, 'scripts', 'assemble-cuda.mjs'), '--out', path.join(root, 'variant')], { maxBuffer: 1 << 20 });
  const variant = path.dirname(stdout.trim());
  await execFileP(process.execPath, [path.join(repoRoot, 'scripts', 'gpu', 'pack.mjs'), '--fast', '--variant', variant, '--out', gpu], { maxBuffer: 1 << 20 });
}, 600_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const sh = (args: string[], env: Record<string, string> = {}) =>
  execFileP('bash', [path.join(repoRoot, 'scripts', 'gpu', 'cuda-check.sh'), ...args], { env: { ...process.env, EMBEDRT_GPU_DIR: gpu, ...env }, maxBuffer: 16 << 20 });

describe('the prepared GPU check (no GPU here)', () => {
  it('the provider pruned to sm_90 keeps those images only, and loads: with stand-in CUDA libraries it fails at the first CUDA call', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(gpu, 'manifest.json'), 'utf8'));
    expect(manifest.sm).toBe(90);
    expect(Object.keys(manifest.fatbinByArch).map(Number)).toEqual(expect.arrayContaining([75, 80, 86, 89, 90, 120]));
    expect(Object.keys(manifest.parts).sort()).toEqual(['node', 'part1', 'part2']);
    const staged = await sh(['stage']);
    expect(staged.stdout).toMatch(/staged .*part1\/cuda-provider\.tar\.xz/);
    expect(staged.stdout).toMatch(/node: .*v\d+/);
    const variant = path.join(gpu, 'unpacked', 'variant');
    const provider = path.join(variant, 'libonnxruntime_providers_cuda.so');
    const { stdout: fatbins } = await execFileP('python3', [
      '-c',
      // Independent of pack.mjs's walk: every 64-byte entry header of an sm_NN cubin, and whether its bytes are all zero.
      `import re, struct, sys
b = open(sys.argv[1], 'rb').read()
kept = zeroed = 0
for m in re.finditer(rb'\\x02\\x00\\x01\\x01\\x40\\x00\\x00\\x00', b):
    e = m.start(); n = struct.unpack_from('<Q', b, e + 8)[0]; arch = struct.unpack_from('<I', b, e + 28)[0]
    if arch not in (75, 80, 86, 89, 90, 120) or n == 0: continue
    body = b[e + 64:e + 64 + n]
    if arch == 90: kept += body.count(0) < n
    else: zeroed += body.count(0) == n
print(kept, zeroed)`,
      provider,
    ], { maxBuffer: 1 << 20 });
    const [kept, zeroed] = fatbins.trim().split(' ').map(Number);
    expect(kept).toBe(manifest.fatbinByArch['90'].entries);
    expect(zeroed).toBeGreaterThan(0);
    // The pruned library links and registers its kernels as the full one does.
    const stubs = path.join(root, 'stubs');
    await buildCudaStubs(provider, stubs);
    const tiny = makeModel(root, 'tiny', { pooling: 'mean' });
    const script = `
      const m = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))});
      let error;
      try { await m.SentenceTransformer.load(${JSON.stringify(tiny)}, { device: 'cuda', cacheDir: ${JSON.stringify(path.join(root, 'cache'))} }); } catch (e) { error = { code: e.code, message: e.message }; }
      process.stdout.write(JSON.stringify({ providers: m.runtimeInfo().providers, error }));`;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, EMBEDRT_ADDON_PATH: path.join(variant, 'embedrt.node'), LD_LIBRARY_PATH: stubs },
      maxBuffer: 16 << 20,
    });
    const r = JSON.parse(stdout);
    expect(r.providers).toContain('CUDAExecutionProvider');
    expect(r.error.code).toBe('E_PROVIDER');
    expect(r.error.message).toMatch(/^CUDAExecutionProvider failed as the session started: CUDA failure 100/);
  }, 300_000);

  it('rehearsal on the CPU: cuda-check.sh run stages the parts, finds node, and every step of the check passes and is reported', async () => {
    const out = path.join(root, 'out');
    const { stdout } = await sh(['run', '--device', 'cpu', '--quick'], { OUT: out });
    expect(stdout).toMatch(/All checks passed\./);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'cuda-check.json'), 'utf8'));
    expect(report.failures).toEqual([]);
    expect(Object.keys(report.models)).toEqual(['flagship', 'all-MiniLM-L6-v2']);
    for (const model of Object.values(report.models) as Record<string, { info: { provider: string }; placements: { byProvider: Record<string, number> }; cosineToCpu: { min: number }; throughput: { batch: number; sentencesPerSecond: number }[] }>[]) {
      for (const precision of ['fp32', 'fp16']) {
        const r = model[precision]!;
        expect(r.info.provider).toBe('cpu');
        expect(r.placements.byProvider.CPUExecutionProvider).toBeGreaterThan(10);
        expect(r.cosineToCpu.min).toBeGreaterThanOrEqual(0.9999);
        expect(r.throughput.map((t) => t.batch)).toEqual([1, 8]);
        for (const t of r.throughput) expect(t.sentencesPerSecond).toBeGreaterThan(0);
      }
    }
    expect(fs.readFileSync(path.join(out, 'cuda-check.md'), 'utf8')).toMatch(/\| all-MiniLM-L6-v2 \| fp16 \|/);
    expect(fs.readFileSync(path.join(out, 'environment.txt'), 'utf8')).toMatch(/LD_LIBRARY_PATH=/);
  }, 600_000);
});
