#!/usr/bin/env node
// npm run prebuild: prebuildify builds the addon with node-gyp (binding.gyp) for Node-API and writes
// prebuilds/<platform>-<arch>/ with the addon and libonnxruntime.so.1 ($ORIGIN rpath). Headers come
// from the machine or node-api-headers (scripts/nodedir.mjs): nothing is downloaded.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeHeadersDir } from './nodedir.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, npm_config_nodedir: nodeHeadersDir(root) };
execFileSync('node', ['scripts/assemble-ort.mjs'], { cwd: root, stdio: 'inherit', env });
const out = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.rmSync(out, { recursive: true, force: true });
execFileSync(path.join(root, 'node_modules', '.bin', 'prebuildify'), ['--napi', '--strip', '--tag-libc', '--node-gyp', path.join(root, 'scripts', 'node-gyp-keep-build.mjs')], {
  cwd: root,
  stdio: 'inherit',
  env,
});
for (const f of fs.readdirSync(out)) console.log(`prebuilds/${path.basename(out)}/${f}`);
