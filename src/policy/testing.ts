import type { GatewayAssignment, LocalityAssignment, NodeCapacity, Policy, PolicyInput, PolicyName } from './types.js';

/** Hand-built policy inputs for table tests and the simulator. */
export interface InputSpec {
  readonly service?: string;
  readonly gateways: readonly string[];
  /** node → [readyEndpoints, capacity] */
  readonly backends: Readonly<Record<string, readonly [number, number]>>;
  /** `a>b` → RTT ms (symmetric unless both given); self = 0.2 ms; others `defaultRttMs`. */
  readonly rtt?: Readonly<Record<string, number>>;
  readonly defaultRttMs?: number;
  readonly unreachable?: readonly string[];
  readonly demandRps?: Readonly<Record<string, number>>;
  readonly serviceTimeMs?: Readonly<Record<string, number>> | number;
  /** node → rps the observed service time was measured at (it then includes queueing). */
  readonly serviceLoadRps?: Readonly<Record<string, number>>;
  /** node → the pods' measured queue wait and the rate it was seen at (with a pure service time). */
  readonly podQueueWait?: Readonly<Record<string, { waitMs: number; rps: number }>>;
  readonly previous?: ReadonlyMap<string, GatewayAssignment>;
}

export function makeInput(spec: InputSpec): PolicyInput {
  const backends: NodeCapacity[] = Object.entries(spec.backends)
    .map(([node, [readyEndpoints, capacity]]) => ({ node, readyEndpoints, capacity }))
    .sort((a, b) => (a.node < b.node ? -1 : 1));
  const rtt = (a: string, b: string): number => {
    if (a === b) return 0.2;
    return spec.rtt?.[`${a}>${b}`] ?? spec.rtt?.[`${b}>${a}`] ?? spec.defaultRttMs ?? 50;
  };
  const unreachable = new Set(spec.unreachable ?? []);
  return {
    service: spec.service ?? 'default/fn',
    gateways: [...spec.gateways].sort(),
    backends,
    rttMs: rtt,
    reachable: (a, b) => a === b || !(unreachable.has(`${a}>${b}`) || unreachable.has(b)),
    demandRps: (g) => spec.demandRps?.[g] ?? 0,
    serviceTimeMs: (n) => (typeof spec.serviceTimeMs === 'number' ? spec.serviceTimeMs : (spec.serviceTimeMs?.[n] ?? 10)),
    ...(spec.serviceLoadRps ? { serviceLoadRps: (n: string) => spec.serviceLoadRps?.[n] } : {}),
    ...(spec.podQueueWait ? { podQueueWait: (n: string) => spec.podQueueWait?.[n] } : {}),
    ...(spec.previous ? { previous: spec.previous } : {}),
  };
}

/** `node:weight@priority` strings of one gateway's assignment, in order. */
export function describe(a: GatewayAssignment | undefined): string[] {
  return (a?.localities ?? []).map((l) => `${l.node}:${l.weight}@${l.priority}`);
}

/** A policy that gives every gateway the same localities (interop tests of weights and priorities). */
export function fixedPolicy(name: string, localities: readonly LocalityAssignment[]): Policy {
  return {
    name: name as PolicyName,
    assign(input) {
      const out = new Map<string, GatewayAssignment>();
      for (const gateway of input.gateways)
        out.set(gateway, { service: input.service, reason: `test: fixed ${name}`, localities: [...localities] });
      return out;
    },
  };
}
