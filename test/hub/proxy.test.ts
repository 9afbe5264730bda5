// The hub client behind a corporate proxy: HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl and
// huggingface_hub read them. A local forward proxy stands in for the corporate one.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, downloadModel } from '../../lib/index.js';
import { bypassesProxy, proxyFor } from '../../lib/hub/proxy.js';
import { HubServer, repoFromFolder } from '../helpers/hubserver.js';
import { makeModel, tempDir } from '../helpers/models.js';
import { ForwardProxy } from '../helpers/proxy.js';

const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];
const saved = Object.fromEntries(PROXY_VARS.map((k) => [k, process.env[k]]));
const setEnv = (vars: Record<string, string>) => {
  for (const k of PROXY_VARS) delete process.env[k];
  Object.assign(process.env, vars);
};

let root: string;
let hub: HubServer;
let model: string;
beforeAll(async () => {
  root = tempDir('proxy');
  model = makeModel(root, 'tiny', { pooling: 'cls' });
  hub = await new HubServer().start();
  hub.repos.set('org/tiny', repoFromFolder(model));
});
afterEach(() => setEnv(Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)) as Record<string, string>));
afterAll(async () => {
  await hub.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('which requests go through the proxy', () => {
  it('HTTP_PROXY for http URLs, HTTPS_PROXY for https ones, lower case first, a scheme added when missing', () => {
    const env = { HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:2', HTTPS_PROXY: 'proxy.corp:3128' };
    expect(proxyFor(new URL('http://hub.example/x'), env)).toBe('http://lower:2');
    expect(proxyFor(new URL('https://hub.example/x'), env)).toBe('http://proxy.corp:3128');
    expect(proxyFor(new URL('https://hub.example/x'), {})).toBeUndefined();
  });

  it('NO_PROXY: names and their subdomains, leading dots and *., ports, IPv6, *', () => {
    const on = (url: string, list: string) => bypassesProxy(new URL(url), list);
    expect(on('https://huggingface.co/x', 'huggingface.co')).toBe(true);
    expect(on('https://cdn-lfs.huggingface.co/x', '.huggingface.co')).toBe(true);
    expect(on('https://cdn-lfs.huggingface.co/x', '*.huggingface.co')).toBe(true);
    expect(on('https://nothuggingface.co/x', 'huggingface.co')).toBe(false);
    expect(on('http://127.0.0.1:8080/x', 'localhost, 127.0.0.1:8080')).toBe(true);
    expect(on('http://127.0.0.1:9090/x', '127.0.0.1:8080')).toBe(false);
    expect(on('https://hub.example/x', 'hub.example:443')).toBe(true);
    expect(on('http://[::1]:8080/x', '::1')).toBe(true);
    expect(on('http://[::1]:8080/x', '[::1]:8080')).toBe(true);
    expect(on('https://any.where/x', '*')).toBe(true);
    expect(on('https://any.where/x', '')).toBe(false);
  });
});

describe('downloads behind a proxy', () => {
  it('go through HTTP_PROXY (API and CDN), unless NO_PROXY names the host', async () => {
    // A new proxy per case: a tunnel a case opened stays open (keep-alive) and would serve the next one.
    const through = async (vars: Record<string, string>, cache: string) => {
      const proxy = await new ForwardProxy().start();
      try {
        setEnv({ HTTP_PROXY: proxy.url, ...vars });
        const r = await downloadModel('org/tiny', { endpoint: hub.endpoint, cacheDir: path.join(root, cache), token: '' });
        expect(fs.readFileSync(path.join(r.dir, 'model.safetensors')).equals(fs.readFileSync(path.join(model, 'model.safetensors')))).toBe(true);
        return proxy.log.map((l) => `${l.method} ${l.target}`);
      } finally {
        await proxy.stop();
      }
    };
    const hubHost = new URL(hub.endpoint).host;
    const all = await through({}, 'c1');
    expect(all).toContain(`CONNECT ${hubHost}`); // the API on 127.0.0.1
    expect(all.some((t) => t.startsWith('CONNECT localhost:'))).toBe(true); // the CDN it redirects to
    // NO_PROXY for the API's host only: the CDN still goes through the proxy.
    const cdnOnly = await through({ NO_PROXY: '127.0.0.1' }, 'c2');
    expect(cdnOnly.length).toBeGreaterThan(0);
    expect(cdnOnly.every((t) => t.startsWith('CONNECT localhost:'))).toBe(true);
    // Both hosts: nothing through the proxy.
    expect(await through({ no_proxy: '127.0.0.1, localhost' }, 'c3')).toEqual([]);
  });

  it('credentials in the proxy URL are sent as Proxy-Authorization and never printed', async () => {
    const auth = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    const proxy = await new ForwardProxy(auth).start();
    try {
      setEnv({ HTTP_PROXY: proxy.url.replace('http://', 'http://alice:s3cret@') });
      const r = await downloadModel('org/tiny', { endpoint: hub.endpoint, cacheDir: path.join(root, 'c4'), token: '' });
      expect(fs.existsSync(path.join(r.dir, 'config.json'))).toBe(true);
      expect(proxy.log.every((l) => l.auth === auth)).toBe(true);
    } finally {
      await proxy.stop();
    }
    // A proxy that is not there: the error names it, without the password, and how to bypass it.
    setEnv({ HTTP_PROXY: 'http://alice:s3cret@127.0.0.1:9' });
    const e = (await downloadModel('org/tiny', { endpoint: hub.endpoint, cacheDir: path.join(root, 'c5'), token: '', attempts: 1 }).catch((x: unknown) => x)) as EmbedrtError;
    expect(e).toBeInstanceOf(EmbedrtError);
    expect(e.code).toBe('E_HUB_DOWNLOAD');
    expect(e.message).toContain('through the proxy http://127.0.0.1:9');
    expect(e.message).toContain('NO_PROXY');
    expect(e.message).not.toContain('s3cret');
  });
});
