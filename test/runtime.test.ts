import { describe, expect, it } from 'vitest';
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
