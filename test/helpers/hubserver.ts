// A local HTTP server speaking the parts of the Hugging Face Hub protocol that downloads use:
//   GET  /api/models/{org}/{name}/revision/{rev}   listing with sha and siblings (blobs=true form)
//   HEAD|GET /{org}/{name}/resolve/{rev}/{path}    small files served directly (ETag = git blob sha1),
//        LFS files redirected (302) to a CDN URL on another origin, with X-Linked-Etag/X-Linked-Size
//   GET  /cdn/{sha256}                              the LFS bytes, with Range support
// plus faults a test can arm: 401 for gated repos, renamed repos (redirects), 5xx, responses cut off
// mid-body, stalled responses, corrupted bytes, and hostile file names in the listing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface RepoSpec {
  files: Map<string, Buffer>;
  commit: string;
  branches: Record<string, string>;
  /** Token required (gated/private); requests without it get 401. */
  token?: string;
  /** Extra names listed in the siblings (hostile-name tests). */
  extraListed?: string[];
}

export interface Fault {
  /** Serve only this many bytes of the body, then destroy the connection. */
  cutAfter?: number;
  /** Send this many bytes, then hold the connection open without sending more. */
  stallAfter?: number;
  /** Answer with this status. */
  status?: number;
  /** Flip a byte of the body. */
  corrupt?: boolean;
}

export interface LoggedRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
  host: string;
}

/** Hashes by buffer, computed once: the server shares its client's event loop, and a listing of large files would block it. */
const memo = (f: (b: Buffer) => string) => {
  const known = new WeakMap<Buffer, string>();
  return (b: Buffer): string => known.get(b) ?? (known.set(b, f(b)), known.get(b)!);
};
const gitSha1 = memo((b) => crypto.createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex'));
const sha256 = memo((b) => crypto.createHash('sha256').update(b).digest('hex'));
export const isLfs = (name: string, b: Buffer) => /\.(safetensors|onnx|onnx_data|bin)$/.test(name) || b.length > 10_000;

/** Reads a model folder into a repo spec (every file, recursively). */
export function repoFromFolder(dir: string, extra: Record<string, Buffer> = {}): RepoSpec {
  const files = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else files.set(r, fs.readFileSync(path.join(d, e.name)));
    }
  };
  walk(dir, '');
  for (const [k, v] of Object.entries(extra)) files.set(k, v);
  const commit = crypto.createHash('sha1').update([...files.keys()].sort().join('\n')).update(String(files.size)).digest('hex');
  return { files, commit, branches: { main: commit } };
}

export class HubServer {
  readonly repos = new Map<string, RepoSpec>();
  /** Old id -> new id: requests for the old one are redirected (a renamed repo). */
  readonly renamed = new Map<string, string>();
  /** Faults by path suffix (a repo file name or 'api'); each entry is used once, in order. */
  readonly faults = new Map<string, Fault[]>();
  readonly log: LoggedRequest[] = [];
  private server!: http.Server;
  private held: http.ServerResponse[] = [];
  port = 0;

  /** The hub's base URL (127.0.0.1) and the CDN's (localhost: another origin). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get cdn(): string {
    return `http://localhost:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private fault(key: string): Fault | undefined {
    const list = this.faults.get(key);
    return list?.shift();
  }

  private send(res: http.ServerResponse, status: number, headers: Record<string, string | number>, body: Buffer | string, head: boolean, fault?: Fault) {
    let buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    if (fault?.corrupt && buf.length > 0) {
      buf = Buffer.from(buf);
      const at = buf.length >> 1;
      buf[at] = buf[at]! ^ 0xff;
    }
    res.writeHead(status, { 'content-length': buf.length, ...headers });
    if (head) return res.end();
    if (fault?.cutAfter !== undefined) {
      res.write(buf.subarray(0, fault.cutAfter), () => res.destroy());
      return;
    }
    if (fault?.stallAfter !== undefined) {
      res.write(buf.subarray(0, fault.stallAfter));
      this.held.push(res);
      return;
    }
    res.end(buf);
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string) {
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
    res.end(JSON.stringify({ error: message }));
  }

  private authorized(repo: RepoSpec, req: http.IncomingMessage): boolean {
    return repo.token === undefined || req.headers.authorization === `Bearer ${repo.token}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url!, 'http://x');
    this.log.push({ method: req.method!, url: url.pathname, range: req.headers.range, authorization: req.headers.authorization, host: req.headers.host ?? '' });
    const head = req.method === 'HEAD';
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(url.pathname);
    if (m) {
      const [id, rev] = [m[1]!, decodeURIComponent(m[2]!)];
      if (this.renamed.has(id)) {
        res.writeHead(307, { location: `/api/models/${this.renamed.get(id)}/revision/${m[2]}${url.search}` });
        return res.end();
      }
      const f = this.fault('api');
      if (f?.status) return this.error(res, f.status, 'Fault', `injected ${f.status}`);
      const repo = this.repos.get(id);
      if (!repo) return this.error(res, 404, 'RepoNotFound', `Repository ${id} not found`);
      if (!this.authorized(repo, req)) return this.error(res, 401, 'GatedRepo', `Access to model ${id} is restricted`);
      const sha = repo.branches[rev] ?? (/^[0-9a-f]{40}$/.test(rev) && rev === repo.commit ? rev : undefined);
      if (!sha) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const siblings = [...repo.files.entries()].map(([name, b]) => ({
        rfilename: name,
        size: b.length,
        blobId: gitSha1(isLfs(name, b) ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\nsize ${b.length}\n`) : b),
        ...(isLfs(name, b) ? { lfs: { sha256: sha256(b), size: b.length, pointerSize: 130 } } : {}),
      }));
      for (const name of repo.extraListed ?? []) siblings.push({ rfilename: name, size: 4, blobId: gitSha1(Buffer.from('evil')) });
      return this.send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ id, modelId: id, sha, siblings, private: false }), head);
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const [id, rev, file] = [m[1]!, decodeURIComponent(m[2]!), m[3]!.split('/').map(decodeURIComponent).join('/')];
      if (this.renamed.has(id)) {
        res.writeHead(307, { location: `/${this.renamed.get(id)}/resolve/${m[2]}/${m[3]}` });
        return res.end();
      }
      const repo = this.repos.get(id);
      if (!repo) return this.error(res, 404, 'RepoNotFound', `Repository ${id} not found`);
      if (!this.authorized(repo, req)) return this.error(res, 401, 'GatedRepo', `Access to model ${id} is restricted`);
      const sha = repo.branches[rev] ?? (rev === repo.commit ? rev : undefined);
      if (!sha) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const body = repo.files.get(file);
      if (!body) return this.error(res, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`);
      const f = this.fault(file);
      if (f?.status) return this.error(res, f.status, 'Fault', `injected ${f.status}`);
      if (isLfs(file, body)) {
        const oid = sha256(body);
        if (f) this.faults.set(`cdn:${oid}`, [f, ...(this.faults.get(`cdn:${oid}`) ?? [])]);
        res.writeHead(302, {
          location: `${this.cdn}/cdn/${oid}?signed=1`,
          'x-repo-commit': sha,
          'x-linked-etag': `"${oid}"`,
          'x-linked-size': body.length,
          etag: `"${gitSha1(Buffer.from('pointer'))}"`,
          'content-length': 0,
        });
        return res.end();
      }
      return this.send(res, 200, { 'x-repo-commit': sha, etag: `"${gitSha1(body)}"` }, body, head, f);
    }
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (m) {
      const oid = m[1]!;
      const body = [...this.repos.values()].flatMap((r) => [...r.files.values()]).find((b) => sha256(b) === oid);
      if (!body) return this.error(res, 404, 'NotFound', 'no such object');
      const f = this.fault(`cdn:${oid}`);
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        if (start >= body.length) {
          res.writeHead(416, { 'content-range': `bytes */${body.length}` });
          return res.end();
        }
        return this.send(res, 206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` }, body.subarray(start), head, f);
      }
      return this.send(res, 200, { etag: `"${oid}"` }, body, head, f);
    }
    this.error(res, 404, 'NotFound', 'not a hub endpoint');
  }
}
