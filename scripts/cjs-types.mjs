#!/usr/bin/env node
// CommonJS consumers' type declarations: a .d.cts beside each .d.ts in dist/, its relative imports
// pointing at the other .d.cts files. TypeScript under `module: node16` (and nodenext) types
// `require('embedrt')` through the exports map's "require" condition, which names dist/index.d.cts;
// a .d.cts that re-exported the ESM .d.ts would be refused (TS1479). The JavaScript is the same ESM
// either way: Node's require(esm) loads it (Node ^20.19 or >= 22.12, package.json "engines").
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const relative = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+?)\.js(['"])/g;
let count = 0;
for (const entry of fs.readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  const text = fs.readFileSync(file, 'utf8').replace(relative, '$1$2.cjs$3').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
  fs.writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), text);
  count++;
}
if (count === 0) throw new Error(`cjs-types: no .d.ts files in ${dist}; run tsc first`);
