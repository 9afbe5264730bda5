#!/usr/bin/env node
// The native build's third-party inputs, for the host or for a cross-build target (--target
// <platform>-<arch>, one of scripts/targets.mjs), printed as JSON (--print; CMake reads it):
//
//   ortInclude      ONNX Runtime's C/C++ API headers: third_party/onnxruntime/include (vendored, 1.21), or
//                   ORT_ROOT/include.
//   ortLibrary      the ONNX Runtime library to ship beside the addon: onnxruntime-node 1.30.0's own for
//                   the target (bin/napi-v6/<os>/<arch>/), or ORT_ROOT/lib's. ortLibraryName is the name
//                   it gets there; ortProviderLibraries, any provider libraries of an ORT_ROOT SDK.
//   utf8procSource  utf8proc 2.9.0's source (compiled into the addon for every target), fetched once from
//                   the Go module proxy (proxy.golang.org serves the upstream repository's tag as a zip)
//                   and checked against its SHA-256; UTF8PROC_SOURCE names a local copy instead.
//
// Nothing here needs a package manager of the operating system. The test tools (--clang,
// --arm64-runtime) come from Debian bookworm: they serve only the tests on this machine.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { download, readZip } from './fetch.mjs';
import { ORT_NODE_VERSION, TARGETS } from './targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const depsDir = path.join(root, 'build', 'deps');
const DEBIAN_MIRROR = process.env.EMBEDRT_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const quiet = process.argv.includes('--print');

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
    fail('the test tools', `no Debian packages for ${process.platform}-${process.arch}`, ['run the native tests on Debian (x64 or arm64).']);
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

function aptDir(suite, arch) {
  return path.join(depsDir, 'apt', `${suite}-${arch}`);
}

function aptOptions(arch, suite) {
  const dir = aptDir(suite, arch);
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
function aptDownload(pkg, suite, arch) {
  if (!have('apt-get') || !have('dpkg')) {
    fail(`${pkg}`, 'apt-get and dpkg are not on PATH', ['run the native tests on a Debian-based system with apt-get.']);
  }
  const opts = aptOptions(arch, suite);
  if (!aptReady.has(`${suite}-${arch}`)) {
    const dir = aptDir(suite, arch);
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
        'check that the Debian mirror is reachable (EMBEDRT_DEBIAN_MIRROR overrides it).',
      ]);
    }
    aptReady.add(`${suite}-${arch}`);
  }
  const debDir = path.join(depsDir, 'debs', `${suite}-${arch}`);
  fs.mkdirSync(debDir, { recursive: true });
  log(`apt-get download ${pkg}`);
  try {
    execFileSync('apt-get', [...opts, '-qq', 'download', pkg], { cwd: debDir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    fail(`${pkg}`, `apt-get download ${pkg} failed: ${String(e.stderr || e.message).trim()}`, [
      'check that the Debian mirror is reachable (EMBEDRT_DEBIAN_MIRROR overrides it).',
    ]);
  }
  const deb = fs.readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) fail(pkg, `apt-get download left no ${pkg}_*.deb in ${debDir}`, ['report this as a bug.']);
  const out = path.join(depsDir, 'unpacked', `${suite}-${arch}`, pkg);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  execFileSync('dpkg', ['-x', path.join(debDir, deb), out]);
  return { dir: out, version: deb.split('_')[1] };
}

function stampOk(dir, key) {
  try {
    return fs.readFileSync(path.join(dir, '.stamp'), 'utf8') === key;
  } catch {
    return false;
  }
}

function onnxruntimeNodeDir() {
  try {
    const req = createRequire(path.join(root, 'package.json'));
    const pkgJson = req.resolve('onnxruntime-node/package.json');
    const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
    if (version === ORT_NODE_VERSION) return path.dirname(pkgJson);
    log(`node_modules/onnxruntime-node is ${version}, not ${ORT_NODE_VERSION}; fetching ${ORT_NODE_VERSION} with npm pack`);
  } catch {
    log(`onnxruntime-node is not installed; fetching ${ORT_NODE_VERSION} with npm pack`);
  }
  const packDir = path.join(depsDir, 'onnxruntime-node');
  const dir = path.join(packDir, 'package');
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.mkdirSync(packDir, { recursive: true });
    try {
      const tgz = execFileSync('npm', ['pack', `onnxruntime-node@${ORT_NODE_VERSION}`, '--silent'], {
        cwd: packDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim().split('\n').pop();
      execFileSync('tar', ['xzf', tgz], { cwd: packDir });
    } catch (e) {
      fail('ONNX Runtime', `npm pack onnxruntime-node@${ORT_NODE_VERSION} failed: ${String(e.stderr || e.message).trim()}`, [
        'set ORT_ROOT to an official ONNX Runtime SDK folder (with include/ and lib/), or',
        `install onnxruntime-node@${ORT_NODE_VERSION} with ONNXRUNTIME_NODE_INSTALL=skip.`,
      ]);
    }
  }
  return dir;
}

function assembleOrt(target) {
  const spec = TARGETS[target];
  if (process.env.ORT_ROOT) {
    const ortRoot = path.resolve(process.env.ORT_ROOT);
    const ortInclude = path.join(ortRoot, 'include');
    if (!fs.existsSync(path.join(ortInclude, 'onnxruntime_cxx_api.h'))) {
      fail('the ONNX Runtime SDK', `ORT_ROOT=${ortRoot} has no include/onnxruntime_cxx_api.h`, [
        'point ORT_ROOT at an unpacked official SDK (onnxruntime-<os>-<arch>-<version>/), or unset it.',
      ]);
    }
    const libDir = path.join(ortRoot, 'lib');
    const files = fs.existsSync(libDir) ? fs.readdirSync(libDir) : [];
    const main = [spec.name, 'libonnxruntime.so', 'libonnxruntime.dylib', 'onnxruntime.dll'].find((f) => files.includes(f));
    if (!main) {
      fail('the ONNX Runtime SDK', `ORT_ROOT=${ortRoot} has no lib/${spec.name}`, ['point ORT_ROOT at an unpacked official SDK, or unset it.']);
    }
    const providers = files.filter((f) => /^(lib)?onnxruntime_providers_.*\.(so|dylib|dll)$/.test(f)).map((f) => path.join(libDir, f));
    const versionFile = path.join(ortRoot, 'VERSION_NUMBER');
    if (!fs.existsSync(versionFile)) {
      fail('the ONNX Runtime SDK', `ORT_ROOT=${ortRoot} has no VERSION_NUMBER file`, ['point ORT_ROOT at an unpacked official SDK (they carry one), or unset it.']);
    }
    const ortVersion = fs.readFileSync(versionFile, 'utf8').trim();
    return { ortInclude, ortLibrary: fs.realpathSync(path.join(libDir, main)), ortProviderLibraries: providers, ortVersion, ortSource: 'ORT_ROOT' };
  }
  const lib = path.join(onnxruntimeNodeDir(), 'bin', 'napi-v6', ...spec.ortNode.split('/'));
  if (!fs.existsSync(lib)) fail('ONNX Runtime', `onnxruntime-node ${ORT_NODE_VERSION} has no bin/napi-v6/${spec.ortNode}`, ['set ORT_ROOT.']);
  return {
    ortInclude: path.join(root, 'third_party', 'onnxruntime', 'include'),
    ortLibrary: lib,
    ortProviderLibraries: [],
    ortVersion: ORT_NODE_VERSION,
    ortSource: `headers third_party/onnxruntime (1.21.0); runtime onnxruntime-node ${ORT_NODE_VERSION}`,
  };
}

// utf8proc's upstream tag v2.9.0 as the Go module proxy serves it (a zip of the repository at the tag).
const UTF8PROC = {
  version: '2.9.0',
  path: 'github.com/!julia!strings/utf8proc/@v/v2.9.0+incompatible.zip',
  prefix: 'github.com/JuliaStrings/utf8proc@v2.9.0+incompatible/',
  sha256: 'e200cd6e6763b5cc7cdbec4732bc72cad2573bac96d813cddeaa9fef4e9c75ff',
  files: ['utf8proc.c', 'utf8proc.h', 'utf8proc_data.c', 'LICENSE.md'],
};

function goProxy() {
  const first = (process.env.GOPROXY || '').split(/[,|]/).find((p) => /^https?:\/\//.test(p));
  return (first || 'https://proxy.golang.org').replace(/\/$/, '');
}

async function assembleUtf8proc() {
  if (process.env.UTF8PROC_SOURCE) {
    const dir = path.resolve(process.env.UTF8PROC_SOURCE);
    if (!fs.existsSync(path.join(dir, 'utf8proc.c'))) fail('utf8proc', `UTF8PROC_SOURCE=${dir} has no utf8proc.c`, ['point it at utf8proc\'s source folder, or unset it.']);
    return dir;
  }
  const dir = path.join(depsDir, `utf8proc-${UTF8PROC.version}`);
  if (stampOk(dir, UTF8PROC.sha256)) return dir;
  const url = `${goProxy()}/${UTF8PROC.path}`;
  log(`fetching utf8proc ${UTF8PROC.version} (${url})`);
  let zip;
  try {
    zip = await download(url, UTF8PROC.sha256);
  } catch (e) {
    fail('utf8proc', e.message, [
      'check that the Go module proxy is reachable (GOPROXY names another), or',
      "set UTF8PROC_SOURCE to a folder with utf8proc 2.9.0's source (github.com/JuliaStrings/utf8proc).",
    ]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const entries = readZip(zip);
  for (const f of UTF8PROC.files) {
    const data = entries.get(UTF8PROC.prefix + f)?.data;
    if (!data) fail('utf8proc', `the archive has no ${f}`, ['report this as a bug.']);
    fs.writeFileSync(path.join(dir, f), data);
  }
  fs.writeFileSync(path.join(dir, '.stamp'), UTF8PROC.sha256);
  return dir;
}

// Unpacks Debian bookworm packages into build/deps/<name> once (a stamp names what is there).
function assembleBookworm(name, packages, arch = debArch()) {
  const dir = path.join(depsDir, name);
  const key = `debian-bookworm-${arch}:${packages.join(',')}`;
  if (!stampOk(dir, key)) {
    log(`assembling ${name}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const pkg of packages) fs.cpSync(aptDownload(pkg, 'bookworm', arch).dir, dir, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(dir, '.stamp'), key);
  }
  return dir;
}

// Tools for the tests, fetched on request (JSON or a path on stdout):
//   --clang            clang 14 with libFuzzer and the sanitizer runtimes (bookworm's runs on this glibc);
const tools = {
  '--clang': () => {
    const dir = assembleBookworm('clang', ['clang-14', 'libclang-cpp14', 'libllvm14', 'libclang-common-14-dev', 'libclang-rt-14-dev']);
    const libPath = [path.join(dir, 'usr', 'lib', 'x86_64-linux-gnu'), path.join(dir, 'usr', 'lib', 'llvm-14', 'lib')].join(':');
    return JSON.stringify({ clangxx: path.join(dir, 'usr', 'lib', 'llvm-14', 'bin', 'clang++'), libPath });
  },
  // --arm64-runtime   the shared libraries a linux-arm64 Node.js needs, for running it under qemu-user
  //                   (QEMU_LD_PREFIX) in test/platforms.
  '--arm64-runtime': () => assembleBookworm('arm64-runtime', ['libc6', 'libstdc++6', 'libgcc-s1', 'libatomic1'], 'arm64'),
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

const targetIndex = process.argv.indexOf('--target');
const target = targetIndex > 0 ? process.argv[targetIndex + 1] : `${process.platform}-${process.arch}`;
try {
  if (!TARGETS[target]) {
    fail('the native build inputs', `no target ${target}`, [`build for one of: ${Object.keys(TARGETS).join(', ')}.`]);
  }
  const ort = assembleOrt(target);
  const result = { target, ...ort, ortLibraryName: TARGETS[target].name, utf8procSource: await assembleUtf8proc() };
  if (quiet) process.stdout.write(JSON.stringify(result));
  else log(`ready for ${target}: ${JSON.stringify(result, null, 2)}`);
} catch (e) {
  process.stderr.write(`${e instanceof SetupError ? e.message : e.stack}\n`);
  process.exit(1);
}
