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

describe('source structure', () => {
  const sources = (dir: string, ext: RegExp): string[] =>
    fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (e.name === 'fixtures' ? [] : sources(path.join(dir, e.name), ext)) : ext.test(e.name) ? [path.join(dir, e.name)] : [],
    );

  it('lib/ imports form no cycle (type-only imports included)', () => {
    const files = sources('lib', /\.ts$/);
    const deps = new Map(
      files.map((f) => [f, [...read(f).matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)].map((m) => path.join(path.dirname(f), m[1]!.replace(/\.js$/, '.ts')))]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') return void cycles.push([...stack.slice(stack.indexOf(f)), f].join(' → '));
      state.set(f, 'open');
      for (const d of deps.get(f) ?? []) visit(d, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(files.length).toBeGreaterThan(20);
    expect(cycles).toEqual([]);
  });

  it('no source file is over 400 lines without a reason written at its top', () => {
    const files = ['lib', 'native', 'scripts', 'test', 'bench', 'examples'].flatMap((d) => sources(d, /\.(ts|mjs|cc|h)$/));
    const long = files.filter((f) => {
      const text = read(f);
      return text.split('\n').length > 410 && !/Longer than 400 lines because/.test(text.split('\n').slice(0, 12).join('\n'));
    });
    expect(files.length).toBeGreaterThan(50);
    expect(long).toEqual([]);
  });
});
