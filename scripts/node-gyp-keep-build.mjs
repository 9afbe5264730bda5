#!/usr/bin/env node
// prebuildify calls `node-gyp rebuild`, whose clean step deletes all of build/ — the assembled SDKs in
// build/deps and the CMake builds beside them. This runs `configure` + `build` instead, same arguments.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const args = process.argv.slice(2).filter((a) => a !== 'rebuild');
for (const step of ['configure', 'build']) {
  execFileSync(process.execPath, [nodeGyp, step, ...args], { stdio: 'inherit' });
}
