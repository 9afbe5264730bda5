// Every error code the native side can raise is one of lib/errors.ts's ErrorCode: a code JS callers
// cannot name in a switch would be a broken contract.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('error codes', () => {
  it('every "E_…" string in native/ is a member of ErrorCode', () => {
    const union = fs.readFileSync(path.join(root, 'lib', 'errors.ts'), 'utf8').match(/export type ErrorCode =([^;]*);/)![1]!;
    const declared = new Set([...union.matchAll(/'(E_[A-Z_]+)'/g)].map((m) => m[1]!));
    const used = new Set<string>();
    for (const f of filesUnder(path.join(root, 'native')).filter((f) => /\.(cc|h)$/.test(f))) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/"(E_[A-Z_]+)"/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((c) => !declared.has(c))).toEqual([]);
  });
});
