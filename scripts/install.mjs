#!/usr/bin/env node
// npm install hook. A user's install needs nothing from it: npm installed the platform package
// (@embedrt/<platform>-<arch>, an optional dependency) that holds the prebuilt addon, and this checks
// that it loads. The addon is built from source (cmake-js + CMakeLists.txt) in a git checkout, with
// `npm install --build-from-source` (or EMBEDRT_BUILD_FROM_SOURCE=1), or when no platform package loads.
// Headers never come from the network: Node's own, or node-api-headers'.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const log = (msg) => process.stderr.write(`[embedrt:install] ${msg}\n`);
const key = `${process.platform}-${process.arch}`;
const pkgName = `@embedrt/${key}`;
const listed = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).optionalDependencies ?? {});

// Why the platform package cannot serve, or undefined when it loads.
function platformPackageProblem() {
  if (!listed.includes(pkgName)) return `embedrt publishes no package for ${key}`;
  let dir;
  try {
    dir = path.dirname(require.resolve(`${pkgName}/package.json`));
  } catch {
    return `${pkgName} is not installed`;
  }
  try {
    require(path.join(dir, 'embedrt.node')).runtimeInfo();
    return undefined;
  } catch (e) {
    return `${pkgName} does not load here: ${e.message.split('\n')[0]}`;
  }
}

const truthy = (v) => v !== undefined && v !== '' && v !== 'false' && v !== '0';
const checkout = fs.existsSync(path.join(root, '.git'));
const asked = truthy(process.env.npm_config_build_from_source) || truthy(process.env.EMBEDRT_BUILD_FROM_SOURCE);
if (!checkout && !asked) {
  const problem = platformPackageProblem();
  if (!problem) {
    log(`using ${pkgName}`);
    process.exit(0);
  }
  log(`${problem}; building from source`);
}

function fail(cause, steps) {
  process.stderr.write(
    [
      '',
      `embedrt: no native addon for ${key} (Node ${process.version}).`,
      `  cause: ${cause}`,
      'Possible solutions:',
      ...steps.map((s, i) => `  ${i + 1}. ${s}`),
      '',
    ].join('\n'),
  );
  process.exit(1);
}

let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  fail('building from source needs cmake-js, which is not installed', [
    listed.includes(pkgName)
      ? `Install the prebuilt package instead: reinstall embedrt without --omit=optional / --no-optional (it brings ${pkgName}).`
      : `embedrt ships prebuilt packages for ${listed.map((n) => n.replace('@embedrt/', '')).join(', ')}; this platform needs a source build.`,
    'For a source build: `npm install cmake-js`, then `npm rebuild embedrt --build-from-source` (cmake 3.19+ and a C++17 compiler on PATH).',
  ]);
}
try {
  log('building the native addon with cmake-js (CMakeLists.txt)');
  execFileSync(process.execPath, [cmakeJs, 'build', '--directory', root, '--CDCMAKE_BUILD_TYPE=Release'], { cwd: root, stdio: 'inherit' });
} catch (e) {
  fail(`the source build failed (${e.message.split('\n')[0]})`, [
    'Install cmake 3.19+ and a C++17 compiler (Linux: g++ or clang; macOS: Xcode command line tools; Windows: Visual Studio Build Tools with "Desktop development with C++").',
    'The build fetches utf8proc from the Go module proxy (proxy.golang.org): if it is unreachable, set UTF8PROC_SOURCE to a copy of utf8proc 2.9.0.',
    'ONNX Runtime comes from the onnxruntime-node npm package; ORT_ROOT may name an official ONNX Runtime SDK folder instead.',
  ]);
}
