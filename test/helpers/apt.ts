// Debian packages the tests need (qemu, wine, chromium, …), installed with apt-get when missing. The
// tests run as root on the project's machines; elsewhere a missing package is an error naming the command.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Installs Debian's `pkg` unless `probe` (a file it provides) exists. Test files may ask at once: apt waits for its lock. */
export async function aptInstall(pkg: string, probe: string): Promise<void> {
  if (fs.existsSync(probe)) return;
  if (process.getuid?.() !== 0) throw new Error(`${probe} is missing and installing Debian's ${pkg} needs root (apt-get install ${pkg})`);
  await execFileP('apt-get', ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 << 20,
  }).catch((e: { message: string; stderr?: string }) => {
    throw new Error(`apt-get install ${pkg} failed: ${e.message}\n${e.stderr ?? ''}`);
  });
  if (!fs.existsSync(probe)) throw new Error(`apt-get installed ${pkg}, and ${probe} is still missing`);
}
