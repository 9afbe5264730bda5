// The CUDA variant (scripts/assemble-cuda.mjs: onnxruntime-gpu's provider libraries beside the addon's
// own ONNX Runtime) as far as a machine without a GPU takes it. With stand-in CUDA libraries
// (helpers/cuda-stubs.ts) the real CUDA provider loads and fails at its first CUDA call: device 'cuda'
// must then be E_PROVIDER saying so, 'auto' must fall back to the CPU and say why, a missing library
// (cuBLAS; TensorRT's libnvinfer, which cannot be had here) must be named. Each case runs in a child process (the addon's ONNX Runtime is chosen once per process).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/data.js';
import { buildCudaStubs } from '../helpers/cuda-stubs.js';
import { makeModel, tempDir } from '../helpers/models.js';

const execFileP = promisify(execFile);
let root: string;
let variant: string;
let model: string;

beforeAll(async () => {
  root = tempDir('cuda');
  // Fetches the wheel into build/deps/cuda once (~250 MB from PyPI), then lays the providers out.
  const { stdout } = await execFileP(process.execPath, [path.join(repoRoot, 'scripts', 'assemble-cuda.mjs'), '--out', path.join(root, 'variant')], { maxBuffer: 1 << 20 });
  variant = path.dirname(stdout.trim());
  const provider = path.join(variant, 'libonnxruntime_providers_cuda.so');
  await buildCudaStubs(provider, path.join(root, 'stubs'));
  await buildCudaStubs(provider, path.join(root, 'stubs-no-cublas'), ['libcublas.so.13']);
  model = makeModel(root, 'tiny', { pooling: 'mean' });
}, 300_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Loads the model on each device in a child that runs the CUDA variant; returns what each did. */
async function loadIn(stubs: string, devices: string[]): Promise<{ runtime: { providers: string[]; addon: string }; results: Record<string, { code?: string; message?: string; provider?: string; fallbackReason?: string; same?: boolean }> }> {
  const script = `
    const m = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))});
    const results = {};
    const cpu = await m.SentenceTransformer.load(${JSON.stringify(model)}, { cacheDir: ${JSON.stringify(path.join(root, 'cache'))} });
    const expected = (await cpu.encode(['net revenue', 'cash flow'])).data;
    for (const device of ${JSON.stringify(devices)}) {
      try {
        const model = await m.SentenceTransformer.load(${JSON.stringify(model)}, { device, cacheDir: ${JSON.stringify(path.join(root, 'cache'))} });
        const got = (await model.encode(['net revenue', 'cash flow'])).data;
        const i = model.info();
        results[device] = { provider: i.provider, fallbackReason: i.fallbackReason, same: got.every((v, k) => Math.abs(v - expected[k]) <= 1e-5) };
        model.dispose();
      } catch (e) {
        results[device] = { code: e.code, message: e.message };
      }
    }
    const info = m.runtimeInfo();
    process.stdout.write(JSON.stringify({ runtime: { providers: info.providers, addon: info.addon }, results }));`;
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, EMBEDRT_ADDON_PATH: path.join(variant, 'embedrt.node'), LD_LIBRARY_PATH: stubs },
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout);
}

describe('the CUDA variant (no GPU here: stand-in CUDA libraries)', () => {
  it('assembles the providers of the addon\'s own ONNX Runtime release and commit; the runtime lists them', async () => {
    const info = JSON.parse(fs.readFileSync(path.join(variant, 'cuda-variant.json'), 'utf8')) as { onnxruntime: string; commit: string };
    expect(info.onnxruntime).toBe('1.30.0');
    expect(info.commit).toMatch(/^[0-9a-f]{7,40}$/);
    const { runtime } = await loadIn(path.join(root, 'stubs'), []);
    expect(runtime.addon).toBe(path.join(variant, 'embedrt.node'));
    expect(runtime.providers).toEqual(expect.arrayContaining(['CUDAExecutionProvider', 'TensorrtExecutionProvider', 'CPUExecutionProvider']));
  });

  it('installed as the @embedrt/linux-x64-cuda package, it is the addon embedrt loads (before @embedrt/linux-x64)', async () => {
    const modules = path.join(root, 'node_modules', '@embedrt');
    fs.mkdirSync(modules, { recursive: true });
    fs.symlinkSync(variant, path.join(modules, 'linux-x64-cuda'));
    const script = `const m = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))}); const i = m.runtimeInfo(); process.stdout.write(JSON.stringify({ addon: i.addon, source: i.addonSource, providers: i.providers }));`;
    // NODE_PATH: where require finds packages besides node_modules folders — the checkout's own stays untouched.
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(root, 'node_modules') };
    delete env.EMBEDRT_ADDON_PATH;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], { env });
    const got = JSON.parse(stdout) as { addon: string; source: string; providers: string[] };
    expect(fs.realpathSync(got.addon)).toBe(fs.realpathSync(path.join(variant, 'embedrt.node')));
    expect(got.source).toBe('package');
    expect(got.providers).toContain('CUDAExecutionProvider');
  });

  it('refuses a wheel of another ONNX Runtime build, naming both', () => {
    // A wheel-shaped zip whose library and metadata say another release and commit.
    const fake = path.join(root, 'onnxruntime_gpu-1.29.0-cp311-cp311-manylinux_2_28_x86_64.whl');
    execFileSync('python3', ['-c', `import zipfile,sys
z = zipfile.ZipFile(sys.argv[1], 'w')
z.writestr('onnxruntime_gpu-1.29.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: onnxruntime-gpu\\nVersion: 1.29.0\\n')
z.writestr('onnxruntime/capi/libonnxruntime.so.1.29.0', b'ORT Build Info: git-branch=HEAD, git-commit-id=0123456789, build type=Release')
z.writestr('onnxruntime/capi/libonnxruntime_providers_cuda.so', b'not a library')
z.close()`, fake]);
    let err = '';
    try {
      execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'assemble-cuda.mjs'), '--out', path.join(root, 'mismatch'), '--wheel', fake], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/is ONNX Runtime 1\.29\.0 \(commit 0123456789\), but .*libonnxruntime\.so\.1 is 1\.30\.0 \(commit [0-9a-f]+\); a provider library loads only into the ONNX Runtime it was built with/);
    expect(fs.existsSync(path.join(root, 'mismatch'))).toBe(false);
  });

  it("device 'cuda': the provider loads and its first CUDA call fails — E_PROVIDER naming the failure; 'auto' falls back to the CPU, says why, and embeds as the CPU does", async () => {
    const { results } = await loadIn(path.join(root, 'stubs'), ['cuda', 'auto', 'tensorrt']);
    expect(results.cuda!.code).toBe('E_PROVIDER');
    expect(results.cuda!.message).toMatch(/^CUDAExecutionProvider failed as the session started: CUDA failure 100: no CUDA-capable device is detected.*cudaSetDevice.*; the CUDA provider needs CUDA 13 .*cuDNN 9/);
    expect(results.cuda!.message).not.toMatch(/onnxruntime_src|std::conditional/); // the summary, not ONNX Runtime's source paths
    // (Failing as the session starts, the provider has read every option embedrt gives it — device_id,
    // use_tf32 — without complaint.)
    expect(results.auto).toEqual({ provider: 'cpu', fallbackReason: results.cuda!.message, same: true });
    // TensorRT's libraries cannot be had here: named.
    expect(results.tensorrt!.code).toBe('E_PROVIDER');
    expect(results.tensorrt!.message).toMatch(/TensorrtExecutionProvider could not be enabled: .*\(libnvinfer\.so\.10: cannot open shared object file.*TensorRT 10/);
  }, 120_000);

  it('a missing cuBLAS is named by its library, for cuda and in auto\'s reason', async () => {
    const { results } = await loadIn(path.join(root, 'stubs-no-cublas'), ['cuda', 'auto']);
    expect(results.cuda!.code).toBe('E_PROVIDER');
    expect(results.cuda!.message).toMatch(/CUDAExecutionProvider could not be enabled: .*libcublas\.so\.13: cannot open shared object file/);
    expect(results.auto!.provider).toBe('cpu');
    expect(results.auto!.fallbackReason).toMatch(/libcublas\.so\.13/);
  }, 120_000);
});
