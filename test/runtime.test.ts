import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runtimeInfo } from '../lib/index.js';
import { loadHelp } from '../lib/native.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const root = path.resolve(import.meta.dirname, '..');

// runtimeInfo() in a fresh process under `env` (the addon and ONNX Runtime load once per process): its
// result, or the error's code and message.
function runtimeInfoIn(env: Record<string, string>): Record<string, unknown> & { code?: string; message?: string } {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `
      const { runtimeInfo } = await import(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
      try { console.log(JSON.stringify(runtimeInfo())); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, isEmbedrtError: e.name === 'EmbedrtError' })); }
    `],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('runtimeInfo', () => {
  it('reports ONNX Runtime 1.30 with the CPU provider', () => {
    const info = runtimeInfo();
    expect(info.ortVersion).toMatch(/^1\.30\.\d+$/);
    expect(info.ortApiVersion).toBe(21);
    expect(info.providers).toContain('CPUExecutionProvider');
    expect(info.compiledProviders).toEqual(expect.arrayContaining(info.providers));
  });

  it('reports the package version and a SIMD level', () => {
    const info = runtimeInfo();
    expect(info.version).toBe(pkg.version);
    expect(['avx512+vnni', 'avx512', 'avx2+fma', 'neon', 'scalar']).toContain(info.simd);
  });

  it('lists a GPU provider as usable exactly when its provider library is present', () => {
    const info = runtimeInfo();
    const libs: Record<string, string> = {
      CUDAExecutionProvider: 'libonnxruntime_providers_cuda.so',
      TensorrtExecutionProvider: 'libonnxruntime_providers_tensorrt.so',
    };
    for (const [provider, lib] of Object.entries(libs)) {
      if (!info.compiledProviders.includes(provider)) continue;
      const present = existsSync(path.join(info.ortLibraryDir, lib));
      expect(info.providers.includes(provider)).toBe(present);
    }
    expect(existsSync(path.join(info.ortLibraryDir, 'libonnxruntime.so.1'))).toBe(true);
  });
});

describe('ONNX Runtime, loaded at run time', () => {

  it('loads the library beside the addon and says which file it loaded', () => {
    const info = runtimeInfo();
    expect(path.basename(info.ortLibrary)).toBe('libonnxruntime.so.1');
    expect(path.dirname(info.ortLibrary)).toBe(info.ortLibraryDir);
    expect(existsSync(info.ortLibrary)).toBe(true);
  });

  it("EMBEDRT_ORT_LIBRARY points embedrt at another ONNX Runtime build (here onnxruntime-node's own copy)", () => {
    const other = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime.so.1');
    const info = runtimeInfoIn({ EMBEDRT_ORT_LIBRARY: other });
    expect(info.ortLibrary).toBe(other);
    expect(info.ortVersion).toMatch(/^1\.30\./);
  });

  it('a missing or foreign library is E_NATIVE_LOAD naming what was tried', () => {
    const missing = runtimeInfoIn({ EMBEDRT_ORT_LIBRARY: '/nonexistent/libonnxruntime.so.1' });
    expect(missing).toMatchObject({ code: 'E_NATIVE_LOAD', isEmbedrtError: true });
    expect(missing.message).toMatch(/could not load ONNX Runtime; tried:\n {2}\/nonexistent\/libonnxruntime\.so\.1: .*No such file/);
    const foreign = runtimeInfoIn({ EMBEDRT_ORT_LIBRARY: 'libz.so.1' });
    expect(foreign.code).toBe('E_NATIVE_LOAD');
    expect(foreign.message).toMatch(/libz\.so\.1: not an ONNX Runtime library \(no OrtGetApiBase\)/);
  });
});

describe('an ONNX Runtime of another version', () => {
  it('is refused with E_NATIVE_LOAD naming both versions (a stand-in library that reports 1.29.0)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'embedrt-ort-version-'));
    try {
      // The smallest library that answers OrtGetApiBase: GetApi serves nothing, the version says 1.29.0.
      writeFileSync(
        path.join(dir, 'fake.c'),
        `typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } OrtApiBase;
         static const void* get_api(unsigned v) { (void)v; return 0; }
         static const char* version(void) { return "1.29.0"; }
         static const OrtApiBase base = { get_api, version };
         const OrtApiBase* OrtGetApiBase(void) { return &base; }`,
      );
      const lib = path.join(dir, 'libonnxruntime.so.1');
      execFileSync('cc', ['-shared', '-fPIC', '-o', lib, path.join(dir, 'fake.c')]);
      const out = runtimeInfoIn({ EMBEDRT_ORT_LIBRARY: lib });
      expect(out.code).toBe('E_NATIVE_LOAD');
      expect(out.message).toContain(`${lib} is version 1.29.0; this embedrt ships and is tested with 1.30.0`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('finding the addon', () => {
  const load = runtimeInfoIn;

  it('in a checkout without the platform package, loads the local build and says so', () => {
    expect(load({})).toMatchObject({ addon: path.join(root, 'build', 'Release', 'embedrt.node'), addonSource: 'local build', platform: `${process.platform}-${process.arch}` });
  });

  it("another addon in embedrt's place (onnxruntime-node's own binding) is refused by name of what it lacks", () => {
    const other = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node');
    const out = load({ EMBEDRT_ADDON_PATH: other });
    expect(out.code).toBe('E_NATIVE_LOAD');
    expect(out.message).toContain(`  - override: ${other}: not this embedrt's addon: it lacks runtimeInfo, NativeTokenizer, NativeModel, similarity,`);
  });

  it('EMBEDRT_ADDON_PATH wins; when it fails, the error names the machine, what was tried and numbered remedies', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'embedrt-addon-'));
    try {
      cpSync(path.join(root, 'build', 'Release'), copy, { recursive: true });
      expect(load({ EMBEDRT_ADDON_PATH: path.join(copy, 'embedrt.node') })).toMatchObject({ addon: path.join(copy, 'embedrt.node'), addonSource: 'override' });
      const bad = load({ EMBEDRT_ADDON_PATH: path.join(copy, 'missing.node') });
      expect(bad.code).toBe('E_NATIVE_LOAD');
      const libc = (process.report.getReport() as { header: { glibcVersionRuntime: string } }).header.glibcVersionRuntime;
      expect(bad.message).toContain(`embedrt could not load its native addon on ${process.platform}-${process.arch} (glibc ${libc}), Node ${process.version}.`);
      expect(bad.message).toContain(`  - override: ${path.join(copy, 'missing.node')} (not there)`);
      expect(bad.message).toMatch(/Possible solutions:\n {2}1\. Reinstall embedrt so that npm installs @embedrt\/linux-x64 .*\n {2}2\. Build from source: `npm install embedrt --build-from-source`/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('machines embedrt has no package for get a reason and remedies, not a stack trace', () => {
  const tried = ['package: @embedrt/x (not installed)'];
  const base = { libc: undefined, rosetta: false, node: 'v20.20.2' };
  const remedies = (m: Parameters<typeof loadHelp>[1]) => loadHelp(tried, m).split('Possible solutions:\n')[1]!;

  it('musl Linux (Alpine): ONNX Runtime ships glibc builds only', () => {
    const msg = loadHelp(tried, { ...base, platform: 'linux', arch: 'x64', libc: 'musl' });
    expect(msg).toContain('embedrt could not load its native addon on linux-x64 (musl), Node v20.20.2.');
    expect(msg).toContain('  - package: @embedrt/x (not installed)');
    expect(remedies({ ...base, platform: 'linux', arch: 'x64', libc: 'musl' })).toMatch(/^ {2}1\. musl Linux \(Alpine\) has no prebuilt package/);
  });

  it('FreeBSD and 32-bit systems: no package, and the list of platforms there is', () => {
    for (const [platform, arch] of [['freebsd', 'x64'], ['linux', 'ia32'], ['win32', 'ia32']] as const) {
      expect(remedies({ ...base, platform, arch, libc: platform === 'linux' ? 'glibc 2.36' : undefined })).toMatch(
        new RegExp(`^ {2}1\\. embedrt publishes no package for ${platform}-${arch}; the platforms are linux-x64, linux-arm64, darwin-arm64, win32-x64, win32-arm64\\.`),
      );
    }
  });

  it('Intel Macs are told they are unsupported; an x64 Node under Rosetta is told to use the arm64 Node', () => {
    expect(remedies({ ...base, platform: 'darwin', arch: 'x64' })).toMatch(/^ {2}1\. Intel Macs are not supported: ONNX Runtime 1\.30 \(onnxruntime-node\) ships no darwin-x64 library/);
    expect(remedies({ ...base, platform: 'darwin', arch: 'x64', rosetta: true })).toMatch(/^ {2}1\. This is an x64 Node running under Rosetta on an Apple Silicon Mac: install the arm64 build of Node\.js/);
  });

  it('a supported platform without its package is told to reinstall with optional dependencies, then to build from source', () => {
    const r = remedies({ ...base, platform: 'linux', arch: 'arm64', libc: 'glibc 2.28' });
    expect(r).toMatch(/^ {2}1\. Reinstall embedrt so that npm installs @embedrt\/linux-arm64 .*`npm install --os=linux --cpu=arm64` adds it\)\.\n {2}2\. Build from source/);
  });

  it('an addon whose ONNX Runtime library is missing from beside it: E_NATIVE_LOAD naming the path tried', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'embedrt-no-ort-'));
    try {
      cpSync(path.join(root, 'build', 'Release', 'embedrt.node'), path.join(copy, 'embedrt.node'));
      const out = runtimeInfoIn({ EMBEDRT_ADDON_PATH: path.join(copy, 'embedrt.node'), EMBEDRT_ORT_LIBRARY: '' });
      expect(out.code).toBe('E_NATIVE_LOAD');
      expect(out.message).toContain(`could not load ONNX Runtime; tried:\n  ${path.join(copy, 'libonnxruntime.so.1')}: `);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
