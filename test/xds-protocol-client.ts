/**
 * Test fixture for the xDS protocol tests: a real Proxima control plane on loopback and a raw
 * ADS client built only from @grpc/grpc-js and Envoy's service definitions (no xDS client logic),
 * so tests can send exactly the requests they want and see every response.
 */
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { AssignmentEngine } from '../src/engine/assignments.js';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { parseTopology } from '../src/model/topology.js';
import type { Topology } from '../src/model/types.js';
import { nearestPolicy } from '../src/policy/nearest.js';
import { envoyProtos, grpcLookup } from '../src/protos/envoy.js';
import { XdsControlPlane } from '../src/xds/control-plane.js';
import type { TlsSecretStore } from '../src/model/tls-secrets.js';
import { messageNameOf, TypeUrl } from '../src/xds/resources/types.js';
import { bindLoopback } from './helpers/grpc.js';

export { TypeUrl };

export const BASE_TOPOLOGY = `
nodes:
  - { name: edge-1, zone: edge-a, region: edge }
  - { name: edge-2, zone: edge-b, region: edge }
  - { name: cloud-1, zone: cloud-a, region: cloud }
latency:
  - { from: edge-1, to: edge-2, rtt: 20 }
  - { from: edge-1, to: cloud-1, rtt: 50 }
  - { from: edge-2, to: cloud-1, rtt: 100 }
services:
  - name: default/hello
    hosts: [hello.default.svc.cluster.local]
    protocol: http
    endpoints:
      - { address: 10.0.0.1, port: 8012, node: edge-1, ready: true, capacity: 10 }
      - { address: 10.0.0.2, port: 8012, node: edge-2, ready: true, capacity: 10 }
      - { address: 10.0.0.3, port: 8012, node: cloud-1, ready: true, capacity: 50 }
  - name: default/echo
    hosts: [echo.default.svc.cluster.local]
    protocol: grpc
    endpoints:
      - { address: 10.0.1.1, port: 8013, node: cloud-1, capacity: 20 }
`;

export function topology(text: string = BASE_TOPOLOGY): Topology {
  const r = parseTopology(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}

/** Topology text with one more service `default/<name>`. */
export function withService(name: string, node = 'edge-1', text: string = BASE_TOPOLOGY): string {
  return `${text}  - name: default/${name}
    hosts: [${name}.default.svc.cluster.local]
    protocol: http
    endpoints:
      - { address: 10.0.9.1, port: 8012, node: ${node}, capacity: 10 }
`;
}

export interface Fixture {
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly plane: XdsControlPlane;
  readonly registry: Registry;
  readonly address: string;
  close(): Promise<void>;
}

export async function startFixture(text: string = BASE_TOPOLOGY, extra: { tlsSecrets?: TlsSecretStore } = {}): Promise<Fixture> {
  const store = new ModelStore();
  store.replaceTopology(topology(text));
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  const registry = new Registry();
  const plane = new XdsControlPlane({ store, engine, log: silentLogger(), registry, ...extra });
  const server = new grpc.Server();
  plane.register(server);
  const port = await bindLoopback(server);
  return {
    store,
    engine,
    plane,
    registry,
    address: `127.0.0.1:${port}`,
    async close() {
      plane.close();
      engine.stop();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
}

export interface Any {
  readonly type_url: string;
  readonly value: Buffer;
}
export interface DiscoveryResponse {
  readonly version_info: string;
  readonly resources?: Any[];
  readonly type_url: string;
  readonly nonce: string;
}
export interface DeltaResource {
  readonly name: string;
  readonly version: string;
  readonly resource?: Any;
}
export interface DeltaDiscoveryResponse {
  readonly system_version_info: string;
  readonly resources?: DeltaResource[];
  readonly removed_resources?: string[];
  readonly type_url: string;
  readonly nonce: string;
}

export function decodeAny(any: Any): Record<string, unknown> {
  const type = envoyProtos().type(messageNameOf(any.type_url));
  return type.toObject(type.decode(any.value), { longs: String, enums: String, defaults: false }) as Record<string, unknown>;
}

/** Names of the resources in a SotW response, sorted. */
export function namesOf(r: DiscoveryResponse): string[] {
  return (r.resources ?? []).map((a) => String((decodeAny(a)['name'] ?? decodeAny(a)['cluster_name']) as string)).sort();
}

export function node(id: string, subZone?: string): Record<string, unknown> {
  return { id, cluster: 'test', ...(subZone ? { locality: { sub_zone: subZone } } : {}), user_agent_name: 'raw-test-client' };
}

type ServiceCtor = grpc.ServiceClientConstructor;

/** A raw bidirectional xDS stream that queues responses and the final status. */
export class RawStream<Res> {
  private readonly queue: Res[] = [];
  private waiters: Array<() => void> = [];
  status: grpc.StatusObject | undefined;
  error: grpc.ServiceError | undefined;
  readonly received: Res[] = [];

  constructor(readonly call: grpc.ClientDuplexStream<Record<string, unknown>, Res>) {
    call.on('data', (r: Res) => {
      this.queue.push(r);
      this.received.push(r);
      this.wake();
    });
    call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.wake();
    });
    call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(req: Record<string, unknown>): void {
    this.call.write(req);
  }

  /** The next response; rejects after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<Res> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.queue.shift();
      if (r) return r;
      if (this.error || this.status) throw new Error(`stream ended: ${this.error?.message ?? this.status?.details}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves when nothing arrives for `ms`; rejects with the unexpected response otherwise. */
  async none(ms = 150): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.queue.length > 0)
      throw new Error(`unexpected response: ${JSON.stringify(this.queue[0], (_k, v) => (v?.type === 'Buffer' ? '<bytes>' : v))}`);
  }

  /** Wait for the stream's final status (e.g. an INVALID_ARGUMENT). */
  async ended(timeoutMs = 2000): Promise<grpc.ServiceError | grpc.StatusObject> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error && !this.status) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise((r) => setTimeout(r, 10));
    }
    return (this.error ?? this.status)!;
  }

  close(): void {
    this.call.cancel();
  }
}

export class RawClient {
  private readonly clients: grpc.Client[] = [];
  constructor(
    private readonly address: string,
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    private readonly options: grpc.ChannelOptions = {},
  ) {}

  private readonly byPath = new Map<string, grpc.Client & Record<string, (...a: unknown[]) => unknown>>();

  /** One client per service (they share the channel's connection anyway), so many streams hold no extra clients. */
  private make(path: string): grpc.Client & Record<string, (...a: unknown[]) => unknown> {
    let c = this.byPath.get(path);
    if (c) return c;
    const Ctor = grpcLookup<ServiceCtor>(envoyProtos().grpc, path);
    c = new Ctor(this.address, this.credentials, this.options) as grpc.Client & Record<string, (...a: unknown[]) => unknown>;
    this.byPath.set(path, c);
    this.clients.push(c);
    return c;
  }

  ads(): RawStream<DiscoveryResponse> {
    const c = this.make('envoy.service.discovery.v3.AggregatedDiscoveryService');
    return new RawStream(c['StreamAggregatedResources']!() as grpc.ClientDuplexStream<Record<string, unknown>, DiscoveryResponse>);
  }

  delta(): RawStream<DeltaDiscoveryResponse> {
    const c = this.make('envoy.service.discovery.v3.AggregatedDiscoveryService');
    return new RawStream(c['DeltaAggregatedResources']!() as grpc.ClientDuplexStream<Record<string, unknown>, DeltaDiscoveryResponse>);
  }

  /** LoadReportingService.StreamLoadStats: responses are LoadStatsResponse objects. */
  lrs(): RawStream<Record<string, unknown>> {
    const c = this.make('envoy.service.load_stats.v3.LoadReportingService');
    return new RawStream(c['StreamLoadStats']!() as grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>);
  }

  clusters(): RawStream<DiscoveryResponse> {
    const c = this.make('envoy.service.cluster.v3.ClusterDiscoveryService');
    return new RawStream(c['StreamClusters']!() as grpc.ClientDuplexStream<Record<string, unknown>, DiscoveryResponse>);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

/** Value of a prom-client metric (summed over label sets matching `labels`). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const data = await m.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, x]) => String((v.labels as Record<string, unknown>)[k]) === x))
    .filter((v) => !('metricName' in v) || v.metricName === name)
    .reduce((a, v) => a + v.value, 0);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
