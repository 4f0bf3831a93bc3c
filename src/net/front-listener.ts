import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config.js';

/**
 * Connections the kernel queues before accept (capped by net.core.somaxconn). After a control-plane
 * restart every gateway reconnects at once; a SYN dropped on a full queue is retried only after the
 * kernel's initial retransmission timeout (1 s), which node's default of 511 invites with a thousand
 * gateways (TcpExtListenOverflows counts the drops).
 */
const ACCEPT_BACKLOG = 4096;

export interface ConnectionLimits {
  /** Open connections from one remote address above this are closed at once. */
  readonly maxPerPeer: number;
  /** Open connections in total above this are closed at once. */
  readonly maxTotal: number;
}

export type ConnectionRefusal = 'per_peer' | 'total';

export interface FrontListener {
  readonly host: string;
  readonly port: number;
  /** Open connections right now (for tests and /debug). */
  readonly open: () => number;
  /** Stop accepting and destroy every open socket. */
  close(): Promise<void>;
}

/**
 * A plain TCP listener in front of a protocol server (gRPC through its connection injector, HTTP or
 * HTTPS through `emit('connection')`): it caps open connections per remote address and in total
 * before any TLS or HTTP work is done, so a refused socket costs only the accept.
 */
export async function listenFront(
  addr: ListenAddress,
  limits: ConnectionLimits,
  accept: (socket: Socket) => void,
  onRefuse: (reason: ConnectionRefusal) => void,
): Promise<FrontListener> {
  const perPeer = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer = socket.remoteAddress ?? '?';
    const n = perPeer.get(peer) ?? 0;
    const reason: ConnectionRefusal | undefined =
      n >= limits.maxPerPeer ? 'per_peer' : sockets.size >= limits.maxTotal ? 'total' : undefined;
    if (reason) {
      onRefuse(reason);
      socket.destroy();
      return;
    }
    perPeer.set(peer, n + 1);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) perPeer.delete(peer);
      else perPeer.set(peer, left);
    });
    socket.on('error', () => undefined);
    accept(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: addr.port, host: addr.host, backlog: ACCEPT_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    host: a.address,
    port: a.port,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
