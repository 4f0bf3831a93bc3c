/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * The end-to-end tests' Knative cluster: the kube-apiserver STAND-IN (apiserver-standin.ts) holding
 * the fixture Nodes, Revisions, public Services and KIngress of ksvc `hello`, plus EndpointSlices
 * whose endpoints are REAL gRPC servers ("revision pods") on loopback. Each pod gets its own
 * loopback address (127.0.0.N: pod IPs are unique, and the source deduplicates endpoints by
 * address) and its own EndpointSlice (every endpoint of one slice shares the slice's port, and the
 * pods listen on ports the kernel picked). A pod answers the test method with `revision@node`.
 */
import * as grpc from '@grpc/grpc-js';
import { startServe, type ServeHandle, type ServeOptions } from '../../src/cli/serve.js';
import { silentLogger } from '../../src/log.js';
import { ApiServerStandIn } from './apiserver-standin.js';
import { loadObjects } from './fixtures.js';
import { KOURIER, kubeConfigFor } from './harness.js';
import { rawUnaryService } from '../../src/util/grpc-raw.js';

export const WHO_METHOD = '/proxima.test.Echo/Who';
export const EXTERNAL_HOST = 'hello.default.example.com';
export const LOCAL_HOST = 'hello.default.svc.cluster.local';

export interface PodSpec {
  readonly revision: string;
  readonly node: string;
  readonly ready?: boolean;
}

export interface RevisionPod extends PodSpec {
  /** `revision@node`, what the pod answers. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly served: () => number;
}

export interface RevisionPods {
  readonly pods: readonly RevisionPod[];
  pod(revision: string, node: string): RevisionPod;
  close(): Promise<void>;
}

/** One gRPC server per pod, pod i on 127.0.0.(i + 10), port 0. */
export async function startRevisionPods(specs: readonly PodSpec[]): Promise<RevisionPods> {
  const servers: grpc.Server[] = [];
  const pods: RevisionPod[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const id = `${spec.revision}@${spec.node}`;
      const address = `127.0.0.${i + 10}`;
      let served = 0;
      const server = new grpc.Server();
      server.addService(rawUnaryService('Who', WHO_METHOD), {
        Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          served++;
          cb(null, Buffer.from(id));
        },
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${address}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
      );
      servers.push(server);
      pods.push({ ...spec, id, address, port, served: () => served });
    }
  } catch (err) {
    for (const s of servers) s.forceShutdown();
    throw err;
  }
  return {
    pods,
    pod(revision: string, node: string): RevisionPod {
      const p = pods.find((x) => x.revision === revision && x.node === node);
      if (!p) throw new Error(`no pod ${revision}@${node}`);
      return p;
    },
    async close(): Promise<void> {
      for (const s of servers) s.forceShutdown();
    },
  };
}

/** The EndpointSlice the mirroring controller would write for one pod of a revision's public Service. */
export function endpointSliceFor(pod: RevisionPod, ready = pod.ready ?? true): Record<string, any> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${pod.revision}-${pod.node}`,
      namespace: 'default',
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
        'kubernetes.io/service-name': pod.revision,
        'serving.knative.dev/revision': pod.revision,
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [pod.address], conditions: { ready, serving: ready, terminating: false }, nodeName: pod.node }],
    ports: [{ name: 'http', port: pod.port, protocol: 'TCP' }],
  };
}

/**
 * A stand-in holding the fixture Nodes, Revisions, public Services and KIngress, and a slice per pod.
 * `containerConcurrency` overrides the Revisions' (the pods' capacity in the model), so that tests
 * firing RPCs back to back stay at low load as the policy sees it.
 */
export async function startKnativeStandIn(
  pods: RevisionPods,
  opts: { containerConcurrency?: number } = {},
): Promise<{ api: ApiServerStandIn; url: string }> {
  const api = new ApiServerStandIn();
  const url = await api.start();
  for (const f of ['nodes.yaml', 'hello-revisions.yaml', 'hello-ingress.yaml']) {
    for (const o of loadObjects(f)) {
      if (o['kind'] === 'Revision' && opts.containerConcurrency !== undefined)
        o['spec']['containerConcurrency'] = opts.containerConcurrency;
      api.apply(o);
    }
  }
  for (const p of pods.pods) api.apply(endpointSliceFor(p));
  return { api, url };
}

const loopback0 = { host: '127.0.0.1', port: 0 };

/** `proxima serve --kubernetes` against the stand-in at `url`, every listener on 127.0.0.1:0. */
export function serveKubernetes(url: string, over: Partial<ServeOptions> = {}): Promise<ServeHandle> {
  return startServe(
    {
      kubernetes: true,
      kubeConfig: kubeConfigFor(url),
      ingressClass: KOURIER,
      policy: 'proxima',
      xdsListen: loopback0,
      extprocListen: loopback0,
      extenderListen: loopback0,
      adminListen: loopback0,
      recomputeIntervalMs: 60_000,
      ...over,
    },
    silentLogger(),
  );
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

export async function getJson(handle: ServeHandle, path: string): Promise<any> {
  const r = await fetch(`http://${handle.addresses.admin}${path}`);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** The condition `type` of an object's status, if any. */
export function conditionOf(obj: Record<string, any> | undefined, type: string): Record<string, any> | undefined {
  return (obj?.['status']?.['conditions'] ?? []).find((c: any) => c?.type === type);
}

/** Poll until `check` passes (returns anything but false and does not throw); rethrows its last error at the deadline. */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 50): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== false) return v as Exclude<T, false>;
      last = new Error('condition still false');
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${String((last as Error)?.message ?? last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
