// Scale-out on an existing engine: three `embedrt serve` replicas on loopback behind nginx (Debian's
// package, installed when missing) as the load balancer. 2,000 texts go through nginx; every answer
// must equal the single process's model.encode, and every replica must have served.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer } from '../../lib/index.js';
import { passages } from '../../examples/financial-texts.mjs';
import { aptInstall } from '../helpers/apt.js';
import { repoRoot } from '../helpers/data.js';
import { makeModel, tempDir } from '../helpers/models.js';

const NGINX = '/usr/sbin/nginx';
let root: string;
let dir: string;
const replicas: { child: ChildProcess; address: string }[] = [];
let nginx: ChildProcess | undefined;

/** A free TCP port on 127.0.0.1 (nginx needs one named in its configuration). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

function startReplica(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'serve', '--model', dir, '--port', '0', '--open-metrics'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearInterval(t);
        resolve({ child, address: m[1]! });
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(t);
      reject(new Error(`replica exited ${code}: ${stderr}`));
    });
  });
}

beforeAll(async () => {
  await aptInstall('nginx', NGINX);
  root = tempDir('scale-out');
  dir = makeModel(root, 'tiny', { pooling: 'mean' });
  const env = { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') };
  // The first replica builds the cached graph; the others find it.
  replicas.push(await startReplica(env));
  replicas.push(...(await Promise.all([startReplica(env), startReplica(env)])));
}, 120_000);
afterAll(async () => {
  nginx?.kill('SIGQUIT');
  for (const r of replicas) r.child.kill('SIGTERM');
  await Promise.all(replicas.map((r) => new Promise((res) => (r.child.exitCode !== null ? res(null) : r.child.on('exit', res)))));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('replicas behind nginx', () => {
  it('2,000 texts through nginx: every answer equals the single process, and all three replicas served', async () => {
    const port = await freePort();
    const prefix = path.join(root, 'nginx');
    fs.mkdirSync(path.join(prefix, 'logs'), { recursive: true });
    fs.chmodSync(prefix, 0o777);
    const conf = path.join(prefix, 'nginx.conf');
    fs.writeFileSync(
      conf,
      `worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  client_max_body_size 2m;
  upstream embedrt { least_conn; ${replicas.map((r) => `server ${r.address.replace('http://', '')};`).join(' ')} keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://embedrt; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
    );
    nginx = spawn(NGINX, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let nginxErr = '';
    nginx.stderr!.on('data', (d: Buffer) => (nginxErr += d.toString()));
    const lb = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${lb}/health`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${nginxErr}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const texts = passages(2000);
    const chunks = Array.from({ length: 100 }, (_, i) => texts.slice(i * 20, (i + 1) * 20));
    const answers: number[][][] = new Array(chunks.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < chunks.length) {
          const k = next++;
          const r = await fetch(`${lb}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: chunks[k] }) });
          expect(r.status, await r.clone().text()).toBe(200);
          answers[k] = (await r.json()) as number[][];
        }
      }),
    );
    await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    const expected = await model.encode(texts, { normalize: true });
    answers.flat().forEach((row, i) => expect(row, `text ${i}`).toEqual(Array.from(expected.row(i))));

    const served = await Promise.all(
      replicas.map(async (r) => Number(/^te_request_count\{method="embed"\} (\d+)$/m.exec(await (await fetch(`${r.address}/metrics`)).text())?.[1] ?? 0)),
    );
    expect(served.reduce((a, b) => a + b, 0)).toBe(chunks.length);
    for (const n of served) expect(n).toBeGreaterThan(0);
  }, 180_000);
});
