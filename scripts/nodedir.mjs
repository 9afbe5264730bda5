// Where node-gyp finds Node's headers without downloading them: the machine's own install
// (<prefix>/include/node, e.g. /usr/include/node) or, failing that, a folder made from the
// node-api-headers package (Node-API only, which is all embedrt uses).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export function nodeHeadersDir(root) {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const own = path.join(prefix, 'include', 'node');
  if (fs.existsSync(path.join(own, 'node_api.h')) && fs.existsSync(path.join(own, 'common.gypi'))) return prefix;

  const require = createRequire(path.join(root, 'package.json'));
  let headers;
  try {
    headers = require('node-api-headers');
  } catch {
    throw new Error(
      `embedrt: no Node headers at ${own} and the node-api-headers package is not installed; ` +
        'install Node with its headers (e.g. the nodejs package) or run npm install in the embedrt folder.',
    );
  }
  const dir = path.join(root, 'build', 'nodedir');
  const inc = path.join(dir, 'include', 'node');
  fs.mkdirSync(inc, { recursive: true });
  fs.cpSync(headers.include_dir, inc, { recursive: true });
  fs.writeFileSync(path.join(inc, 'common.gypi'), "{ 'variables': { 'node_shared': 'false' }, 'target_defaults': {} }\n");
  fs.writeFileSync(path.join(inc, 'config.gypi'), "{ 'variables': {} }\n");
  return dir;
}
