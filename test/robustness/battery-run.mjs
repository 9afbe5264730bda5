// Runs one group of battery-cases.mjs in this (child) process and prints one line per case:
//   @@start <i>            before case i runs (so a crash or hang names the case)
//   @@case <i> <json>      {code: 'ok' | an error code, checked?: boolean, message?}
// Usage: node battery-run.mjs <group> <context json: {dist, tiny, cache, root}>
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { groups } from './battery-cases.mjs';

const [groupName, ctxJson] = process.argv.slice(2);
const { dist, tiny, cache, root } = JSON.parse(ctxJson);
const m = await import(dist);
const { native } = await import(path.join(path.dirname(dist), 'native.js'));
const model = await m.SentenceTransformer.load(tiny, { cacheDir: cache });
const cliPath = path.join(path.dirname(dist), 'cli.js');
const ctx = {
  m,
  native: native(),
  tiny,
  cache,
  root,
  model,
  tok: model.tokenizer,
  hostile(name, edit) {
    const dir = path.join(root, 'hostile', name.replace(/[^a-z0-9]+/gi, '-'));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(tiny, dir, { recursive: true });
    edit(dir);
    return dir;
  },
  runCli(args, input) {
    const r = spawnSync(process.execPath, [cliPath, ...args.map((a) => (a === '$TINY' ? tiny : a))], {
      input,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, EMBEDRT_CACHE: cache, HF_HUB_OFFLINE: '1' },
    });
    return { status: r.status, stderr: r.stderr ?? '' };
  },
};
const group = groups.find((g) => g.name === groupName);
if (!group) throw new Error(`no group ${groupName}`);
for (const [i, c] of group.cases.entries()) {
  console.log(`@@start ${i}`);
  let out;
  try {
    let timer;
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timed out after 20 s'), { code: 'TIMEOUT' })), 20_000)));
    const value = await Promise.race([(async () => c.run(ctx))(), timeout]);
    clearTimeout(timer);
    out = { code: 'ok', ...(c.check ? { checked: c.check(value) === true } : {}), value: typeof value === 'object' ? undefined : String(value) };
  } catch (e) {
    out = { code: typeof e?.code === 'string' ? e.code : `uncoded ${e?.name}`, message: String(e?.message ?? e).slice(0, 300) };
  }
  console.log(`@@case ${i} ${JSON.stringify(out)}`);
}
model.dispose();
