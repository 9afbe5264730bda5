// CMakeLists.txt is the one build description (cmake-js on this machine, zig cross builds for the
// platform packages): it must compile every native source.
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

describe('build files', () => {
  it('every native source file is built', () => {
    const onDisk = ['native/core', 'native/addon']
      .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.cc')).map((f) => `${d}/${f}`))
      .sort();
    expect(cmakeSources()).toEqual(onDisk);
  });
});
