// The README's examples run, and give sensible answers with the real all-MiniLM-L6-v2 weights.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/data.js';

describe('examples', () => {
  it('examples/search.mjs (the README main job) embeds the corpus and finds each question its passage', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'search.mjs'), '--corpus', '300'], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/embedded 300 passages and 3 questions \(dim 384\)/);
    const blocks = r.stdout.split('\nQ: ').slice(1);
    expect(blocks.length).toBe(3);
    // Questions 1 and 3 are about passages #3 and #250 of the corpus; the best hit must be theirs.
    expect(blocks[0]!.split('\n')[1]).toMatch(/#3 /);
    expect(blocks[2]!.split('\n')[1]).toMatch(/#250 /);
  });

  it('every README code block that imports embedrt is a file under examples/ or a snippet of one', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm run example/);
    for (const m of readme.matchAll(/examples\/[\w.-]+/g)) expect(fs.existsSync(path.join(repoRoot, m[0])), m[0]).toBe(true);
  });
});
