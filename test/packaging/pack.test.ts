// The published package works with no SDK, no compiler and no install scripts: the prebuild and the
// libonnxruntime.so.1 beside it are all a user needs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
let work: string;
let tarball: string;

function sh(file: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  return execFileSync(file, args, { ...opts, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-pack-'));
  sh('npm', ['run', 'prebuild', '--silent'], { cwd: root });
  const out = sh('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root }).trim().split('\n');
  tarball = path.join(work, out[out.length - 1]!);
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the prebuild, its ONNX Runtime library, the compiled JS and types', () => {
    const list = sh('tar', ['tzf', tarball], { cwd: work });
    for (const f of [
      'package/prebuilds/linux-x64/embedrt.glibc.node',
      'package/prebuilds/linux-x64/libonnxruntime.so.1',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/binding.gyp',
      'package/CMakeLists.txt',
    ]) {
      expect(list).toContain(f);
    }
    expect(list).not.toContain('package/build/');
    expect(list).not.toContain('package/test/');
  });

  it('installs with --ignore-scripts, no compiler and no SDK on PATH, and loads', () => {
    const app = path.join(work, 'app');
    const bin = path.join(work, 'bin');
    fs.mkdirSync(app);
    fs.mkdirSync(bin);
    // Only node and npm on PATH: no cc, c++, cmake, make, python3, apt-get.
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const npmCli = execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).trim();
    fs.symlinkSync(npmCli, path.join(bin, 'npm'));
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, npm_config_cache: process.env.npm_config_cache };
    for (const tool of ['cc', 'c++', 'g++', 'cmake', 'make', 'apt-get']) {
      expect(() => sh('sh', ['-c', `command -v ${tool}`], { cwd: app, env: { PATH: bin } })).toThrow();
    }
    sh(path.join(bin, 'npm'), ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: app,
      env,
    });
    const script = "import { runtimeInfo } from 'embedrt'; console.log(JSON.stringify(runtimeInfo()));";
    const info = JSON.parse(sh(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env }));
    expect(info.ortVersion).toMatch(/^1\.30\./);
    expect(info.providers).toContain('CPUExecutionProvider');
    expect(fs.realpathSync(info.ortLibraryDir)).toBe(
      fs.realpathSync(path.join(app, 'node_modules', 'embedrt', 'prebuilds', 'linux-x64')),
    );
  });
});
