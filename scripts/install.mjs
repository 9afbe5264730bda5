#!/usr/bin/env node
// npm install hook. A user's install uses the prebuild for this platform when it loads; otherwise (and
// always in a git checkout) the addon is built from source: cmake-js with CMakeLists.txt when cmake-js
// and cmake are available, else node-gyp with binding.gyp. Headers never come from the network.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nodeHeadersDir } from './nodedir.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const log = (msg) => process.stderr.write(`[embedrt:install] ${msg}\n`);

function prebuildLoads() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!fs.existsSync(dir)) return false;
  try {
    const addon = require('node-gyp-build').path(root);
    if (!addon.startsWith(dir)) return false;
    require(addon).runtimeInfo();
    return true;
  } catch (e) {
    log(`the prebuild in ${path.relative(root, dir)} does not load here (${e.message}); building from source`);
    return false;
  }
}

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(file, args, env = process.env) {
  execFileSync(file, args, { cwd: root, stdio: 'inherit', env });
}

const checkout = fs.existsSync(path.join(root, '.git'));
if (!checkout && !process.env.EMBEDRT_BUILD_FROM_SOURCE && prebuildLoads()) {
  log(`using the prebuild for ${process.platform}-${process.arch}`);
  process.exit(0);
}

try {
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    cmakeJs = undefined;
  }
  if (cmakeJs && have('cmake')) {
    log('building the native addon with cmake-js (CMakeLists.txt)');
    run(process.execPath, [cmakeJs, 'build', '--directory', root, '--CDCMAKE_BUILD_TYPE=Release']);
  } else {
    log('building the native addon with node-gyp (binding.gyp)');
    const nodeGyp = process.env.npm_config_node_gyp || require.resolve('node-gyp/bin/node-gyp.js');
    const env = { ...process.env, npm_config_nodedir: nodeHeadersDir(root) };
    run(process.execPath, [nodeGyp, 'configure'], env);
    run(process.execPath, [nodeGyp, 'build'], env);
  }
} catch (e) {
  process.stderr.write(
    [
      '',
      'embedrt: building the native addon failed.',
      `  cause: ${e.message.split('\n')[0]}`,
      'Possible solutions:',
      '  1. Install build tools: cmake (or python3 + make for node-gyp) and a C++17 compiler.',
      '  2. Set ORT_ROOT to an official ONNX Runtime SDK folder (include/, lib/) if apt-get cannot fetch',
      "     Debian's libonnxruntime-dev.",
      '  3. Use a platform that embedrt ships prebuilds for (linux-x64).',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
