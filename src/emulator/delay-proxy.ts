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
    const upstream = createConnection({ host: this.opts.targetHost, port: this.opts.targetPort, noDelay: true });
    // Nagle + delayed ACKs would add tens of ms that are not part of the emulated link.
    client.setNoDelay(true);
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
    // One FIFO and one timer per direction: separate timers per chunk may fire out of order.
    const queue: Array<{ at: number; chunk: Buffer }> = [];
    let queuedBytes = 0;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.at <= now + 0.5) {
        const { chunk } = queue.shift()!;
        queuedBytes -= chunk.length;
        if (!dst.destroyed) dst.write(chunk);
      }
      if (queuedBytes <= HIGH_WATER_BYTES && src.isPaused()) src.resume();
      if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.at - now));
      else if (ended && !dst.destroyed) dst.end();
    };
    src.on('data', (chunk: Buffer) => {
      const now = performance.now();
      queue.push({ at: line.releaseAt(now, delayMs()), chunk });
      queuedBytes += chunk.length;
      if (queuedBytes > HIGH_WATER_BYTES) src.pause();
      if (!timer) drain();
    });
    src.on('end', () => {
      ended = true;
      if (!timer) drain();
    });
  }
}

/** `::ffff:127.0.1.1` → `127.0.1.1`. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
