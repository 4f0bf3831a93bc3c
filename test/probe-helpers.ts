import * as grpc from '@grpc/grpc-js';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MODEL_DEFAULTS, type Topology } from '../src/model/types.js';

/** Shared helpers for test/probe-*.test.ts and test/lrs-*.test.ts. */

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000, stepMs = 10): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return Date.now() - start;
}

export async function startGrpc(
  register: (s: grpc.Server) => void,
  port = 0,
): Promise<{ server: grpc.Server; port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  register(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/**
 * A TCP proxy that delays every chunk by `oneWayMs` in each direction, so a request round trip
 * through it takes ≈ 2·oneWayMs longer: user-space netem. `targetPort` may be resolved lazily.
 */
export async function delayProxy(targetPort: number | (() => number), oneWayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: typeof targetPort === 'number' ? targetPort : targetPort(), noDelay: true });
    client.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), oneWayMs));
      from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
      from.on('error', () => to.destroy());
    };
    pipe(client, upstream);
    pipe(upstream, client);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTP server answering GET /probe after `delayMs` (a peer with a slow path, or no agent at all). */
export async function delayedProbeServer(
  delayMs: number | (() => number),
): Promise<{ port: number; server: HttpServer; applied: number[]; close(): Promise<void> }> {
  // The delay really applied to each request (timers fire late on a busy machine), in milliseconds.
  const applied: number[] = [];
  const server = createHttpServer((req, res) => {
    const start = process.hrtime.bigint();
    setTimeout(
      () => {
        res.writeHead(req.url === '/probe' ? 200 : 404);
        res.end('ok\n');
        applied.push(Number(process.hrtime.bigint() - start) / 1e6);
      },
      typeof delayMs === 'number' ? delayMs : delayMs(),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    applied,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Nodes a, b, c (or the given names) and one service with an endpoint on every node but the first. */
export function topology(
  nodes: readonly string[] = ['a', 'b', 'c'],
  latency: Array<{ from: string; to: string; rttMs: number }> = [],
): Topology {
  return {
    nodes: nodes.map((name) => ({ name, zone: `z-${name}`, region: 'r', ready: true, labels: {} })),
    latency,
    services: [
      {
        name: 'default/hello',
        hosts: ['hello.default.svc.cluster.local'],
        protocol: 'http',
        endpoints: nodes.slice(1).map((node, i) => ({ address: '127.0.0.1', port: 9001 + i, node, ready: true, capacity: 10 })),
      },
    ],
    defaults: DEFAULT_MODEL_DEFAULTS,
  };
}
