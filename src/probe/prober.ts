import { connect } from 'node:net';
import { Pool } from 'undici';

/**
 * The I/O of one probe: an HTTP GET /probe over a kept-alive connection (one request round trip ≈ one
 * RTT plus the peer's near-zero handling time) and, as a second estimator, a TCP connect timing (the
 * kernel's SYN/SYN-ACK, independent of the peer's event loop).
 */

export type ProbeOutcome = 'ok' | 'timeout' | 'error' | 'http_error';

export interface ProbeResult {
  readonly outcome: ProbeOutcome;
  /** Request round trip in milliseconds; set when outcome is ok. */
  readonly rttMs?: number;
  readonly error?: string;
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Split `host:port` / `[v6]:port`. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (!m) throw new Error(`"${address}" is not host:port`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

function origin(address: string): string {
  const { host, port } = splitHostPort(address);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** One kept-alive HTTP connection per peer address. */
export class HttpProber {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly opts: { readonly keepAliveMs: number }) {}

  private pool(address: string): Pool {
    let p = this.pools.get(address);
    if (!p) {
      p = new Pool(origin(address), {
        connections: 1,
        pipelining: 1,
        keepAliveTimeout: this.opts.keepAliveMs,
        keepAliveMaxTimeout: this.opts.keepAliveMs,
        connect: { noDelay: true },
      });
      this.pools.set(address, p);
    }
    return p;
  }

  private async get(pool: Pool, timeoutMs: number): Promise<number> {
    const { statusCode, body } = await pool.request({
      path: '/probe',
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await body.dump();
    return statusCode;
  }

  /** Time one request; opens (untimed) a connection first when the pool has none. */
  async probe(address: string, timeoutMs: number): Promise<ProbeResult> {
    let pool: Pool;
    try {
      pool = this.pool(address);
    } catch (err) {
      return { outcome: 'error', error: (err as Error).message };
    }
    try {
      // A request on a fresh connection would also time the TCP handshake (≈ 2 RTT): warm up first.
      if (pool.stats.connected === 0) await this.get(pool, timeoutMs);
      const start = process.hrtime.bigint();
      const status = await this.get(pool, timeoutMs);
      const rttMs = elapsedMs(start);
      if (status < 200 || status >= 300) return { outcome: 'http_error', error: `HTTP ${status}` };
      return { outcome: 'ok', rttMs };
    } catch (err) {
      const e = err as Error & { code?: string };
      const timeout = e.name === 'TimeoutError' || e.name === 'AbortError' || /Timeout/.test(e.code ?? '');
      return { outcome: timeout ? 'timeout' : 'error', error: e.code ?? e.message };
    }
  }

  /** Close connections to peers that are gone. */
  async retain(addresses: ReadonlySet<string>): Promise<void> {
    const gone = [...this.pools].filter(([a]) => !addresses.has(a));
    for (const [a] of gone) this.pools.delete(a);
    await Promise.allSettled(gone.map(([, p]) => p.destroy()));
  }

  async close(): Promise<void> {
    await this.retain(new Set());
  }
}

/** Time a TCP connect (handshake only) and close at once. */
export function tcpConnectMs(address: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(address));
    } catch (err) {
      resolve({ outcome: 'error', error: (err as Error).message });
      return;
    }
    const start = process.hrtime.bigint();
    const socket = connect({ host, port, noDelay: true });
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), timeoutMs);
    let done = false;
    function finish(r: ProbeResult): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    }
    socket.once('connect', () => finish({ outcome: 'ok', rttMs: elapsedMs(start) }));
    socket.once('error', (err: Error & { code?: string }) => finish({ outcome: 'error', error: err.code ?? err.message }));
  });
}
