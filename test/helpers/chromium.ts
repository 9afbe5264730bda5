// Headless Chromium (Debian's `chromium`, installed when missing) for tests that look at a page the way
// a user would: a screenshot of it, with the network closed so the page shows only what it carries.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { aptInstall } from './apt.js';

const execFileP = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';

/** Runs headless Chromium on `url` with `args`, in a fresh profile; the network is closed unless `network`. */
async function chromium(url: string, args: string[], network = false): Promise<{ stdout: string; dir: string; done: () => void }> {
  await aptInstall('chromium', CHROMIUM);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-chromium-'));
  const closed = network ? [] : ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--proxy-server=127.0.0.1:9', '--proxy-bypass-list=127.0.0.1'];
  try {
    const { stdout } = await execFileP(
      CHROMIUM,
      ['--headless', '--no-sandbox' /* root in a container */, '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${path.join(dir, 'profile')}`, ...closed, ...args, url],
      { timeout: 120_000, maxBuffer: 64 << 20 },
    ).catch((e: { message: string; stderr?: string }) => {
      throw new Error(`chromium failed: ${e.message}\n${e.stderr ?? ''}`);
    });
    return { stdout, dir, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A PNG of `url` in a `width` × `height` window; no host resolves and every request goes to a closed port. */
export async function screenshot(url: string, width: number, height: number): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-shot-'));
  const png = path.join(dir, 'shot.png');
  try {
    const run = await chromium(url, [`--window-size=${width},${height}`, `--screenshot=${png}`]);
    run.done();
    return fs.readFileSync(png);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The DOM of `url` once its scripts have run (`budgetMs` of virtual time), as Chromium serializes it;
 * only 127.0.0.1 is reachable.
 */
export async function renderedDom(url: string, budgetMs = 10_000): Promise<string> {
  const run = await chromium(url, [`--virtual-time-budget=${budgetMs}`, '--dump-dom']);
  run.done();
  return run.stdout;
}
