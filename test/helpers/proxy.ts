// A forward proxy for tests: CONNECT tunnels (what undici's ProxyAgent opens) and absolute-form
// requests, each logged by target; an optional Proxy-Authorization it requires.
import http from 'node:http';
import net from 'node:net';

export class ForwardProxy {
  readonly log: { method: string; target: string; auth: string | undefined }[] = [];
  private server = http.createServer();
  url = '';

  constructor(private readonly requiredAuth?: string) {}

  async start(): Promise<this> {
    this.server.on('connect', (req, socket, head) => {
      this.log.push({ method: 'CONNECT', target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      if (this.requiredAuth && req.headers['proxy-authorization'] !== this.requiredAuth) {
        socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host!, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    this.server.on('request', (req, res) => {
      this.log.push({ method: req.method ?? '', target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      res.writeHead(501).end('absolute-form requests are not forwarded by this test proxy');
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
