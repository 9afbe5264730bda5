import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runtimeInfo } from '../lib/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

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
  const root = path.resolve(import.meta.dirname, '..');
  const probe = (env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        const { runtimeInfo, SentenceTransformer } = await import(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
        try { console.log(JSON.stringify(runtimeInfo())); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, isEmbedrtError: e.name === 'EmbedrtError' })); }
      `],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );

  it('loads the library beside the addon and says which file it loaded', () => {
    const info = runtimeInfo();
    expect(path.basename(info.ortLibrary)).toBe('libonnxruntime.so.1');
    expect(path.dirname(info.ortLibrary)).toBe(info.ortLibraryDir);
    expect(existsSync(info.ortLibrary)).toBe(true);
  });

  it("EMBEDRT_ORT_LIBRARY points embedrt at another ONNX Runtime build (here onnxruntime-node's own copy)", () => {
    const other = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime.so.1');
    const r = probe({ EMBEDRT_ORT_LIBRARY: other });
    const info = JSON.parse(r.stdout) as { ortLibrary: string; ortVersion: string };
    expect(info.ortLibrary).toBe(other);
    expect(info.ortVersion).toMatch(/^1\.30\./);
  });

  it('a missing or foreign library is E_NATIVE_LOAD naming what was tried', () => {
    const missing = JSON.parse(probe({ EMBEDRT_ORT_LIBRARY: '/nonexistent/libonnxruntime.so.1' }).stdout) as { code: string; message: string; isEmbedrtError: boolean };
    expect(missing).toMatchObject({ code: 'E_NATIVE_LOAD', isEmbedrtError: true });
    expect(missing.message).toMatch(/could not load ONNX Runtime; tried:\n {2}\/nonexistent\/libonnxruntime\.so\.1: .*No such file/);
    const foreign = JSON.parse(probe({ EMBEDRT_ORT_LIBRARY: 'libz.so.1' }).stdout) as { code: string; message: string };
    expect(foreign.code).toBe('E_NATIVE_LOAD');
    expect(foreign.message).toMatch(/libz\.so\.1: not an ONNX Runtime library \(no OrtGetApiBase\)/);
  });
});
