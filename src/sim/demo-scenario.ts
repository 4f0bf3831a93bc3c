import type { ServicePlatform } from '../model/types.js';

/** An emulated edge cluster and the experiment to run on it. Pure data. */
export interface DemoNode {
  readonly name: string;
  readonly zone: string;
  readonly region: string;
  /** The node's own loopback address, 127.0.N.1. */
  readonly ip: string;
  /** Load enters the cluster at entry nodes' gateways (the edge, where users are). */
  readonly entry: boolean;
}

export interface DemoLink {
  readonly a: string;
  readonly b: string;
  readonly rttMs: number;
  readonly jitterMs: number;
}

export interface DemoScenario {
  readonly nodes: readonly DemoNode[];
  readonly links: readonly DemoLink[];
  readonly service: {
    readonly name: string;
    readonly host: string;
    /** The gRPC method path gateways call and pods serve (default FUNCTION_METHOD). */
    readonly method?: string;
    readonly platform?: ServicePlatform;
  };
  readonly pods: ReadonlyArray<{
    readonly node: string;
    readonly count: number;
    readonly concurrency: number;
    readonly serviceTimeMs: number;
    readonly serviceTimeCv: number;
    /** The queue-proxy Stat window (default 1 s; the closed-loop demo runs a faster clock). */
    readonly statWindowMs?: number;
  }>;
  /** Load levels in users; each user sends `ratePerUser` requests/s. */
  readonly users: readonly number[];
  readonly ratePerUser: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly policies: readonly string[];
  readonly seed: number;
  /** Knative's activator in the data path (`demo --activator`): where it runs and config-autoscaler's setting. */
  readonly activator?: DemoActivator;
}

export interface DemoActivator {
  readonly node: string;
  /** config-autoscaler `target-burst-capacity` (Knative's default 211). */
  readonly targetBurstCapacity: number;
  /** Scale from zero: the autoscaler's reaction plus the new pod's start, as one delay. */
  readonly coldStartMs: number;
}

/**
 * Idle time after a policy's control plane and gateways start, before its first level: the probes and
 * LRS see the cluster (the RTT estimate needs a few probes). Each level has its own warm-up under load.
 */
export function idleSettleMs(s: DemoScenario): number {
  return Math.min(8000, Math.max(2000, s.warmupMs));
}

/** Users the scripted events run at (the delay step is designed for this load: edge-2 has room for edge-1's traffic). */
export const EVENTS_USERS = 10;

/** Requests/s each entry gateway receives at `users` users (users spread evenly over entry nodes). */
export function ratePerGateway(s: DemoScenario, users: number): Map<string, number> {
  const entries = s.nodes.filter((n) => n.entry);
  const out = new Map<string, number>();
  entries.forEach((n, i) => {
    const share = Math.floor(users / entries.length) + (i < users % entries.length ? 1 : 0);
    out.set(n.name, share * s.ratePerUser);
  });
  return out;
}
