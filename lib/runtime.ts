import { rethrowNative } from './errors.js';
import { loadedAddon, native, platformKey } from './native.js';

/** The addon version, the ONNX Runtime it loaded, its usable execution providers and the SIMD level. */
export interface RuntimeInfo {
  /** embedrt's version (the native addon's, which equals the package's). */
  version: string;
  /** Version of the loaded ONNX Runtime library, e.g. "1.30.0". */
  ortVersion: string;
  /** The ORT C API version requested (21). */
  ortApiVersion: number;
  /** Execution providers that can run here: compiled in and with their provider library present. */
  providers: string[];
  /** Execution providers the loaded ONNX Runtime was built with, usable or not. */
  compiledProviders: string[];
  /** The ONNX Runtime library file loaded (EMBEDRT_ORT_LIBRARY, else the one beside the addon). */
  ortLibrary: string;
  /** Folder the ONNX Runtime library was loaded from. */
  ortLibraryDir: string;
  /** Best SIMD level of this CPU: "avx512+vnni", "avx512", "avx2+fma", "neon" or "scalar". */
  simd: string;
  /** N-API version the addon was built for. */
  napiVersion: number;
  /** This machine as embedrt's packages name platforms, e.g. "linux-arm64". */
  platform: string;
  /** The native addon file loaded, and how it was found: EMBEDRT_ADDON_PATH ("override"), the
   * platform package @embedrt/<platform> ("package"), or build/Release ("local build"). */
  addon: string;
  addonSource: 'override' | 'package' | 'local build';
}

/**
 * Reports what the native core runs on.
 *
 * @example
 * import { runtimeInfo } from 'embedrt';
 * console.log(runtimeInfo().ortVersion); // "1.30.0"
 */
export function runtimeInfo(): RuntimeInfo {
  try {
    const info = native().runtimeInfo();
    const addon = loadedAddon();
    return { ...info, platform: platformKey(), addon: addon.file, addonSource: addon.kind };
  } catch (e) {
    rethrowNative(e);
  }
}
