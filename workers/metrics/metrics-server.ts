/**
 * GET /metrics in the Prometheus text format, served by the supervisor's main thread on its own
 * port (config `metrics.host`, `metrics.port`; port 0 = off). A scrape reads shared memory only
 * (collectors.ts): it never touches a stage's thread. Any other path answers 404.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export class MetricsServer {
  private readonly registry: Registry;
  private server: Server | null = null;
  /** Scrapes answered (for the server's own health). */
  scrapes = 0;

  constructor(registry: Registry) {
    this.registry = registry;
  }

  /** Listens; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      this.registry.metrics().then(
        (text) => {
          this.scrapes++;
          res.writeHead(200, { 'content-type': this.registry.contentType }).end(text);
        },
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
