import * as grpc from '@grpc/grpc-js';
import { bindLoopback } from '../helpers/grpc.js';
import { rawUnaryService } from '../../src/util/grpc-raw.js';

/** The one method every test backend serves: request ignored, response = the backend's id (UTF-8). */
export const WHO_METHOD = '/proxima.test.Echo/Who';

export interface Backend {
  readonly id: string;
  readonly port: number;
  /** RPCs this backend answered. */
  readonly served: () => number;
}

export interface Backends {
  readonly backends: readonly Backend[];
  byId(id: string): Backend;
  close(): Promise<void>;
}

/**
 * Real gRPC servers on 127.0.0.1 (port 0), one per id, each answering WHO_METHOD with its id.
 * No generated code: a one-method service definition over raw bytes (rawUnaryService).
 */
export async function startBackends(ids: readonly string[]): Promise<Backends> {
  const servers: grpc.Server[] = [];
  const backends: Backend[] = [];
  try {
    for (const id of ids) {
      let served = 0;
      const server = new grpc.Server();
      const definition: grpc.ServiceDefinition = rawUnaryService('Who', WHO_METHOD);
      server.addService(definition, {
        Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          served++;
          cb(null, Buffer.from(id));
        },
      });
      const port = await bindLoopback(server);
      servers.push(server);
      backends.push({ id, port, served: () => served });
    }
  } catch (err) {
    for (const s of servers) s.forceShutdown();
    throw err;
  }
  return {
    backends,
    byId(id: string): Backend {
      const b = backends.find((x) => x.id === id);
      if (!b) throw new Error(`no backend ${id}`);
      return b;
    },
    async close(): Promise<void> {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
    },
  };
}
