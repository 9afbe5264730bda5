// CMakeLists.txt (cmake-js) and binding.gyp (node-gyp) must build the same addon from the same sources.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

function cmakeSources(): string[] {
  const cmake = read('CMakeLists.txt');
  const blocks = [...cmake.matchAll(/add_library\((?:embedrt_core STATIC|embedrt SHARED)([^)]*)\)/g)];
  return blocks.flatMap((m) => m[1]!.split(/\s+/)).filter((s) => s.endsWith('.cc')).sort();
}

function gypSources(): string[] {
  const gyp = read('binding.gyp').replace(/^\s*#.*$/gm, '');
  const target = (JSON.parse(gyp) as { targets: { sources: string[] }[] }).targets[0]!;
  return [...target.sources].sort();
}

describe('build files', () => {
  it('binding.gyp compiles exactly the sources CMakeLists.txt does', () => {
    expect(cmakeSources().length).toBeGreaterThan(1);
    expect(gypSources()).toEqual(cmakeSources());
  });

  it('every native source file is built', () => {
    const onDisk = ['native/core', 'native/addon']
      .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.cc')).map((f) => `${d}/${f}`))
      .sort();
    expect(cmakeSources()).toEqual(onDisk);
  });
});
