import type { Topology } from '../model/types.js';
import type { DemoLink, DemoNode, DemoScenario } from '../sim/demo-scenario.js';
import type { LinkSpec, PodSpec } from './node-host.js';

export type { DemoActivator, DemoLink, DemoNode, DemoScenario } from '../sim/demo-scenario.js';
export { EVENTS_USERS, idleSettleMs, ratePerGateway } from '../sim/demo-scenario.js';

export const FUNCTION_HOST = 'hello.default.svc.cluster.local';

/** FaaSt's cluster (CloudNet 2024): two edge nodes where users enter and a cloud node. */
export const FAAST_NODES: readonly DemoNode[] = [
  { name: 'edge-1', zone: 'edge-a', region: 'edge', ip: '127.0.1.1', entry: true },
  { name: 'edge-2', zone: 'edge-b', region: 'edge', ip: '127.0.2.1', entry: true },
  { name: 'cloud-1', zone: 'cloud-a', region: 'cloud', ip: '127.0.3.1', entry: false },
];

/** FaaSt's links: edge↔cloud 50 ± 10 ms and 100 ± 20 ms, edge↔edge 20 ± 4 ms. */
export const FAAST_LINKS: readonly DemoLink[] = [
  { a: 'edge-1', b: 'cloud-1', rttMs: 50, jitterMs: 10 },
  { a: 'edge-2', b: 'cloud-1', rttMs: 100, jitterMs: 20 },
  { a: 'edge-1', b: 'edge-2', rttMs: 20, jitterMs: 4 },
];

/**
 * The FaaSt experiment (CloudNet 2024) scaled to one 2-core machine: two edge nodes and a cloud node,
 * edge↔cloud 50 ± 10 ms and 100 ± 20 ms, edge↔edge 20 ± 4 ms; one function with a small pod on each
 * edge node and more pods in the cloud; users at 10 requests/s each entering at the edge gateways.
 */
export function faastScenario(profile: 'quick' | 'full', seed: number): DemoScenario {
  return {
    nodes: FAAST_NODES,
    links: FAAST_LINKS,
    service: { name: 'default/hello', host: FUNCTION_HOST },
    pods: [
      { node: 'edge-1', count: 1, concurrency: 2, serviceTimeMs: 20, serviceTimeCv: 0.5 },
      { node: 'edge-2', count: 1, concurrency: 2, serviceTimeMs: 20, serviceTimeCv: 0.5 },
      { node: 'cloud-1', count: 4, concurrency: 2, serviceTimeMs: 20, serviceTimeCv: 0.5 },
    ],
    users: profile === 'quick' ? [5, 25, 45] : [5, 10, 15, 20, 25, 30, 35, 40, 45, 50],
    ratePerUser: 10,
    warmupMs: profile === 'quick' ? 5000 : 8000,
    measureMs: profile === 'quick' ? 4000 : 20_000,
    policies: ['even', 'faast', 'nearest', 'proxima', 'proxima+extproc'],
    seed,
  };
}

/**
 * Take nodes and RTTs from a topology file instead (jitter 20 % of the RTT, as in FaaSt); the first
 * half of the nodes (by order) are entry nodes unless zones say "edge"/"cloud"; one pod per node.
 */
export function scenarioFromTopology(t: Topology, base: DemoScenario): DemoScenario {
  const edgeLike = t.nodes.filter((n) => /edge/.test(n.zone) || /edge/.test(n.region) || /edge/.test(n.name));
  const entry = new Set((edgeLike.length > 0 ? edgeLike : t.nodes.slice(0, Math.ceil(t.nodes.length / 2))).map((n) => n.name));
  return {
    ...base,
    nodes: t.nodes.map((n, i) => ({ name: n.name, zone: n.zone, region: n.region, ip: `127.0.${i + 1}.1`, entry: entry.has(n.name) })),
    links: t.latency
      .filter((l) => l.from < l.to || !t.latency.some((m) => m.from === l.to && m.to === l.from))
      .map((l) => ({ a: l.from, b: l.to, rttMs: l.rttMs, jitterMs: l.rttMs * 0.2 })),
    pods: t.nodes.map((n) => ({ node: n.name, count: entry.has(n.name) ? 1 : 4, concurrency: 2, serviceTimeMs: 20, serviceTimeCv: 0.5 })),
  };
}

export type Workload = 'knative' | 'openfaas';

/**
 * The same cluster with the function deployed as an OpenFaaS function instead of a Knative revision:
 * `openfaas-fn/hello` (faas-netes' namespace, platform openfaas: no queue-proxy, LRS-only service
 * time), reached by the OpenFaaS gateway's path `/function/hello`. The emulated gateways are gRPC
 * clients, which cannot strip a path prefix as a Proxima Envoy gateway does, so the emulated pods
 * answer at that path themselves.
 */
export function withWorkload(s: DemoScenario, workload: Workload): DemoScenario {
  if (workload === 'knative') return s;
  const name = s.service.name.slice(s.service.name.indexOf('/') + 1);
  return {
    ...s,
    service: {
      name: `openfaas-fn/${name}`,
      host: `${name}.openfaas-fn.svc.cluster.local`,
      method: `/function/${name}`,
      platform: 'openfaas',
    },
  };
}

/** Directed link specs for the node hosts' delay proxies (unlisted pairs get the default RTT). */
export function linkSpecs(s: DemoScenario, defaultRttMs = 50): LinkSpec[] {
  const out: LinkSpec[] = [];
  for (const x of s.nodes) {
    for (const y of s.nodes) {
      if (x.name === y.name) continue;
      const l = s.links.find((k) => (k.a === x.name && k.b === y.name) || (k.a === y.name && k.b === x.name));
      out.push({ from: x.name, to: y.name, delay: { rttMs: l?.rttMs ?? defaultRttMs, jitterMs: l?.jitterMs ?? 0 } });
    }
  }
  return out;
}

export function podSpecs(s: DemoScenario, node: string): PodSpec[] {
  const out: PodSpec[] = [];
  for (const p of s.pods.filter((q) => q.node === node)) {
    for (let i = 0; i < p.count; i++) {
      out.push({
        name: `hello-${node}-${i + 1}`,
        service: s.service.name,
        concurrency: p.concurrency,
        serviceTimeMs: p.serviceTimeMs,
        serviceTimeCv: p.serviceTimeCv,
        ...(s.service.method ? { method: s.service.method } : {}),
        ...(p.statWindowMs ? { statWindowMs: p.statWindowMs } : {}),
      });
    }
  }
  return out;
}

/** The runtime topology the demo serves: nodes and pods, but NO latencies — Proxima has to measure them. */
export function runtimeTopologyYaml(
  s: DemoScenario,
  pods: ReadonlyArray<{ node: string; address: string; port: number; ready: boolean; capacity: number }>,
  activators: ReadonlyArray<{ node: string; address: string; port: number; ready: boolean; capacity: number }> = [],
): string {
  const line = (p: (typeof pods)[number]) =>
    `      - { address: ${p.address}, port: ${p.port}, node: ${p.node}, ready: ${p.ready}, capacity: ${p.capacity} }`;
  const lines = [
    '# Written by `proxima demo`: the emulated cluster. No latency entries on purpose: the probes measure them.',
    'defaults: { rttMs: 50, localRttMs: 0.2, capacity: 2, serviceTimeMs: 20 }',
    'nodes:',
    ...s.nodes.map((n) => `  - { name: ${n.name}, zone: ${n.zone}, region: ${n.region} }`),
    'services:',
    `  - name: ${s.service.name}`,
    `    hosts: [${s.service.host}]`,
    '    protocol: grpc',
    ...(s.service.platform ? [`    platform: ${s.service.platform}`] : []),
    '    endpoints:',
    ...pods.map(line),
    ...(activators.length ? ['    activators:', ...activators.map(line)] : []),
  ];
  return lines.join('\n') + '\n';
}
