// The hub cache is shared with Python: huggingface_hub (the reference implementation of the layout,
// from PyPI) and embedrt, downloading the same repo from the same local hub, must produce the same
// tree, and each must find the other's downloads offline.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, downloadModel } from '../../lib/index.js';
import { repoRoot } from '../helpers/data.js';
import { HubServer, repoFromFolder } from '../helpers/hubserver.js';
import { makeModel, tempDir } from '../helpers/models.js';

let root: string;
let hub: HubServer;
let python: string;

beforeAll(async () => {
  root = tempDir('hub-py');
  const model = makeModel(root, 'tiny', { pooling: 'mean' });
  hub = await new HubServer().start();
  hub.repos.set('org/tiny', { ...repoFromFolder(model, { 'pytorch_model.bin': Buffer.alloc(3000, 1) }), branches: {} });
  const spec = hub.repos.get('org/tiny')!;
  spec.branches.main = spec.commit;
  python = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'py-env.mjs'), '--with', 'huggingface_hub==0.36.2'], { encoding: 'utf8' }).trim();
});
afterAll(async () => {
  await hub.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs Python asynchronously (the hub server lives in this process's event loop). */
function py(code: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(python, ['-c', code], { env: { ...process.env, HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_XET: '1', HF_TOKEN: '', ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`python exited ${code}: ${err}`))));
  });
}

/** Every path under dir with what it is: file size, or symlink target. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(d, e.name);
      if (e.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(full)}`;
      else if (e.isDirectory()) walk(full, r);
      else out[r] = r.startsWith('refs/') ? `ref ${fs.readFileSync(full, 'utf8')}` : `file ${fs.statSync(full).size}`;
    }
  };
  walk(dir, '');
  return out;
}

describe('the hub cache shared with huggingface_hub', () => {
  it('embedrt writes the same tree huggingface_hub writes, and each reads the other offline', async () => {
    const ours = path.join(root, 'ours');
    const theirs = path.join(root, 'theirs');
    const r = await downloadModel('org/tiny', { endpoint: hub.endpoint, cacheDir: ours, token: '', offline: false });
    const pyDir = (
      await py(
        `from huggingface_hub import snapshot_download\nprint(snapshot_download("org/tiny", cache_dir=${JSON.stringify(theirs)}, allow_patterns=${JSON.stringify(r.files)}))`,
        { HF_ENDPOINT: hub.endpoint },
      )
    ).trim();
    expect(path.relative(theirs, pyDir)).toBe(path.relative(ours, r.dir));
    const ignore = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith('.locks') && !k.includes('/.locks')));
    expect(tree(ours)).toEqual(ignore(tree(theirs)));

    // huggingface_hub, offline, finds what embedrt downloaded.
    const found = await py(
      `from huggingface_hub import snapshot_download, hf_hub_download\nprint(snapshot_download("org/tiny", cache_dir=${JSON.stringify(ours)}, local_files_only=True))\nprint(hf_hub_download("org/tiny", "model.safetensors", cache_dir=${JSON.stringify(ours)}, local_files_only=True))`,
      { HF_HUB_OFFLINE: '1' },
    );
    expect(found.trim().split('\n')).toEqual([r.dir, path.join(r.dir, 'model.safetensors')]);

    // embedrt, offline, loads what huggingface_hub downloaded.
    hub.log.length = 0;
    const m = await SentenceTransformer.load('org/tiny', { cacheDir: path.join(root, 'embedrt'), hub: { cacheDir: theirs, offline: true } });
    expect(m.dir).toBe(pyDir);
    expect((await m.encode(['revenue grew'])).dim).toBe(m.dimension);
    m.dispose();
    expect(hub.log).toEqual([]);
  });
});
