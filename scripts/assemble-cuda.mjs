#!/usr/bin/env node
// Assembles embedrt's CUDA variant (`npm run assemble-cuda`): the addon and the ONNX Runtime library it
// runs, with the CUDA (and TensorRT) execution provider libraries of exactly that ONNX Runtime laid
// beside them, in one folder — the @embedrt/linux-x64-cuda package (its package.json and README
// written too; packages/*/ are generated, as prebuild-all generates the others). Select it with
// EMBEDRT_ADDON_PATH=<folder>/embedrt.node.
//
// The provider libraries come from PyPI's onnxruntime-gpu wheel of the same version (a CUDA 13 build,
// manylinux_2_28), fetched with pip (which checks the wheel's hash) into build/deps/cuda. onnxruntime-node's
// library loads them: the same release, built from the same source commit — checked here (the version,
// and the git commit id both libraries carry in their build info), and refused with a clear error when
// they differ. Nothing large is committed: the folder is built on the machine that needs it.
//
//   node scripts/assemble-cuda.mjs [--out DIR] [--addon PATH] [--wheel FILE]
//
// --out    the variant folder (default packages/linux-x64-cuda)
// --addon  the embedrt.node whose ONNX Runtime library (beside it) the providers join (default: the
//          local build, build/Release/embedrt.node, else the installed @embedrt/linux-x64 package's)
// --wheel  an onnxruntime-gpu wheel already downloaded (default: fetched into build/deps/cuda)
// Prints the variant's embedrt.node path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readZip } from './fetch.mjs';
import { ORT_NODE_VERSION } from './targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const valueOf = (flag, dflt) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : dflt);
const out = path.resolve(valueOf('--out', path.join(root, 'packages', 'linux-x64-cuda')));
const addon = path.resolve(valueOf('--addon', defaultAddon()));
const PROVIDERS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'];

function defaultAddon() {
  const local = path.join(root, 'build', 'Release', 'embedrt.node');
  if (fs.existsSync(local)) return local;
  try {
    return createRequire(import.meta.url).resolve('@embedrt/linux-x64/embedrt.node');
  } catch {
    return local; // reported below as missing
  }
}

function fail(message) {
  process.stderr.write(`embedrt: assemble-cuda: ${message}\n`);
  process.exit(1);
}

/** The git commit id in an ONNX Runtime library's build info ("git-commit-id=f2c39fe2f"), or undefined. */
function commitOf(bytes) {
  const at = bytes.indexOf('git-commit-id=');
  if (at < 0) return undefined;
  return /^git-commit-id=([0-9a-f]{7,40})/.exec(bytes.toString('latin1', at, at + 64))?.[1];
}

/** The onnxruntime-gpu wheel of ORT_NODE_VERSION: given, cached, or fetched with pip. */
function wheel() {
  const given = valueOf('--wheel');
  if (given) return given;
  const dir = path.join(root, 'build', 'deps', 'cuda');
  const find = () => fs.existsSync(dir) && fs.readdirSync(dir).find((f) => f.startsWith(`onnxruntime_gpu-${ORT_NODE_VERSION}-`) && f.endsWith('.whl'));
  if (!find()) {
    fs.mkdirSync(dir, { recursive: true });
    process.stderr.write(`[embedrt:cuda] pip download onnxruntime-gpu==${ORT_NODE_VERSION} (~250 MB)\n`);
    try {
      // Its Linux x64 wheel, whatever this Python is (the libraries in it do not depend on Python).
      execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--platform', 'manylinux_2_28_x86_64', '--python-version', '3.12', `onnxruntime-gpu==${ORT_NODE_VERSION}`, '-d', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    } catch {
      fail(`could not download onnxruntime-gpu==${ORT_NODE_VERSION} from PyPI (python3 -m pip download); is PyPI reachable?`);
    }
  }
  const found = find();
  if (!found) fail(`pip gave no onnxruntime-gpu ${ORT_NODE_VERSION} wheel in ${dir}`);
  return path.join(dir, found);
}

if (!fs.existsSync(addon)) fail(`${addon}: no addon to pair the providers with (npm install builds it; or give --addon)`);
const ortLibrary = path.join(path.dirname(addon), 'libonnxruntime.so.1');
if (!fs.existsSync(ortLibrary)) fail(`${ortLibrary}: not found; the addon's ONNX Runtime library is what the providers must match`);
const wheelFile = wheel();
const files = readZip(fs.readFileSync(wheelFile), (name) => /^onnxruntime\/capi\/(libonnxruntime[^/]*\.so[.0-9]*)$/.test(name) || /^onnxruntime_gpu-[^/]*\.dist-info\/METADATA$/.test(name));
const metadata = [...files.entries()].find(([name]) => name.endsWith('/METADATA'))?.[1].data.toString('utf8') ?? '';
const wheelVersion = /^Version: (.+)$/m.exec(metadata)?.[1]?.trim();
const wheelLibrary = [...files.entries()].find(([name]) => /libonnxruntime\.so\.[0-9]/.test(name))?.[1].data;
const ours = fs.readFileSync(ortLibrary);
const theirs = { version: wheelVersion, commit: wheelLibrary ? commitOf(wheelLibrary) : undefined };
const mine = { version: ours.includes(`VERS_${ORT_NODE_VERSION}`) ? ORT_NODE_VERSION : undefined, commit: commitOf(ours) };
if (!theirs.version || theirs.version !== mine.version || !theirs.commit || theirs.commit !== mine.commit) {
  fail(
    `${path.basename(wheelFile)} is ONNX Runtime ${theirs.version ?? '?'} (commit ${theirs.commit ?? '?'}), but ${ortLibrary} is ` +
      `${mine.version ?? 'another version'} (commit ${mine.commit ?? '?'}); a provider library loads only into the ONNX Runtime it was built with. ` +
      `Use onnxruntime-gpu==${ORT_NODE_VERSION} built from the same commit.`,
  );
}
// Written beside the target and moved into place when complete: an interrupted run leaves nothing that looks whole.
const tmp = `${out}.tmp-${process.pid}`;
fs.rmSync(tmp, { recursive: true, force: true });
fs.mkdirSync(tmp, { recursive: true });
try {
  fs.copyFileSync(addon, path.join(tmp, 'embedrt.node'));
  fs.copyFileSync(ortLibrary, path.join(tmp, 'libonnxruntime.so.1'));
  for (const lib of PROVIDERS) {
    const entry = files.get(`onnxruntime/capi/${lib}`);
    if (!entry) fail(`${path.basename(wheelFile)} has no onnxruntime/capi/${lib}`);
    fs.writeFileSync(path.join(tmp, lib), entry.data, { mode: 0o755 });
  }
  const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  fs.writeFileSync(
    path.join(tmp, 'package.json'),
    `${JSON.stringify(
      {
        name: '@embedrt/linux-x64-cuda',
        version,
        description: `embedrt's native addon and ONNX Runtime ${ORT_NODE_VERSION} for linux-x64 (glibc) with the CUDA 13 execution provider`,
        license: 'Apache-2.0',
        os: ['linux'],
        cpu: ['x64'],
        libc: ['glibc'],
        files: ['embedrt.node', 'libonnxruntime.so.1', ...PROVIDERS, 'cuda-variant.json', 'README.md'],
        preferUnplugged: true,
      },
      null,
      2,
    )}\n`,
  );
  fs.writeFileSync(
    path.join(tmp, 'README.md'),
    `# @embedrt/linux-x64-cuda\n\nembedrt's addon with ONNX Runtime ${ORT_NODE_VERSION} and its CUDA execution provider (from onnxruntime-gpu ${ORT_NODE_VERSION}, ` +
      `built from commit ${mine.commit}). Needs CUDA 13 (runtime, cuBLAS, cuBLASLt, cuRAND), cuDNN 9 and the NVIDIA driver on the library path; ` +
      `the provider has GPU code for sm_75 to sm_90a and sm_120a.\n\nUse: \`EMBEDRT_ADDON_PATH=<this folder>/embedrt.node\`, then ` +
      `\`SentenceTransformer.load(dir, { device: 'cuda' })\` (or 'auto': CUDA, else the CPU, saying why in info()).\n`,
  );
  fs.writeFileSync(
    path.join(tmp, 'cuda-variant.json'),
    `${JSON.stringify({ onnxruntime: ORT_NODE_VERSION, commit: mine.commit, wheel: path.basename(wheelFile), cuda: '13', cudnn: '9', providers: PROVIDERS }, null, 2)}\n`,
  );
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.renameSync(tmp, out);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(`${path.join(out, 'embedrt.node')}\n`);
