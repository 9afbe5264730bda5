// Structural checks of every prebuilt addon (npm run prebuild:all), read with test/platforms/binfmt.ts:
// what each binary asks of the machine that loads it. The Linux ones must run on glibc 2.28 (RHEL 8,
// Debian 10, Ubuntu 20.04, Amazon Linux 2023); the ones that cannot run here (darwin-arm64, win32-arm64)
// are checked for format, architecture, minimum OS, how they find ONNX Runtime and what they import.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { highestVersion, readElf, readMachO, readPe, compareVersions } from './binfmt.js';
import { packageDir, requirePrebuilds, root } from './harness.js';

const file = (target: string, name: string) => fs.readFileSync(path.join(packageDir(target as never), name));
const nodeApi = (name: string) => /^_?napi_/.test(name);

beforeAll(() => requirePrebuilds());

// The name each platform's ONNX Runtime library must have beside the addon: what native/core/platform.cc loads.
function loadedName(os: 'linux' | 'darwin' | 'win32'): string {
  const src = fs.readFileSync(path.join(root, 'native', 'core', 'platform.cc'), 'utf8');
  const m = { win32: /_WIN32\nconst char\* const kOrtLibraryName = "([^"]+)"/, darwin: /__APPLE__\)\nconst char\* const kOrtLibraryName = "([^"]+)"/, linux: /#else\nconst char\* const kOrtLibraryName = "([^"]+)"/ }[os].exec(src);
  return m![1]!;
}

describe.each([
  ['linux-x64', 'x86_64'],
  ['linux-arm64', 'aarch64'],
] as const)('%s', (target, machine) => {
  it(`is an ${machine} ELF that needs glibc 2.28 at most, no libstdc++, and leaves only Node-API unresolved`, () => {
    const elf = readElf(file(target, 'embedrt.node'));
    expect(elf.machine).toBe(machine);
    const glibc = highestVersion(elf, 'GLIBC_')!;
    expect(compareVersions(glibc, 'GLIBC_2.28')).toBeLessThanOrEqual(0);
    expect(highestVersion(elf, 'GLIBCXX_')).toBeUndefined(); // libc++ is linked in
    expect(elf.needed.every((n) => ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1'].includes(n) || n.startsWith('ld-linux'))).toBe(true);
    const unversioned = elf.undefined.filter((s) => !s.version && !s.weak).map((s) => s.name);
    expect(unversioned.length).toBeGreaterThan(20);
    expect(unversioned.filter((n) => !nodeApi(n))).toEqual([]);
    expect(elf.undefined.filter((s) => s.version).every((s) => s.version.startsWith('GLIBC_'))).toBe(true);
  });

  it(`ships ONNX Runtime as ${loadedName('linux')}, itself within glibc 2.28 (and GLIBCXX_3.4.22)`, () => {
    const elf = readElf(file(target, loadedName('linux')));
    expect(elf.machine).toBe(machine);
    expect(compareVersions(highestVersion(elf, 'GLIBC_')!, 'GLIBC_2.28')).toBeLessThanOrEqual(0);
    expect(compareVersions(highestVersion(elf, 'GLIBCXX_') ?? 'GLIBCXX_0', 'GLIBCXX_3.4.22')).toBeLessThanOrEqual(0);
  });
});

describe('darwin-arm64', () => {
  it('is an arm64 Mach-O for macOS 14, ad-hoc signed, linking only libSystem, with Node-API left to the loading process', () => {
    const m = readMachO(file('darwin-arm64', 'embedrt.node'));
    expect(m.cpu).toBe('arm64');
    expect(['bundle', 'dylib']).toContain(m.fileType);
    expect(m.minOs).toBe('14.0'); // ONNX Runtime's own dylib requires macOS 14
    expect(m.codeSigned).toBe(true); // arm64 macOS refuses to load unsigned code
    expect(m.dylibs).toEqual(['/usr/lib/libSystem.B.dylib']);
    expect(m.rpaths).toEqual([]); // ONNX Runtime is loaded by full path beside the addon, not linked
    const lookedUp = m.undefined.filter((s) => s.from === 'dynamic lookup').map((s) => s.name);
    expect(lookedUp.length).toBeGreaterThan(20);
    expect(lookedUp.filter((n) => !nodeApi(n))).toEqual([]);
    expect(m.undefined.filter((s) => s.from !== 'dynamic lookup').every((s) => s.from === '/usr/lib/libSystem.B.dylib')).toBe(true);
  });

  it(`ships ONNX Runtime as ${loadedName('darwin')}: an arm64 dylib needing macOS 14 and system libraries only`, () => {
    const m = readMachO(file('darwin-arm64', loadedName('darwin')));
    expect(m.cpu).toBe('arm64');
    expect(m.fileType).toBe('dylib');
    expect(m.minOs).toBe('14.0');
    expect(m.dylibs.every((d) => d.startsWith('/usr/lib/') || d.startsWith('/System/Library/'))).toBe(true);
  });
});

describe.each([
  ['win32-x64', 'x64'],
  ['win32-arm64', 'arm64'],
] as const)('%s', (target, machine) => {
  const SYSTEM = /^(kernel32|ntdll|advapi32|bcrypt|user32|shell32|ole32|ws2_32|msvcrt|ucrtbase|api-ms-win-[a-z0-9-]+)\.dll$/i;

  it(`is an ${machine} PE DLL importing node.exe's napi_* functions and system DLLs only`, () => {
    const pe = readPe(file(target, 'embedrt.node'));
    expect(pe.machine).toBe(machine);
    expect(pe.isDll).toBe(true);
    const dlls = Object.keys(pe.imports);
    expect(dlls.find((d) => d.toUpperCase() === 'NODE.EXE')).toBeDefined();
    expect(pe.imports['NODE.EXE']!.every(nodeApi)).toBe(true);
    expect(dlls.filter((d) => d.toUpperCase() !== 'NODE.EXE' && !SYSTEM.test(d))).toEqual([]);
    // ONNX Runtime is loaded at run time (LoadLibraryExW beside the addon), never imported: a missing or
    // foreign onnxruntime.dll (System32 has one on some Windows) becomes an error message, not a failed load.
    expect(dlls.some((d) => /onnxruntime/i.test(d))).toBe(false);
    expect(Object.keys(pe.delayImports)).toEqual([]);
  });

  it(`ships ONNX Runtime as ${loadedName('win32')} (${machine})`, () => {
    const pe = readPe(file(target, loadedName('win32')));
    expect(pe.machine).toBe(machine);
    expect(pe.isDll).toBe(true);
  });
});
