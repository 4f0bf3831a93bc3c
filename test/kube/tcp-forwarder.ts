/**
 * A tiny TCP forwarder standing in for the Kubernetes Service in front of the control-plane
 * replicas: each new connection goes to the first upstream port that accepts it, in order (a
 * refused upstream is skipped, as kube-proxy stops sending to a terminated pod). grpc-js-xds
 * 1.14 uses only the first `xds_servers` entry of its bootstrap (no A71 fallback), so the gateway
 * reaches both replicas through this one address.
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Forwarder {
  readonly port: number;
  /** Connections currently piped to each upstream port. */
  openTo(port: number): number;
  close(): Promise<void>;
}

export async function startForwarder(upstreamPorts: readonly number[]): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const open = new Map<number, number>();
  const server = createServer((client) => {
    client.pause();
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const attempt = (i: number): void => {
      const port = upstreamPorts[i];
      if (port === undefined || client.destroyed) {
        client.destroy();
        return;
      }
      const upstream = connect({ host: '127.0.0.1', port, noDelay: true });
      sockets.add(upstream);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        open.set(port, (open.get(port) ?? 0) + 1);
        upstream.on('close', () => open.set(port, (open.get(port) ?? 1) - 1));
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      upstream.on('error', () => {
        upstream.destroy();
        if (!connected) attempt(i + 1);
      });
      upstream.on('close', () => sockets.delete(upstream));
    };
    attempt(0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    openTo: (port) => open.get(port) ?? 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
