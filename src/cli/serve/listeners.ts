import type { Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import { formatListen, type ListenAddress } from '../../config.js';
import type { Logger } from '../../log.js';
import type { ServeLimits } from '../../limits.js';
import { TransportSecurity } from '../../tls/transport.js';
import { NodeAuthorizer } from '../../tls/authorizer.js';
import { listenFront, type ConnectionRefusal } from '../../net/front-listener.js';
import { listenError } from '../errors.js';
import { optional } from '../../util/optional.js';
import type { ServeOptions } from './types.js';
import type { ShutdownStack } from './shutdown.js';

/**
 * Everything the listeners of `proxima serve` share: transport security (TLS files, reloads, the
 * plaintext-off-loopback check), who a peer is (the authorizer), the per-peer and total connection
 * limits with their refusal counter, and binding that turns a failure into one line naming the flag.
 */
export class ServeListeners {
  readonly transport: TransportSecurity;
  readonly authorizer: NodeAuthorizer;
  readonly connectionLimits: { readonly maxPerPeer: number; readonly maxTotal: number };
  private readonly refused: Counter<'listener' | 'reason'>;

  constructor(
    options: ServeOptions,
    limits: ServeLimits,
    log: Logger,
    registry: Registry,
    private readonly shutdown: ShutdownStack,
  ) {
    this.transport = TransportSecurity.create(
      {
        ...optional('tls', options.tls),
        ...optional('reloadIntervalMs', options.tlsReloadIntervalMs),
        insecure: options.insecure ?? false,
      },
      log,
      registry,
    );
    shutdown.push(() => this.transport.close());
    this.transport.admit('xds-listen', options.xdsListen);
    this.transport.admit('extproc-listen', options.extprocListen);
    this.transport.admit('extender-listen', options.extenderListen);
    this.authorizer = new NodeAuthorizer({
      mutualTls: this.transport.mutual,
      trustDomain: options.tlsTrustDomain ?? 'cluster.local',
      registry,
    });
    this.refused = new Counter({
      name: 'proxima_connections_refused_total',
      help: 'Connections closed at accept, by listener and reason (per_peer: --max-connections-per-peer, total: --max-connections).',
      labelNames: ['listener', 'reason'],
      registers: [registry],
    });
    this.connectionLimits = { maxPerPeer: limits.maxConnectionsPerPeer, maxTotal: limits.maxConnections };
  }

  /** Bind a raw front listener (sockets handed to `accept`) with the shared limits; returns the bound port. */
  async bindFront(addr: ListenAddress, listener: string, flag: string, accept: (socket: Socket) => void): Promise<number> {
    const l = await listenFront(addr, this.connectionLimits, accept, (reason: ConnectionRefusal) =>
      this.refused.inc({ listener, reason }),
    ).catch((err: unknown) => {
      throw listenError(flag, formatListen(addr), err);
    });
    this.shutdown.push(() => l.close());
    return l.port;
  }
}

/** Listen with an HTTP server's `listen(addr)`, turning a failure into one line naming the flag. */
export async function listenOrExplain<T>(flag: string, addr: ListenAddress, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw listenError(flag, formatListen(addr), err);
  }
}
