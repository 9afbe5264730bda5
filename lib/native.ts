// Finds and loads the native addon, in this order: EMBEDRT_ADDON_PATH (an explicit .node file), the
// platform package (@embedrt/<platform>-<arch>, an optional dependency npm installs only where it runs),
// then a local build (build/Release/, what `npm install` in a checkout or --build-from-source makes).
// When all fail, the error says what this machine is, what was tried, and what to do.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
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

/** This machine as embedrt's packages name platforms: `linux-x64`, `darwin-arm64`, `win32-x64`, ... */
export function platformKey(): string {
  return `${process.platform}-${process.arch}`;
}

/** The C library of a Linux machine: 'glibc' (with its version) or 'musl'; undefined elsewhere. */
export function linuxLibc(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl';
}

/** The platform packages embedrt publishes, by platform key (package.json's optionalDependencies). */
export function platformPackages(): Map<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> };
  const out = new Map<string, string>();
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
    const m = /^@embedrt\/(.+)$/.exec(name);
    if (m) out.set(m[1]!, name);
  }
  return out;
}

/** Where the addon was loaded from: EMBEDRT_ADDON_PATH, the platform package or a local build. */
export interface AddonSource {
  kind: 'override' | 'package' | 'local build';
  file: string;
}
let addonSource: AddonSource | undefined;

/** The addon native() loaded (it loads it first). */
export function loadedAddon(): AddonSource {
  native();
  return addonSource!;
}

let addon: NativeAddon | undefined;

function runningUnderRosetta(): boolean {
  if (process.platform !== 'darwin' || process.arch !== 'x64') return false;
  try {
    return execFileSync('sysctl', ['-in', 'sysctl.proc_translated'], { encoding: 'utf8' }).trim() === '1';
  } catch {
    return false;
  }
}

/** The facts about a machine that decide which remedies the load error offers. */
export interface MachineFacts {
  platform: string;
  arch: string;
  /** 'glibc 2.36' or 'musl' on Linux; undefined elsewhere. */
  libc: string | undefined;
  /** An x64 Node translated by Rosetta 2 on an Apple Silicon Mac. */
  rosetta: boolean;
  node: string;
}

function thisMachine(): MachineFacts {
  return { platform: process.platform, arch: process.arch, libc: linuxLibc(), rosetta: runningUnderRosetta(), node: process.version };
}

/** The E_NATIVE_LOAD message: the machine, what was tried, and numbered remedies for its situation. */
export function loadHelp(tried: string[], m: MachineFacts = thisMachine(), packages: Map<string, string> = platformPackages()): string {
  const key = `${m.platform}-${m.arch}`;
  const machine = `${key}${m.libc ? ` (${m.libc})` : ''}, Node ${m.node}`;
  const steps: string[] = [];
  if (m.platform === 'darwin' && m.arch === 'x64') {
    steps.push(
      m.rosetta
        ? 'This is an x64 Node running under Rosetta on an Apple Silicon Mac: install the arm64 build of Node.js (`node -p process.arch` must print arm64) and reinstall embedrt.'
        : 'Intel Macs are not supported: ONNX Runtime 1.30 (onnxruntime-node) ships no darwin-x64 library. Use an Apple Silicon Mac, Linux or Windows.',
    );
  } else if (m.libc === 'musl') {
    steps.push('musl Linux (Alpine) has no prebuilt package: ONNX Runtime ships glibc builds only. Use a glibc-based image (Debian, Ubuntu, RHEL, Amazon Linux; glibc 2.28 or newer).');
  } else if (!packages.has(key)) {
    steps.push(`embedrt publishes no package for ${key}; the platforms are ${[...packages.keys()].join(', ')}.`);
  } else {
    steps.push(
      `Reinstall embedrt so that npm installs ${packages.get(key)} (an optional dependency: installs with --no-optional / --omit=optional, or a lockfile made on another platform, leave it out; \`npm install --os=${m.platform} --cpu=${m.arch}\` adds it).`,
    );
  }
  steps.push(
    'Build from source: `npm install embedrt --build-from-source` (needs cmake 3.19+ and a C++17 compiler; see the README\'s "Building from source").',
    'Or point EMBEDRT_ADDON_PATH at an embedrt.node built for this machine (its ONNX Runtime library beside it).',
  );
  return [
    `embedrt could not load its native addon on ${machine}.`,
    'Tried:',
    ...tried.map((t) => `  - ${t}`),
    'Possible solutions:',
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
  ].join('\n');
}

export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  let lastError: unknown;
  const attempt = (kind: AddonSource['kind'], file: string): boolean => {
    if (!fs.existsSync(file)) {
      tried.push(`${kind}: ${file} (not there)`);
      return false;
    }
    try {
      addon = require(file) as NativeAddon;
      addonSource = { kind, file };
      return true;
    } catch (err) {
      lastError = err;
      tried.push(`${kind}: ${file}: ${(err as Error).message.split('\n')[0]}`);
      return false;
    }
  };
  const override = process.env.EMBEDRT_ADDON_PATH;
  if (override) {
    if (attempt('override', path.resolve(override))) return addon!;
  } else {
    const pkg = platformPackages().get(platformKey());
    if (pkg) {
      let dir: string | undefined;
      try {
        dir = path.dirname(createRequire(path.join(packageRoot, 'package.json')).resolve(`${pkg}/package.json`));
      } catch {
        tried.push(`package: ${pkg} (not installed)`);
      }
      if (dir && attempt('package', path.join(dir, 'embedrt.node'))) return addon!;
    }
    if (attempt('local build', path.join(packageRoot, 'build', 'Release', 'embedrt.node'))) return addon!;
  }
  throw new EmbedrtError('E_NATIVE_LOAD', loadHelp(tried), { cause: lastError });
}
