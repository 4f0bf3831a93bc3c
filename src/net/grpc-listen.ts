import type * as grpc from '@grpc/grpc-js';
import type { ListenAddress } from '../config.js';
import { listenFront, type ConnectionLimits, type ConnectionRefusal, type FrontListener } from './front-listener.js';

export interface GrpcListener {
  readonly port: number;
  readonly front: FrontListener;
  close(): Promise<void>;
}

/**
 * Serve `server` on `addr` with `credentials`, through a front listener that caps connections per
 * peer and in total (grpc-js has no such option; its connection injector takes sockets we accepted).
 */
export async function listenGrpc(
  server: grpc.Server,
  addr: ListenAddress,
  credentials: grpc.ServerCredentials,
  limits: ConnectionLimits,
  onRefuse: (reason: ConnectionRefusal) => void,
): Promise<GrpcListener> {
  const injector = server.createConnectionInjector(credentials);
  const front = await listenFront(addr, limits, (socket) => injector.injectConnection(socket), onRefuse);
  return {
    port: front.port,
    front,
    close: async () => {
      injector.destroy();
      await front.close();
    },
  };
}
