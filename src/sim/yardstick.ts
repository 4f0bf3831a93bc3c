import { proximaPolicy } from '../policy/proxima.js';
import { createOraclePolicy } from '../policy/oracle.js';
import { assemble, sharesToLocalities } from '../policy/tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from '../policy/types.js';
import type { Scenario } from './scenario.js';
import { offeredRps, scenarioBackends, serviceCv2 } from './scenario.js';
import { runSimulation } from './simulator.js';

/**
 * An independent yardstick for the policies: the best split found by evaluating candidate
 * assignments in the discrete-event simulator itself (not in any queueing model), so the distance
 * of `proxima` from it measures how far its assignment is from the best one, not how well it
 * estimates its own model's inputs (what the model-based `oracle` checks).
 *
 * The split space is searched on a grid: each entry gateway keeps a share x_g of its traffic on its
 * own node and sends the rest partly (y_g) to the other entry nodes, in equal parts, and the remainder
 * to the spill node (the largest node without users of its own, the cloud in the FaaSt scenarios);
 * x_g ∈ {0, 0.1, …, 1}, y_g ∈ {0, 0.5, 1}, by coordinate descent (one gateway's (x, y) at a time,
 * `passes` sweeps) from "all local", then x ± 0.05 around the best. Every candidate runs with the
 * same seed (common random numbers), so candidates differ by their split only. Splits outside the
 * grid exist, so a policy can come out slightly ahead of the yardstick (a negative distance).
 */

export interface YardstickOptions {
  readonly scenario: Scenario;
  readonly users: readonly number[];
  readonly seed: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Coordinate-descent sweeps over the gateways (default 2). */
  readonly passes?: number;
  readonly progress?: (message: string) => void;
}

export interface YardstickLevel {
  readonly users: number;
  /**
   * The empirical optimum: the best mean response time the simulator gave any candidate — the grid's
   * best, or the model-based oracle's split if it did better — and its p95, ms.
   */
  readonly bestMeanMs: number;
  readonly bestP95Ms: number;
  readonly bestSource: 'grid' | 'oracle split';
  /** The grid's best, ms, and the split per gateway behind it. */
  readonly gridMeanMs: number;
  readonly gridSplit: Readonly<Record<string, GatewaySplit>>;
  readonly proximaMeanMs: number;
  readonly proximaP95Ms: number;
  /** proxima's mean over the empirical optimum's, minus 1 (0.05 = 5 % slower). */
  readonly proximaDistance: number;
  /** The model-based oracle (proxima's solver on true inputs), the second line. */
  readonly oracleMeanMs: number;
  readonly candidatesEvaluated: number;
}

/** A policy that always answers the same split: gateway → (node → share). */
export function fixedSplitPolicy(split: ReadonlyMap<string, ReadonlyMap<string, number>>): Policy {
  return {
    name: 'proxima',
    assign(input: PolicyInput): Map<string, GatewayAssignment> {
      const out = new Map<string, GatewayAssignment>();
      for (const g of input.gateways) {
        const shares = split.get(g) ?? new Map([[g, 1]]);
        out.set(g, assemble(input, g, sharesToLocalities(shares, 0), 'fixed split (yardstick candidate)'));
      }
      return out;
    },
  };
}

/** The node spilled to: the backend with the most slots among nodes without users of their own. */
export function spillNode(s: Scenario): string {
  const candidates = s.nodes.filter((n) => n.userShare === 0 && n.pods > 0).sort((a, b) => b.pods * b.slotsPerPod - a.pods * a.slotsPerPod);
  const first = candidates[0];
  if (!first) throw new Error(`scenario ${s.name}: no node without users to spill to`);
  return first.name;
}

interface GatewaySplit {
  /** Share kept local. */
  readonly x: number;
  /** Share of the rest sent to the other entry nodes (equal parts); the remainder goes to the spill node. */
  readonly y: number;
}

function splitOf(splits: ReadonlyMap<string, GatewaySplit>, spill: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const entries = [...splits.keys()];
  for (const [g, { x, y }] of splits) {
    const m = new Map<string, number>();
    const add = (n: string, v: number) => v > 0 && m.set(n, (m.get(n) ?? 0) + v);
    add(g, x);
    const others = entries.filter((e) => e !== g);
    const toOthers = others.length > 0 ? (1 - x) * y : 0;
    for (const e of others) add(e, toOthers / others.length);
    add(spill, 1 - x - toOthers);
    out.set(g, m);
  }
  return out;
}

export function runYardstick(o: YardstickOptions): YardstickLevel[] {
  const s = o.scenario;
  const spill = spillNode(s);
  const backends = new Set(scenarioBackends(s).map((b) => b.node));
  const levels: YardstickLevel[] = [];
  for (const users of o.users) {
    const entries = s.nodes.filter((n) => offeredRps(s, users, n.name) > 0 && backends.has(n.name)).map((n) => n.name);
    const run = (policy: Policy, truth = false) =>
      runSimulation({ scenario: s, policy, users, seed: o.seed, warmupMs: o.warmupMs, measureMs: o.measureMs, truth });
    const cache = new Map<string, { meanMs: number; p95Ms: number }>();
    const evaluate = (splits: ReadonlyMap<string, GatewaySplit>) => {
      const key = entries.map((g) => `${splits.get(g)!.x.toFixed(2)}/${splits.get(g)!.y.toFixed(2)}`).join(',');
      let r = cache.get(key);
      if (!r) {
        const sim = run(fixedSplitPolicy(splitOf(splits, spill)));
        r = { meanMs: sim.meanMs, p95Ms: sim.p95Ms };
        cache.set(key, r);
      }
      return r;
    };
    const current = new Map<string, GatewaySplit>(entries.map((g) => [g, { x: 1, y: 0 }] as const));
    let best = evaluate(current);
    const sweep = (candidates: (now: GatewaySplit) => GatewaySplit[]) => {
      for (const g of entries) {
        for (const c of candidates(current.get(g)!)) {
          if (c.x < 0 || c.x > 1) continue;
          const trial = new Map(current).set(g, c);
          const r = evaluate(trial);
          if (r.meanMs < best.meanMs) {
            best = r;
            current.set(g, c);
          }
        }
      }
    };
    const coarse = Array.from({ length: 11 }, (_, i) => i / 10).flatMap((x) => [0, 0.5, 1].map((y) => ({ x, y })));
    for (let p = 0; p < (o.passes ?? 2); p++) sweep(() => coarse);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    sweep((c) => [
      { x: r2(c.x - 0.05), y: c.y },
      { x: r2(c.x + 0.05), y: c.y },
    ]);
    const proxima = run(proximaPolicy);
    const oracle = run(createOraclePolicy({ serviceCv2: serviceCv2(s) }), true);
    const oracleBetter = oracle.meanMs < best.meanMs;
    const optimum = oracleBetter ? { meanMs: oracle.meanMs, p95Ms: oracle.p95Ms } : best;
    const level: YardstickLevel = {
      users,
      bestMeanMs: optimum.meanMs,
      bestP95Ms: optimum.p95Ms,
      bestSource: oracleBetter ? 'oracle split' : 'grid',
      gridMeanMs: best.meanMs,
      gridSplit: Object.fromEntries(current),
      proximaMeanMs: proxima.meanMs,
      proximaP95Ms: proxima.p95Ms,
      proximaDistance: proxima.meanMs / optimum.meanMs - 1,
      oracleMeanMs: oracle.meanMs,
      candidatesEvaluated: cache.size,
    };
    o.progress?.(
      `${s.name} users=${users}: optimum ${optimum.meanMs.toFixed(1)} ms (${level.bestSource}), grid best ${best.meanMs.toFixed(1)} ms (${entries.map((g) => `${g} ${current.get(g)!.x.toFixed(2)} local, ${current.get(g)!.y.toFixed(1)} of the rest to edges`).join('; ')}; ${cache.size} candidates), proxima ${proxima.meanMs.toFixed(1)} ms (${(level.proximaDistance * 100).toFixed(1)} %), oracle ${oracle.meanMs.toFixed(1)} ms`,
    );
    levels.push(level);
  }
  return levels;
}
