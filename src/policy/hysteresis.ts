import type { ProximaOptions } from './proxima-options.js';
import type { NodeQueueModel } from './queueing.js';
import { meanSojournMs, saturationRps } from './queueing.js';
import { pct, primaryShares, type MemoizedInput } from './shares.js';
import { explain, reasonText } from './reason.js';
import { assemble, assembleShares } from './tiers.js';
import type { GatewayAssignment, PolicyInput, Reason } from './types.js';

/**
 * Proxima's two hysteresis bands (no push for noise) and the rule that overrides both: traffic that
 * can come home does (`bringsTrafficHome`).
 */

/** A gateway's new local share at or above this is "fully local" (shares are pruned and renormalised). */
const FULLY_LOCAL_SHARE = 1 - 1e-9;

/**
 * Whether the new optimum brings traffic home at `gateway` that its previous assignment sends away:
 * more local by more than `bandShare`, or fully local where the previous one still spilled. Where
 * the gateway's own pods have room (the caller's test), a hysteresis that keeps such a previous
 * split keeps a spill nothing needs any more (the closed-loop demo's seed 4: 1.4 % of edge-1's traffic stayed on edge-2 for the whole
 * step, because it cost the service less than 5 % of mean response time). Noise cannot make this
 * flap: it only ever moves a gateway towards local, and the move away from local is still judged by
 * the bands.
 */
export function bringsTrafficHome(
  gateway: string,
  previous: ReadonlyMap<string, number>,
  next: ReadonlyMap<string, number>,
  bandShare: number,
): boolean {
  const before = previous.get(gateway) ?? 0;
  const after = next.get(gateway) ?? 0;
  return after > before && (after - before > bandShare || after >= FULLY_LOCAL_SHARE);
}

/**
 * One gateway's assignment from its new shares, or its previous primary level when every share moved
 * less than `hysteresisShare` (estimation noise) and the previous one is still usable; never when
 * `bringHome` (the caller's `bringsTrafficHome` where the local pods have room).
 */
export function applyShareHysteresis(
  input: PolicyInput,
  gateway: string,
  shares: ReadonlyMap<string, number>,
  reason: Reason,
  hysteresisShare: number,
  bringHome: boolean,
): GatewayAssignment {
  if (shares.size === 0) return { service: input.service, localities: [], reason };
  const previous = input.previous?.get(gateway);
  const prev = previous ? primaryShares(previous) : undefined;
  if (prev && prev.size > 0) {
    if (bringHome) {
      const before = prev.get(gateway) ?? 0;
      const after = shares.get(gateway) ?? 0;
      const why = explain(() => `local ${pct(before)} → ${pct(after)}, the previous spill dropped; ${reasonText(reason)}`);
      return assembleShares(input, gateway, shares, why);
    }
    let usable = true;
    for (const n of prev.keys()) if (!(input.backends.some((b) => b.node === n) && input.reachable(gateway, n))) usable = false;
    // The largest move over every node in either (max is order-free, NaN included).
    let maxMove = -Infinity;
    for (const [n, p] of prev) maxMove = Math.max(maxMove, Math.abs(p - (shares.get(n) ?? 0)));
    for (const [n, s] of shares) if (!prev.has(n)) maxMove = Math.max(maxMove, Math.abs(0 - s));
    if (usable && maxMove < hysteresisShare) {
      const kept = input.previous!.get(gateway)!.localities.filter((l) => l.priority === 0);
      const move = maxMove;
      const why = explain(
        () =>
          `kept (largest share change ${(move * 100).toFixed(1)} points < ${(hysteresisShare * 100).toFixed(0)}); now: ${reasonText(reason)}`,
      );
      return assemble(input, gateway, [...kept], why);
    }
  }
  return assembleShares(input, gateway, shares, reason);
}

/**
 * Predicted mean response time (ms) of per-gateway shares under the policy's own model, over the
 * gateways at `indices` (every gateway by default). Undefined when a node's sojourn time is not
 * finite and `indices` leaves gateways out: their zero-demand terms (0 × ∞) would then not be zero.
 */
function predictedMeanMs(
  input: PolicyInput,
  demand: readonly number[],
  shares: (g: string) => ReadonlyMap<string, number>,
  models: readonly NodeQueueModel[],
  maxUtilisation: number,
  indices?: readonly number[],
): number | undefined {
  const index = new Map(input.backends.map((b, i) => [b.node, i] as const));
  const nodeRps = new Array<number>(models.length).fill(0);
  const gis = indices ?? input.gateways.map((_, gi) => gi);
  let total = 0;
  for (const gi of gis) {
    const g = input.gateways[gi]!;
    total += demand[gi]!;
    for (const [n, s] of shares(g)) {
      const i = index.get(n)!;
      nodeRps[i] = nodeRps[i]! + s * demand[gi]!;
    }
  }
  if (nodeRps.some((rps, i) => rps > maxUtilisation * saturationRps(models[i]!))) return Infinity;
  const sojournMs = models.map((m, i) => meanSojournMs(m, nodeRps[i]!));
  if (indices && !sojournMs.every(Number.isFinite)) return undefined;
  let sum = 0;
  for (const gi of gis) {
    const g = input.gateways[gi]!;
    for (const [n, s] of shares(g)) {
      const i = index.get(n)!;
      sum += s * demand[gi]! * (input.rttMs(g, n) + sojournMs[i]!);
    }
  }
  return total > 0 ? sum / total : 0;
}

/**
 * Why the previous assignment is kept at every gateway but those in `home` (which take the new
 * optimum), or undefined when it should not be: judged on that mix. Gateways without demand weigh
 * nothing in either prediction: only the gateways with demand are summed, and the others are checked
 * (allocation-free) for what would make their zero terms non-zero (a non-finite share or RTT), in
 * which case every gateway is summed as written.
 */
export function previousGoodEnough(
  input: MemoizedInput,
  demand: readonly number[],
  solved: {
    readonly computed: (g: string) => { readonly shares: ReadonlyMap<string, number> };
    readonly models: readonly NodeQueueModel[];
  },
  home: ReadonlySet<string>,
  o: Pick<ProximaOptions, 'hysteresisCost' | 'hysteresisShare' | 'targetUtilisation'>,
): string | undefined {
  const prev = input.previous;
  if (!prev || o.hysteresisCost <= 0) return undefined;
  const t = input.table;
  const active: number[] = [];
  const prevShares = new Map<string, Map<string, number>>();
  let idleZero = true;
  const tableHasMinusInfinity = t.rttMs.indexOf(-Infinity) >= 0;
  for (let gi = 0; gi < input.gateways.length; gi++) {
    const g = input.gateways[gi]!;
    const at = t.offsetAt(gi);
    if (home.has(g)) {
      if (demand[gi]! > 0) active.push(gi);
      continue;
    }
    if (demand[gi]! > 0) {
      const p = primaryShares(prev.get(g));
      if (p.size === 0) return undefined;
      for (const n of p.keys()) if (t.column(n) === undefined || !input.reachable(g, n)) return undefined;
      prevShares.set(g, p);
      active.push(gi);
      continue;
    }
    // primaryShares(prev.get(g)) is non-empty, on backends, reachable, without building it.
    const a = prev.get(g);
    if (!a) return undefined;
    let sum = 0;
    for (const l of a.localities) if (l.priority === 0) sum += l.weight;
    if (!(sum > 0)) return undefined;
    for (const l of a.localities) {
      if (l.priority !== 0) continue;
      const j = t.column(l.node);
      if (j === undefined || t.reachable[at + j] !== 1) return undefined;
      if (!Number.isFinite(l.weight / sum) || !Number.isFinite(t.rttMs[at + j]!)) idleZero = false;
    }
    // Its new route goes where RTT + marginal cost is least and finite: only an RTT of -∞ makes its term NaN
    // (looked for only while it matters, and only when the table holds one at all).
    if (idleZero && tableHasMinusInfinity)
      for (let j = 0; j < t.width; j++) if (t.reachable[at + j] === 1 && t.rttMs[at + j] === -Infinity) idleZero = false;
  }
  // Slack above the target: near full load, demand noise alone would otherwise flip spill on and off.
  const limit = Math.min(0.95, o.targetUtilisation + 2 * o.hysteresisShare);
  const newShares = (g: string): ReadonlyMap<string, number> => solved.computed(g).shares;
  const previousShares = (g: string): ReadonlyMap<string, number> =>
    home.has(g) ? newShares(g) : (prevShares.get(g) ?? primaryShares(prev.get(g)));
  const predicted = (shares: (g: string) => ReadonlyMap<string, number>): number =>
    (idleZero ? predictedMeanMs(input, demand, shares, solved.models, limit, active) : undefined) ??
    predictedMeanMs(input, demand, shares, solved.models, limit)!;
  const before = predicted(previousShares);
  const after = predicted(newShares);
  if (!(before <= after * (1 + o.hysteresisCost))) return undefined;
  const mix = home.size > 0 ? ` (with ${[...home].join(', ')} on the new one)` : '';
  return `previous assignment${mix} predicts ${before.toFixed(1)} ms vs ${after.toFixed(1)} ms for the new optimum (< ${(o.hysteresisCost * 100).toFixed(0)}% better)`;
}
