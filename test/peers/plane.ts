import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { AssignmentEngine } from '../../src/engine/assignments.js';
import { silentLogger } from '../../src/log.js';
import { ModelStore } from '../../src/model/store.js';
import type { Policy } from '../../src/policy/types.js';
import { FileTopologySource } from '../../src/sources/file.js';
import { XdsControlPlane, type ClientInfo } from '../../src/xds/control-plane.js';
import type { ResourceBuilders } from '../../src/xds/resources/types.js';
import { bindLoopback } from '../helpers/grpc.js';

/** Proxima's real xDS control plane on 127.0.0.1 (port 0), for interop tests. */
export interface TestPlane {
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly plane: XdsControlPlane;
  readonly registry: Registry;
  readonly port: number;
  /** ADS streams whose gateway node is `node`. */
  streamsOf(node: string): ClientInfo[];
  close(): Promise<void>;
}

export async function startPlane(opts: { policy: Policy; store?: ModelStore; builders?: ResourceBuilders }): Promise<TestPlane> {
  const store = opts.store ?? new ModelStore();
  const registry = new Registry();
  const engine = new AssignmentEngine({ store, policy: opts.policy });
  engine.start();
  const plane = new XdsControlPlane({
    store,
    engine,
    log: silentLogger(),
    registry,
    ...(opts.builders ? { builders: opts.builders } : {}),
  });
  const server = new grpc.Server();
  plane.register(server);
  const port = await bindLoopback(server);
  return {
    store,
    engine,
    plane,
    registry,
    port,
    streamsOf: (node) => plane.clients().filter((c) => c.gatewayNode === node),
    async close() {
      plane.close();
      engine.stop();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

/** Poll `check` every `everyMs` until it returns true or `timeoutMs` passes. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The topology file at `path` feeding the plane's model store, polled fast enough for a live test. */
export function fileSourceFor(plane: TestPlane, path: string): FileTopologySource {
  return new FileTopologySource({
    path,
    store: plane.store,
    log: silentLogger(),
    registry: new Registry(),
    debounceMs: 20,
    pollIntervalMs: 200,
  });
}
