import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DelayLine, oneWayDelayMs, type DelayMatrix } from './netem.js';
import type { Rng } from '../util/rng.js';

export interface DelayProxyOptions {
  /** Address the proxy listens on (the emulated node's public address). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** The real server behind it. */
  readonly targetHost: string;
  readonly targetPort: number;
  /** Node the proxy (and the server behind it) belongs to. */
  readonly node: string;
  /** Which emulated node a peer address belongs to (by source IP); undefined = no delay. */
  readonly nodeOfAddress: (ip: string) => string | undefined;
  readonly delays: DelayMatrix;
  readonly rng: Rng;
}

/** Stop reading from a side while this many bytes wait in its delay line. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * A TCP proxy that delays every chunk by the one-way delay between the client's node and this node,
 * in both directions, preserving order: netem in user space, keyed by the client's source address.
 */
export class DelayProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: DelayProxyOptions) {}

  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listenPort, this.opts.listenHost, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private accept(client: Socket): void {
    const from = this.opts.nodeOfAddress(normaliseIp(client.remoteAddress ?? ''));
    const upstream = createConnection({ host: this.opts.targetHost, port: this.opts.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', cleanup);
    upstream.on('error', cleanup);
    client.on('close', () => this.sockets.delete(client));
    upstream.on('close', () => this.sockets.delete(upstream));
    const delay = () => (from ? oneWayDelayMs(this.opts.delays, from, this.opts.node, this.opts.rng) : 0);
    this.pipe(client, upstream, delay);
    this.pipe(upstream, client, delay);
  }

  private pipe(src: Socket, dst: Socket, delayMs: () => number): void {
    const line = new DelayLine();
    let queuedBytes = 0;
    let ended = false;
    let inFlight = 0;
    const maybeEnd = () => {
      if (ended && inFlight === 0 && !dst.destroyed) dst.end();
    };
    src.on('data', (chunk: Buffer) => {
      const now = performance.now();
      const at = line.releaseAt(now, delayMs());
      queuedBytes += chunk.length;
      inFlight++;
      if (queuedBytes > HIGH_WATER_BYTES) src.pause();
      const release = () => {
        queuedBytes -= chunk.length;
        inFlight--;
        if (!dst.destroyed) dst.write(chunk);
        if (queuedBytes <= HIGH_WATER_BYTES && src.isPaused()) src.resume();
        maybeEnd();
      };
      const wait = at - now;
      if (wait <= 0.05) release();
      else setTimeout(release, wait);
    });
    src.on('end', () => {
      ended = true;
      maybeEnd();
    });
  }
}

/** `::ffff:127.0.1.1` → `127.0.1.1`. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
