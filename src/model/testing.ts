import { DEFAULT_MODEL_DEFAULTS, type Endpoint, type NodeInfo, type Service, type Topology } from './types.js';

/** Small random models for property tests (seeded: the same seed, the same model). */

/** A seeded source of numbers in [0, 1), e.g. util/rng's mulberry32. */
export type Rng = () => number;

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

export function randomService(rng: Rng, name: string, nodes: readonly NodeInfo[]): Service {
  const endpoints: Endpoint[] = [];
  const count = 1 + Math.floor(rng() * 4);
  for (let e = 0; e < count; e++)
    endpoints.push({
      address: `10.0.${endpoints.length}.${1 + Math.floor(rng() * 200)}`,
      port: 8012,
      node: pick(rng, nodes).name,
      ready: rng() < 0.85,
      capacity: 10,
    });
  return { name, hosts: [`${name.replace('/', '-')}.example.com`], protocol: 'http', endpoints };
}

export function randomTopology(rng: Rng): Topology {
  const nodes: NodeInfo[] = [];
  const nodeCount = 3 + Math.floor(rng() * 5);
  for (let i = 0; i < nodeCount; i++) nodes.push({ name: `n-${i}`, zone: `z-${i % 2}`, region: 'r', ready: rng() < 0.9, labels: {} });
  const services: Service[] = [];
  const serviceCount = 2 + Math.floor(rng() * 5);
  for (let s = 0; s < serviceCount; s++) services.push(randomService(rng, `ns/s-${s}`, nodes));
  const latency = nodes.flatMap((a) =>
    nodes.filter((b) => b !== a).map((b) => ({ from: a.name, to: b.name, rttMs: 1 + Math.floor(rng() * 40) })),
  );
  return { nodes, latency, services, defaults: DEFAULT_MODEL_DEFAULTS };
}
