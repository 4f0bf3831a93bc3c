import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeStat, STAT_CONTENT_TYPE, type QueueProxyStat } from '../probe/queue-proxy/stat.js';

/** What a queue-proxy's two metric ports answer. */
export interface QueueProxyPages {
  stat(): QueueProxyStat;
  text(): string;
}

/**
 * An emulated queue-proxy's metric ports: `autometric` answers `GET /metrics` with one protobuf
 * `Stat` when asked for `application/protobuf` (406 otherwise, as today's queue-proxy does), and
 * `usermetric` answers with Prometheus text. Each on its own port, as Knative's 9090 and 9091.
 */
export class QueueProxyMetricsServer {
  private readonly servers: Server[] = [];
  autometricPort = 0;
  usermetricPort = 0;

  constructor(private readonly pages: QueueProxyPages) {}

  async listen(host: string, autometricPort = 0, usermetricPort = 0): Promise<void> {
    this.autometricPort = await this.serve(host, autometricPort, (accept) => {
      if (!accept.includes(STAT_CONTENT_TYPE)) return { status: 406, type: 'text/plain', body: Buffer.from('protobuf only\n') };
      return { status: 200, type: STAT_CONTENT_TYPE, body: Buffer.from(encodeStat(this.pages.stat())) };
    });
    this.usermetricPort = await this.serve(host, usermetricPort, () => ({
      status: 200,
      type: 'text/plain; version=0.0.4; charset=utf-8',
      body: Buffer.from(this.pages.text()),
    }));
  }

  private async serve(
    host: string,
    port: number,
    page: (accept: string) => { status: number; type: string; body: Buffer },
  ): Promise<number> {
    const server = createServer((req, res) => {
      req.resume();
      if ((req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      const p = page(String(req.headers['accept'] ?? ''));
      res.writeHead(p.status, { 'content-type': p.type, 'content-length': p.body.length });
      res.end(p.body);
    });
    server.keepAliveTimeout = 60_000;
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.closeAllConnections();
            s.close(() => r());
          }),
      ),
    );
  }
}
