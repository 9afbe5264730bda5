#!/usr/bin/env node
// Assembles the native build's third-party SDKs under build/deps/, idempotently:
//
//   build/deps/ort/       ONNX Runtime C/C++ SDK: include/*.h and lib/libonnxruntime.so.1
//   build/deps/utf8proc/  utf8proc: include/utf8proc.h and lib/libutf8proc.a (linked statically)
//
// ONNX Runtime comes from, in order:
//   1. ORT_ROOT, an official SDK folder (include/, lib/) — also how GPU builds get the CUDA/TensorRT
//      providers. It is used in place, nothing is copied.
//   2. headers from Debian trixie's libonnxruntime-dev (1.21; we request ORT API version 21) and the
//      runtime library libonnxruntime.so.1 (1.30) from the onnxruntime-node npm package.
// Debian packages are fetched with `apt-get download` against a private sources list, state and cache
// under build/deps/apt, then unpacked with `dpkg -x`; the system's apt configuration is never touched.
//
// Prints the paths as JSON on stdout with --print (CMake reads them), or one of them with --get KEY
// (binding.gyp's command expansions).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const depsDir = path.join(root, 'build', 'deps');
const ORT_NODE_VERSION = '1.30.0';
const DEBIAN_SUITE = 'trixie';
const DEBIAN_MIRROR = process.env.EMBEDRT_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const getIndex = process.argv.indexOf('--get');
const getKey = getIndex > 0 ? process.argv[getIndex + 1] : undefined;
const quiet = process.argv.includes('--print') || getKey !== undefined;

function log(msg) {
  if (!quiet) process.stderr.write(`[embedrt:deps] ${msg}\n`);
}

class SetupError extends Error {}

function fail(what, cause, remedy) {
  throw new SetupError(
    `embedrt: could not assemble ${what}.\n  cause: ${cause}\n  to fix: ${remedy.join('\n          ')}`,
  );
}

function debArch() {
  const map = { x64: 'amd64', arm64: 'arm64' };
  const arch = map[process.arch];
  if (process.platform !== 'linux' || !arch) {
    fail('the ONNX Runtime SDK', `no Debian packages for ${process.platform}-${process.arch}`, [
      'set ORT_ROOT to an official ONNX Runtime SDK folder (with include/ and lib/).',
    ]);
  }
  return arch;
}

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function aptDir(suite) {
  return path.join(depsDir, 'apt', suite);
}

function aptOptions(arch, suite) {
  const dir = aptDir(suite);
  return [
    `-oDir::Etc::SourceList=${path.join(dir, 'sources.list')}`,
    '-oDir::Etc::SourceParts=/dev/null',
    '-oDir::Etc::Preferences=/dev/null',
    '-oDir::Etc::PreferencesParts=/dev/null',
    `-oDir::State=${path.join(dir, 'state')}`,
    `-oDir::State::Lists=${path.join(dir, 'lists')}`,
    '-oDir::State::status=/dev/null',
    `-oDir::Cache=${path.join(dir, 'cache')}`,
    `-oAPT::Architecture=${arch}`,
    `-oAPT::Architectures=${arch}`,
    '-oAcquire::IndexTargets::deb::DEP-11::DefaultEnabled=false',
    '-oAcquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false',
    '-oAcquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false',
    '-oAcquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false',
    '-oAPT::Sandbox::User=root',
    '-oDebug::NoLocking=1',
  ];
}

const aptReady = new Set();
// Downloads one Debian package of `suite` and unpacks it; returns the folder and the version.
function aptDownload(pkg, suite = DEBIAN_SUITE) {
  const arch = debArch();
  if (!have('apt-get') || !have('dpkg')) {
    fail(`${pkg}`, 'apt-get and dpkg are not on PATH', [
      'set ORT_ROOT to an official ONNX Runtime SDK folder (with include/ and lib/), or',
      'run on a Debian-based system with apt-get.',
    ]);
  }
  const opts = aptOptions(arch, suite);
  if (!aptReady.has(suite)) {
    const dir = aptDir(suite);
    for (const d of ['lists/partial', 'state', 'cache/archives/partial']) {
      fs.mkdirSync(path.join(dir, d), { recursive: true });
    }
    const signedBy = fs.existsSync(DEBIAN_KEYRING) ? `[signed-by=${DEBIAN_KEYRING}] ` : '';
    fs.writeFileSync(path.join(dir, 'sources.list'), `deb ${signedBy}${DEBIAN_MIRROR} ${suite} main\n`);
    log(`apt-get update (private lists for Debian ${suite}, under ${path.relative(root, dir)})`);
    try {
      execFileSync('apt-get', [...opts, '-qq', 'update'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      fail(`${pkg}`, `apt-get update of Debian ${suite} failed: ${String(e.stderr || e.message).trim()}`, [
        'check that the Debian mirror is reachable (EMBEDRT_DEBIAN_MIRROR overrides it), or',
        'set ORT_ROOT to an official ONNX Runtime SDK folder (with include/ and lib/).',
      ]);
    }
    aptReady.add(suite);
  }
  const debDir = path.join(depsDir, 'debs', suite);
  fs.mkdirSync(debDir, { recursive: true });
  log(`apt-get download ${pkg}`);
  try {
    execFileSync('apt-get', [...opts, '-qq', 'download', pkg], { cwd: debDir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    fail(`${pkg}`, `apt-get download ${pkg} failed: ${String(e.stderr || e.message).trim()}`, [
      'set ORT_ROOT to an official ONNX Runtime SDK folder (with include/ and lib/).',
    ]);
  }
  const deb = fs.readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) fail(pkg, `apt-get download left no ${pkg}_*.deb in ${debDir}`, ['report this as a bug.']);
  const out = path.join(depsDir, 'unpacked', suite, pkg);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  execFileSync('dpkg', ['-x', path.join(debDir, deb), out]);
  return { dir: out, version: deb.split('_')[1] };
}

function multiarchLibDir(unpacked) {
  const libRoot = path.join(unpacked, 'usr', 'lib');
  const sub = fs.readdirSync(libRoot).find((d) => d.endsWith('-linux-gnu'));
  return sub ? path.join(libRoot, sub) : libRoot;
}

function findOrtNodeLibrary() {
  const rel = path.join('bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime.so.1');
  try {
    const req = createRequire(path.join(root, 'package.json'));
    const pkgJson = req.resolve('onnxruntime-node/package.json');
    const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
    const lib = path.join(path.dirname(pkgJson), rel);
    if (version.startsWith('1.30.') && fs.existsSync(lib)) return { lib, version };
    log(`node_modules/onnxruntime-node is ${version}, not 1.30.x; fetching ${ORT_NODE_VERSION} with npm pack`);
  } catch {
    log(`onnxruntime-node is not installed; fetching ${ORT_NODE_VERSION} with npm pack`);
  }
  const packDir = path.join(depsDir, 'onnxruntime-node');
  const lib = path.join(packDir, 'package', rel);
  if (!fs.existsSync(lib)) {
    fs.mkdirSync(packDir, { recursive: true });
    try {
      const tgz = execFileSync('npm', ['pack', `onnxruntime-node@${ORT_NODE_VERSION}`, '--silent'], {
        cwd: packDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim().split('\n').pop();
      execFileSync('tar', ['xzf', tgz], { cwd: packDir });
    } catch (e) {
      fail('libonnxruntime.so.1', `npm pack onnxruntime-node@${ORT_NODE_VERSION} failed: ${String(e.stderr || e.message).trim()}`, [
        'set ORT_ROOT to an official ONNX Runtime SDK folder (with include/ and lib/), or',
        `install onnxruntime-node@${ORT_NODE_VERSION} with ONNXRUNTIME_NODE_INSTALL=skip.`,
      ]);
    }
  }
  if (!fs.existsSync(lib)) fail('libonnxruntime.so.1', `onnxruntime-node has no ${rel}`, ['set ORT_ROOT.']);
  return { lib, version: ORT_NODE_VERSION };
}

function stampOk(dir, key) {
  try {
    return fs.readFileSync(path.join(dir, '.stamp'), 'utf8') === key;
  } catch {
    return false;
  }
}

function assembleOrt() {
  if (process.env.ORT_ROOT) {
    const ortRoot = path.resolve(process.env.ORT_ROOT);
    const header = path.join(ortRoot, 'include', 'onnxruntime_cxx_api.h');
    if (!fs.existsSync(header)) {
      fail('the ONNX Runtime SDK', `ORT_ROOT=${ortRoot} has no include/onnxruntime_cxx_api.h`, [
        'point ORT_ROOT at an unpacked official SDK (onnxruntime-linux-x64-<version>/), or unset it.',
      ]);
    }
    const libDir = path.join(ortRoot, 'lib');
    if (!fs.existsSync(libDir) || !fs.readdirSync(libDir).some((f) => /^libonnxruntime\.(so|dylib)/.test(f))) {
      fail('the ONNX Runtime SDK', `ORT_ROOT=${ortRoot} has no lib/libonnxruntime.so*`, [
        'point ORT_ROOT at an unpacked official SDK, or unset it.',
      ]);
    }
    return { root: ortRoot, source: 'ORT_ROOT' };
  }
  const ortDir = path.join(depsDir, 'ort');
  const { lib, version } = findOrtNodeLibrary();
  const key = `debian-${DEBIAN_SUITE}-libonnxruntime-dev+onnxruntime-node-${version}`;
  if (stampOk(ortDir, key)) return { root: ortDir, source: key };
  log('assembling the ONNX Runtime SDK');
  const dev = aptDownload('libonnxruntime-dev');
  fs.rmSync(ortDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(ortDir, 'lib'), { recursive: true });
  fs.cpSync(path.join(dev.dir, 'usr', 'include', 'onnxruntime'), path.join(ortDir, 'include'), { recursive: true });
  fs.copyFileSync(lib, path.join(ortDir, 'lib', 'libonnxruntime.so.1'));
  fs.symlinkSync('libonnxruntime.so.1', path.join(ortDir, 'lib', 'libonnxruntime.so'));
  fs.writeFileSync(path.join(ortDir, 'VERSION'), `headers ${dev.version} (Debian ${DEBIAN_SUITE}); runtime onnxruntime-node ${version}\n`);
  fs.writeFileSync(path.join(ortDir, '.stamp'), key);
  return { root: ortDir, source: key };
}

function assembleUtf8proc() {
  const dir = path.join(depsDir, 'utf8proc');
  const key = `debian-${DEBIAN_SUITE}-libutf8proc-dev`;
  if (process.env.UTF8PROC_ROOT) return { root: path.resolve(process.env.UTF8PROC_ROOT), source: 'UTF8PROC_ROOT' };
  if (stampOk(dir, key)) return { root: dir, source: key };
  log('assembling utf8proc');
  const dev = aptDownload('libutf8proc-dev');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'include'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
  fs.copyFileSync(path.join(dev.dir, 'usr', 'include', 'utf8proc.h'), path.join(dir, 'include', 'utf8proc.h'));
  fs.copyFileSync(path.join(multiarchLibDir(dev.dir), 'libutf8proc.a'), path.join(dir, 'lib', 'libutf8proc.a'));
  fs.writeFileSync(path.join(dir, 'VERSION'), `${dev.version} (Debian ${DEBIAN_SUITE})\n`);
  fs.writeFileSync(path.join(dir, '.stamp'), key);
  return { root: dir, source: key };
}

// Unpacks Debian bookworm packages into build/deps/<name> once (a stamp names what is there).
function assembleBookworm(name, packages) {
  const dir = path.join(depsDir, name);
  const key = `debian-bookworm:${packages.join(',')}`;
  if (!stampOk(dir, key)) {
    log(`assembling ${name}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const pkg of packages) fs.cpSync(aptDownload(pkg, 'bookworm').dir, dir, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(dir, '.stamp'), key);
  }
  return dir;
}

// Tools for the native tests, fetched on request (JSON or a path on stdout):
//   --clang            clang 14 with libFuzzer and the sanitizer runtimes (bookworm's runs on this glibc);
//   --aarch64-sysroot  AArch64 cross headers (glibc, libstdc++ 12, Linux), to compile the NEON kernels
//                      on x86-64 (types and syntax only; nothing links or runs).
const tools = {
  '--clang': () => {
    const dir = assembleBookworm('clang', ['clang-14', 'libclang-cpp14', 'libllvm14', 'libclang-common-14-dev', 'libclang-rt-14-dev']);
    const libPath = [path.join(dir, 'usr', 'lib', 'x86_64-linux-gnu'), path.join(dir, 'usr', 'lib', 'llvm-14', 'lib')].join(':');
    return JSON.stringify({ clangxx: path.join(dir, 'usr', 'lib', 'llvm-14', 'bin', 'clang++'), libPath });
  },
  '--aarch64-sysroot': () =>
    path.join(assembleBookworm('aarch64-sysroot', ['libc6-dev-arm64-cross', 'linux-libc-dev-arm64-cross', 'libstdc++-12-dev-arm64-cross']), 'usr', 'aarch64-linux-gnu'),
};
const tool = Object.keys(tools).find((t) => process.argv.includes(t));
if (tool) {
  try {
    process.stdout.write(tools[tool]());
  } catch (e) {
    process.stderr.write(`${e instanceof SetupError ? e.message : e.stack}\n`);
    process.exit(1);
  }
  process.exit(0);
}

try {
  const ort = assembleOrt();
  const utf8proc = assembleUtf8proc();
  const result = { ortRoot: ort.root, ortSource: ort.source, utf8procRoot: utf8proc.root };
  if (getKey) process.stdout.write(String(result[getKey] ?? ''));
  else if (quiet) process.stdout.write(JSON.stringify(result));
  else log(`ready: ORT at ${ort.root} (${ort.source}); utf8proc at ${utf8proc.root}`);
} catch (e) {
  process.stderr.write(`${e instanceof SetupError ? e.message : e.stack}\n`);
  process.exit(1);
}
