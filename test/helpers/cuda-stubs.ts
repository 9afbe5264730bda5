// Stand-ins for the CUDA libraries a CUDA execution provider library links (libcudart, cuBLAS, …),
// built from a few generated lines of C: every function the provider imports from them exists (with
// the library's symbol version), registration calls succeed, the device count is one, and every other
// call answers CUDA's error 100, "no CUDA-capable device is detected". The provider then loads, and fails cleanly at its
// first real CUDA call — how a machine without a GPU (or without a driver) looks to it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { aptInstall } from './apt.js';

const execFileP = promisify(execFile);

/** Builds the stubs of every CUDA library `providerLib` needs into outDir, but those named in `omit`. */
export async function buildCudaStubs(providerLib: string, outDir: string, omit: readonly string[] = []): Promise<string[]> {
  await aptInstall('binutils', '/usr/bin/nm');
  fs.mkdirSync(outDir, { recursive: true });
  const needed = [...(await execFileP('readelf', ['-d', providerLib])).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(libcu[^\]]+)\]/g)].map((m) => m[1]!);
  const symbols = new Map<string, string[]>(needed.map((lib) => [lib, []]));
  for (const line of (await execFileP('nm', ['-D', '--undefined-only', providerLib], { maxBuffer: 64 << 20 })).stdout.split('\n')) {
    const sym = line.trim().split(/\s+/).pop() ?? '';
    const versioned = /^([A-Za-z_][A-Za-z0-9_]*)@(libcu[^@]+)$/.exec(sym);
    if (versioned && symbols.has(versioned[2]!)) symbols.get(versioned[2]!)!.push(versioned[1]!);
    else if (/^cu[A-Z]\w*$/.test(sym) && symbols.has('libcuda.so.1')) symbols.get('libcuda.so.1')!.push(sym); // the driver's are unversioned
  }
  const built: string[] = [];
  for (const [lib, syms] of symbols) {
    if (omit.includes(lib)) continue;
    const body = syms.map((s) => {
      if (s === '__cudaRegisterFatBinary') return `void** ${s}(void* fatbin) { (void)fatbin; return handle; }`;
      if (s === 'cudaGetErrorString' || s === 'cudaGetErrorName') return `const char* ${s}(int e) { (void)e; return "no CUDA-capable device is detected (embedrt test stub)"; }`;
      if (s.startsWith('__cuda')) return `int ${s}(void) { return 0; }`; // kernel registration at load: succeeds
      // One device listed: the provider's options (device_id is checked against the count) are all
      // read, so an option it does not know fails here as it would on a GPU; the device then fails.
      if (s === 'cudaGetDeviceCount') return `int ${s}(int* n) { *n = 1; return 0; }`;
      return `int ${s}(void) { return 100; }`; // cudaErrorNoDevice (and a failure status for the other libraries)
    });
    const c = path.join(outDir, `${lib}.c`);
    fs.writeFileSync(c, ['static void* handle[4];', ...body, ''].join('\n'));
    const args = ['-shared', '-fPIC', '-o', path.join(outDir, lib), c, `-Wl,-soname,${lib}`];
    // The provider asks for e.g. cudaMalloc@libcudart.so.13: the stub defines that version (the driver's, none).
    if (syms.length > 0 && lib !== 'libcuda.so.1') {
      const map = path.join(outDir, `${lib}.map`);
      fs.writeFileSync(map, `${lib} { global: ${syms.join('; ')}; local: *; };\n`);
      args.push(`-Wl,--version-script=${map}`);
    }
    await execFileP('cc', args);
    built.push(lib);
  }
  return built;
}
