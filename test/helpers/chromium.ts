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

/** A PNG of `url` in a `width` × `height` window; no host resolves and every request goes to a closed port. */
export async function screenshot(url: string, width: number, height: number): Promise<Buffer> {
  await aptInstall('chromium', CHROMIUM);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-chromium-'));
  try {
    const png = path.join(dir, 'shot.png');
    await execFileP(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox', // root in a container
        '--disable-gpu',
        '--hide-scrollbars',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        '--host-resolver-rules=MAP * ~NOTFOUND',
        '--proxy-server=127.0.0.1:9',
        `--window-size=${width},${height}`,
        `--screenshot=${png}`,
        url,
      ],
      { timeout: 120_000, maxBuffer: 16 << 20 },
    ).catch((e: { message: string; stderr?: string }) => {
      throw new Error(`chromium failed: ${e.message}\n${e.stderr ?? ''}`);
    });
    return fs.readFileSync(png);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
