/**
 * `proxima serve --example-backends`: small function backends on the loopback endpoints of the served
 * topology (the emulator's function pods: HTTP or gRPC, with the endpoint's concurrency limit), then
 * one request through a real gRPC xDS client acting as a gateway, so the quick start ends in an
 * answered request that shows which node served it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import type { Service } from '../model/types.js';
import { FunctionPod } from '../emulator/function-pod.js';
import { nextMessage } from '../emulator/ipc.js';
import type { GatewayCommand, GatewayMessage } from '../emulator/gateway-worker.js';
import { mulberry32 } from '../util/rng.js';

const emulatorDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'emulator');

export interface ExampleBackends {
  /** `address:port (service, node)` of every backend started. */
  readonly started: readonly string[];
  close(): Promise<void>;
}

const isLoopback = (address: string) => /^127\./.test(address) || address === '::1';

/** Start a backend on every ready loopback endpoint of the model's services. */
export async function startExampleBackends(store: ModelStore, log: Logger): Promise<ExampleBackends> {
  const pods: FunctionPod[] = [];
  const started: string[] = [];
  const close = async () => void (await Promise.all(pods.map((p) => p.stop())));
  const skipped = new Set<string>();
  try {
    for (const service of store.services()) {
      for (const e of service.endpoints) {
        if (!isLoopback(e.address)) {
          skipped.add(`${e.address}:${e.port}`);
          continue;
        }
        const pod = new FunctionPod({
          name: `${service.name.replace('/', '-')}-${e.node}-${e.port}`,
          node: e.node,
          host: e.address,
          port: e.port,
          protocol: service.protocol === 'http' ? 'http' : 'grpc',
          concurrency: e.capacity,
          serviceTimeMs: store.defaults.serviceTimeMs,
          serviceTimeCv: 0.3,
          rng: mulberry32(e.port),
        });
        try {
          await pod.start();
        } catch (err) {
          throw new UsageError(
            `--example-backends: cannot start the backend for ${service.name} at ${e.address}:${e.port} (${(err as Error).message.split('\n')[0]}); free the port or edit the topology`,
          );
        }
        pods.push(pod);
        started.push(`${e.address}:${e.port} (${service.name}, ${service.protocol}, node ${e.node})`);
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  if (skipped.size) log.warn({ skipped: [...skipped] }, 'example backends only run on loopback endpoints; these are left alone');
  if (!started.length)
    throw new UsageError('--example-backends: the topology has no loopback endpoints (127.0.0.0/8) to start backends on');
  return { started, close };
}

/** The gRPC service and gateway node the quick-start request uses: the first gRPC service with a ready endpoint. */
export function pickSelfCheck(services: readonly Service[]): { host: string; node: string } | undefined {
  for (const s of services) {
    if (s.protocol !== 'grpc' || !s.hosts.length) continue;
    const e = s.endpoints.find((x) => x.ready && isLoopback(x.address));
    if (e) return { host: s.hosts[0]!, node: e.node };
  }
  return undefined;
}

/**
 * One request through a real @grpc/grpc-js-xds client (the demo's gateway process) that announces
 * itself as a gateway on `node` and dials `xds:///host` through this control plane.
 */
export async function requestThroughXds(xdsAddress: string, target: { host: string; node: string }, timeoutMs = 20_000): Promise<string> {
  const bootstrap = {
    xds_servers: [{ server_uri: xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: `quickstart-${target.node}`, locality: { sub_zone: target.node } },
  };
  const child: ChildProcess = fork(join(emulatorDir, 'gateway-worker.js'), [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
  });
  try {
    const reply = nextMessage<GatewayMessage, GatewayMessage>(
      child,
      (m) => (m.type === 'ready' || m.type === 'warmup-failed' ? m : undefined),
      timeoutMs + 5_000,
      'the quick-start xDS client',
    );
    child.send({ type: 'warmup', target: `xds:///${target.host}`, timeoutMs } satisfies GatewayCommand);
    const m = await reply;
    if (m.type === 'warmup-failed') throw new Error(`xds:///${target.host} from a gateway on ${target.node} failed: ${m.error}`);
    return m.type === 'ready' ? m.servedBy : '';
  } finally {
    child.kill('SIGKILL');
  }
}
