import type { NodeQueueModel } from './queueing.js';
import { meanSojournMs } from './queueing.js';
import { pruneShares, safeDemand, slotsPerPod, solveShares } from './shares.js';
import { assemble, sharesToLocalities } from './tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from './types.js';

/**
 * Benchmark-only yardstick: the optimal assignment when `input` carries the TRUTH (mean RTTs, pure
 * service times, true demand). Same M/G/c-per-pod queueing model as the simulator, a fine cost curve
 * up to 99.9 % utilisation, no target cap, no hysteresis. Not servable.
 */
export interface OracleOptions {
  /** Squared coefficient of variation of the true service time distribution. */
  readonly serviceCv2: number;
  /** Segments of the cost curve per node (more = closer to the continuous optimum). */
  readonly segments: number;
}

export function oracleModels(input: PolicyInput, serviceCv2: number): NodeQueueModel[] {
  return input.backends.map((b) => ({
    pods: b.readyEndpoints,
    slotsPerPod: slotsPerPod(b),
    serviceTimeMs: input.serviceTimeMs(b.node),
    serviceCv2,
  }));
}

export function createOraclePolicy(options: Partial<OracleOptions> = {}): Policy {
  const o: OracleOptions = { serviceCv2: 1, segments: 200, ...options };
  return {
    name: 'oracle',
    assign(input: PolicyInput): Map<string, GatewayAssignment> {
      const out = new Map<string, GatewayAssignment>();
      const demand = input.gateways.map((g) => safeDemand(input, g));
      const total = demand.reduce((a, b) => a + b, 0);
      const solved = solveShares(input, {
        models: oracleModels(input, o.serviceCv2),
        maxUtilisation: 0.999,
        segments: o.segments,
        spacingPower: 2,
        demandRps: demand.map((d) => Math.max(d, total * 1e-6, 1e-9)),
      });
      for (const g of input.gateways) {
        const shares = pruneShares(solved.sharesOf(g), 0.001);
        out.set(
          g,
          shares.size
            ? assemble(
                input,
                g,
                sharesToLocalities(shares, 0),
                `oracle: optimum for true inputs${solved.overloaded ? ' (overloaded)' : ''}`,
              )
            : { service: input.service, localities: [], reason: 'no reachable node with ready endpoints' },
        );
      }
      return out;
    },
  };
}

/**
 * Expected mean response time (ms) of routing `shares` (gateway → node → share) under the true model:
 * Σ_g Σ_n D_g·s_gn·(RTT + sojourn_n(λ_n)) / Σ D. Infinity when a node is driven past saturation.
 */
export function expectedResponseMs(
  input: PolicyInput,
  shares: ReadonlyMap<string, ReadonlyMap<string, number>>,
  serviceCv2: number,
): number {
  const models = oracleModels(input, serviceCv2);
  const nodeRps = new Map<string, number>();
  let total = 0;
  for (const g of input.gateways) {
    const d = safeDemand(input, g);
    total += d;
    for (const [n, s] of shares.get(g) ?? []) nodeRps.set(n, (nodeRps.get(n) ?? 0) + d * s);
  }
  if (total === 0) return 0;
  let sum = 0;
  for (const g of input.gateways) {
    const d = safeDemand(input, g);
    for (const [n, s] of shares.get(g) ?? []) {
      if (!(s > 0)) continue;
      const i = input.backends.findIndex((b) => b.node === n);
      if (i < 0) return Infinity;
      sum += d * s * (input.rttMs(g, n) + meanSojournMs(models[i]!, nodeRps.get(n)!));
    }
  }
  return sum / total;
}

/** The priority-0 shares of an assignment table, for `expectedResponseMs`. */
export function sharesOf(table: ReadonlyMap<string, GatewayAssignment>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [g, a] of table) {
    const p0 = a.localities.filter((l) => l.priority === 0);
    const sum = p0.reduce((s, l) => s + l.weight, 0);
    out.set(g, new Map(p0.map((l) => [l.node, l.weight / sum] as const)));
  }
  return out;
}
