#!/usr/bin/env node
// npm run prebuild:all [-- <target>...] [--check]
// node scripts/prebuild-all.mjs --kernel-tests   (the native kernel tests on linux-arm64, under qemu-user)
//
// Cross-builds the addon for every target of scripts/targets.mjs on this Linux machine with zig (from
// PyPI's `ziglang` wheel; ZIG names another zig) driving the one CMakeLists.txt, and lays each result
// out as its npm package: packages/<target>/ gets embedrt.node and the target's ONNX Runtime library
// (onnxruntime-node 1.30.0's own). --check only reports which expected binaries are missing (exit 1
// when any is).
//
// Why zig: one download (PyPI) gives a C/C++ compiler, libc++, linker and import-library tool for all
// five targets; Linux builds target glibc 2.28 exactly (no sysroot to assemble), macOS builds need no
// SDK, and its libc++ is linked statically, so no GLIBCXX_/libc++ version is asked of the user's
// machine. See the README's platform section for the measured times.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readZip } from './fetch.mjs';
import { ORT_NODE_VERSION, TARGETS, packageName } from './targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const log = (msg) => process.stderr.write(`[embedrt:prebuild] ${msg}\n`);

// zig 0.17.1 as PyPI's ziglang wheel for linux x86-64 carries it.
const ZIG = {
  version: '0.17.1',
  wheel: 'ziglang-0.17.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl',
  sha256: 'ea6cc5d87b033cf0aedfbc8f9549a908cae6c50ac31f1698188fa48a74524b54',
};

function packageDir(target) {
  return path.join(root, 'packages', target);
}

// What a target's package must hold to be published.
function expectedFiles(target) {
  return ['embedrt.node', TARGETS[target].name];
}

function missing(target) {
  return expectedFiles(target).filter((f) => !fs.existsSync(path.join(packageDir(target), f)));
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// The zig binary: $ZIG, or the one unpacked from the pinned wheel into the user's cache
// ($XDG_CACHE_HOME or ~/.cache)/embedrt/zig-<version>. Not under build/: zig's own cache (~/.cache/zig,
// where each target's libc++ is built once, minutes per target) is keyed by the paths of zig's library
// files, so a zig unpacked into every checkout made every clean clone rebuild all five libc++ (seen: a
// clean-clone CI spent 394 s on win32-x64 that this checkout builds in 30 s).
function zig() {
  if (process.env.ZIG) return process.env.ZIG;
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(cacheHome, 'embedrt', `zig-${ZIG.version}`);
  const bin = path.join(dir, 'ziglang', 'zig');
  if (fs.existsSync(path.join(dir, '.stamp'))) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`prebuild:all runs on linux-x64 (zig's pinned wheel); set ZIG to a zig ${ZIG.version} binary elsewhere`);
  }
  const wheels = path.join(cacheHome, 'embedrt', 'wheels');
  const wheel = path.join(wheels, ZIG.wheel);
  if (!fs.existsSync(wheel)) {
    log(`fetching zig ${ZIG.version} from PyPI (ziglang)`);
    execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--dest', wheels, `ziglang==${ZIG.version}`], { stdio: 'inherit' });
  }
  if (sha256(wheel) !== ZIG.sha256) throw new Error(`${wheel} does not have the pinned SHA-256 ${ZIG.sha256}`);
  // Unpacked beside and renamed into place: another build may be reading the cache.
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [name, { data, mode }] of readZip(fs.readFileSync(wheel), (n) => n.startsWith('ziglang/'))) {
    const out = path.join(tmp, name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, data, { mode: mode || 0o644 });
  }
  fs.chmodSync(path.join(tmp, 'ziglang', 'zig'), 0o755);
  fs.writeFileSync(path.join(tmp, '.stamp'), ZIG.sha256);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return bin;
}

// Wrapper scripts (CMake wants one executable per tool) and a toolchain file for one target.
// zigTarget overrides the target's (the kernel tests' static musl build).
function toolchain(target, zigBin, dir, zigTarget = TARGETS[target].zig) {
  const t = TARGETS[target];
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const wrap = (name, cmd) => {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nexec "${zigBin}" ${cmd} "$@"\n`, { mode: 0o755 });
    return path.join(bin, name);
  };
  // The same mode on every call, CMake's compiler identification (which passes no flags) included: zig
  // builds its libc++ per target and per optimization / PIC / strip mode, and a second mode for that one
  // probe doubled the cold build time. -s: no symbol table or debug sections in what ships (macOS output
  // is then ad-hoc signed).
  const flags = '-O3 -fPIC -s -Wno-unused-command-line-argument';
  const cc = wrap('cc', `cc -target ${zigTarget} ${flags}`);
  const cxx = wrap('c++', `c++ -target ${zigTarget} ${flags}`);
  const ar = wrap('ar', 'ar');
  const ranlib = wrap('ranlib', 'ranlib');
  const system = { linux: 'Linux', darwin: 'Darwin', win32: 'Windows' }[t.os];
  const processor = t.cpu === 'x64' ? 'x86_64' : 'aarch64';
  const file = path.join(dir, 'toolchain.cmake');
  fs.writeFileSync(
    file,
    [
      `# Written by scripts/prebuild-all.mjs for ${target} (zig ${zigTarget}).`,
      `set(CMAKE_SYSTEM_NAME ${system})`,
      `set(CMAKE_SYSTEM_PROCESSOR ${processor})`,
      `set(CMAKE_C_COMPILER "${cc}")`,
      `set(CMAKE_CXX_COMPILER "${cxx}")`,
      `set(CMAKE_AR "${ar}" CACHE FILEPATH "")`,
      `set(CMAKE_RANLIB "${ranlib}" CACHE FILEPATH "")`,
      'set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)',
      'set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)',
      'set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)',
      '',
    ].join('\n'),
  );
  return file;
}

// Windows: an import library for node.exe's Node-API exports, from node-api-headers' .def file.
function nodeImportLib(target, zigBin, dir) {
  const def = path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'def', 'node_api.def');
  const lib = path.join(dir, 'node.lib');
  const machine = TARGETS[target].cpu === 'x64' ? 'i386:x86-64' : 'arm64';
  execFileSync(zigBin, ['dlltool', '-d', def, '-l', lib, '-m', machine], { stdio: 'inherit' });
  return lib;
}

// The platform package's own files: package.json (version = embedrt's; os/cpu/libc so npm installs it
// only where it runs), a README and the third-party licenses of what the binaries contain.
function writePackage(target) {
  const t = TARGETS[target];
  const main = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const out = packageDir(target);
  fs.mkdirSync(out, { recursive: true });
  const pkg = {
    name: packageName(target),
    version: main.version,
    description: `embedrt's native addon and ONNX Runtime ${ORT_NODE_VERSION} for ${target}${t.libc ? ` (${t.libc})` : ''}`,
    license: main.license,
    repository: main.repository,
    os: [t.os],
    cpu: [t.cpu],
    ...(t.libc ? { libc: [t.libc] } : {}),
    files: [...expectedFiles(target), 'README.md', 'THIRD_PARTY_LICENSES.md'],
    preferUnplugged: true,
  };
  fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(
    path.join(out, 'README.md'),
    `# ${pkg.name}\n\n${pkg.description}. Installed by [embedrt](https://www.npmjs.com/package/embedrt) as an optional\n` +
      'dependency on this platform only; not meant to be used on its own.\n',
  );
  const licenses = [
    ['ONNX Runtime (the library beside the addon; its headers are compiled in)', path.join(root, 'third_party', 'onnxruntime', 'LICENSE')],
    ['utf8proc (compiled into the addon)', path.join(depsSource(), 'LICENSE.md')],
  ];
  fs.writeFileSync(
    path.join(out, 'THIRD_PARTY_LICENSES.md'),
    licenses.map(([what, file]) => `## ${what}\n\n\`\`\`\n${fs.readFileSync(file, 'utf8').trim()}\n\`\`\`\n`).join('\n') +
      "\n## LLVM libc++ (linked statically by zig)\n\nApache License v2.0 with LLVM Exceptions (https://llvm.org/LICENSE.txt).\n",
  );
}

function depsSource() {
  return JSON.parse(execFileSync(process.execPath, [path.join(root, 'scripts', 'assemble-ort.mjs'), '--print'], { encoding: 'utf8' })).utf8procSource;
}

// Runs a build step quietly and returns its output; on failure its output's tail is the error.
function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... failed:\n${out}`);
  }
}

// Builds one CMake target; embedrt's own sources build with its warning flags (-Wall -Wextra
// -Wconversion ...) for every platform, and a warning in them fails the build, as in the native tests'.
function buildWithoutWarnings(build, cmakeTarget, label) {
  const output = run('cmake', ['--build', build, '--target', cmakeTarget]);
  const warnings = output.split('\n').filter((l) => /\bnative\/.*warning:/.test(l));
  if (warnings.length) throw new Error(`${label}: the build warns:\n${warnings.join('\n')}`);
}

function buildTarget(target, zigBin) {
  const t = TARGETS[target];
  const dir = path.join(root, 'build', 'cross', target);
  const build = path.join(dir, 'build');
  const args = [
    '-S', root, '-B', build, '-G', 'Ninja',
    `-DCMAKE_TOOLCHAIN_FILE=${toolchain(target, zigBin, dir)}`,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DEMBEDRT_ADDON=ON',
    `-DEMBEDRT_TARGET=${target}`,
  ];
  if (t.os === 'win32') args.push(`-DEMBEDRT_NODE_IMPORT_LIB=${nodeImportLib(target, zigBin, dir)}`);
  const started = Date.now();
  run('cmake', args);
  buildWithoutWarnings(build, 'embedrt', target);
  writePackage(target);
  const out = packageDir(target);
  for (const f of expectedFiles(target)) fs.copyFileSync(path.join(build, f), path.join(out, f));
  log(`${target}: built in ${((Date.now() - started) / 1000).toFixed(0)} s → packages/${target}/`);
}

// --kernel-tests: the native kernel tests (SIMD and low-precision linear kernels, native/tests) built for
// linux-arm64 — static (musl), GoogleTest compiled from Debian's source — and run under qemu-user with
// every AArch64 feature (QEMU_CPU=max: NEON and the dot-product instructions), so the NEON kernels run
// and are checked as the x86 ones are. Needs qemu-aarch64-static (scripts/native-tests.sh installs it).
const GTEST_SOURCE = '/usr/src/googletest';
const KERNEL_TESTS = '*Lowp*:*Simd*:LinearPacking.*:*Attention*';
function kernelTests(zigBin) {
  const target = 'linux-arm64';
  const dir = path.join(root, 'build', 'cross', `${target}-kernel-tests`);
  const build = path.join(dir, 'build');
  if (!fs.existsSync(path.join(GTEST_SOURCE, 'CMakeLists.txt'))) {
    throw new Error(`the AArch64 kernel tests compile GoogleTest from ${GTEST_SOURCE} (Debian's googletest package): not found`);
  }
  const started = Date.now();
  run('cmake', [
    '-S', root, '-B', build, '-G', 'Ninja',
    `-DCMAKE_TOOLCHAIN_FILE=${toolchain(target, zigBin, dir, 'aarch64-linux-musl')}`,
    '-DCMAKE_BUILD_TYPE=Release', '-DEMBEDRT_ADDON=OFF', '-DEMBEDRT_TESTS=ON',
    `-DEMBEDRT_TARGET=${target}`, `-DEMBEDRT_GTEST_SOURCE=${GTEST_SOURCE}`,
    '-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-aarch64-static',  // for gtest_discover_tests
  ]);
  buildWithoutWarnings(build, 'embedrt_tests', `${target} kernel tests`);
  log(`${target} kernel tests: built in ${((Date.now() - started) / 1000).toFixed(0)} s; running under qemu-aarch64-static`);
  execFileSync('qemu-aarch64-static', [path.join(build, 'embedrt_tests'), `--gtest_filter=${KERNEL_TESTS}`, '--gtest_brief=1'], {
    stdio: 'inherit',
    env: { ...process.env, QEMU_CPU: 'max' },
  });
}

function report(targets) {
  let ok = true;
  for (const target of targets) {
    const gone = missing(target);
    if (gone.length) ok = false;
    console.log(`${target.padEnd(13)} ${gone.length ? `MISSING ${gone.join(', ')}` : 'ok'}`);
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const asked = argv.filter((a) => !a.startsWith('--'));
  for (const t of asked) {
    if (!TARGETS[t]) {
      console.error(`no target ${t}; the targets are ${Object.keys(TARGETS).join(', ')}`);
      process.exit(2);
    }
  }
  if (argv.includes('--kernel-tests')) {
    try {
      kernelTests(zig());
    } catch (e) {
      console.error(e.message);
      process.exit(1);
    }
    process.exit(0);
  }
  const targets = asked.length ? asked : Object.keys(TARGETS);
  if (!argv.includes('--check')) {
    const zigBin = zig();
    for (const target of targets) buildTarget(target, zigBin);
  }
  process.exit(report(targets) ? 0 : 1);
}
