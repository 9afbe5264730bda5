// Loads the native addon: a prebuild for this platform first, then a local build (node-gyp-build's order).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbedrtError } from './errors.js';

/** What the native addon reports about itself and the ONNX Runtime it loaded. */
export interface NativeRuntimeInfo {
  version: string;
  ortVersion: string;
  ortApiVersion: number;
  providers: string[];
  compiledProviders: string[];
  /** The ONNX Runtime library file loaded (EMBEDRT_ORT_LIBRARY, else the one beside the addon). */
  ortLibrary: string;
  ortLibraryDir: string;
  simd: string;
  napiVersion: number;
}

/** The flat contract between lib/ and native/: primitives, typed arrays, plain option structs. */
export interface NativeAddon {
  runtimeInfo(): NativeRuntimeInfo;
}

/** The package root: lib/ (sources under vitest) and dist/ (compiled) both sit one level below it. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    addon = load(packageRoot);
    return addon;
  } catch (err) {
    const platform = `${process.platform}-${process.arch}`;
    throw new EmbedrtError(
      'E_NATIVE_LOAD',
      [
        `embedrt could not load its native addon for ${platform} (Node ${process.version}).`,
        `  cause: ${(err as Error).message}`,
        'Possible solutions:',
        `  1. Reinstall embedrt so that its prebuild for ${platform} is present (prebuilds/${platform}/).`,
        '  2. Build from source: in the embedrt folder run `npm install` (needs cmake, a C++17 compiler and',
        '     apt-get for the ONNX Runtime headers), or set ORT_ROOT to an ONNX Runtime SDK first.',
        '  3. Check that libonnxruntime.so.1 sits beside the addon (.node) file.',
      ].join('\n'),
      { cause: err },
    );
  }
}
