import type { DemandEvidence } from './demand-input.js';
import type { DemandAt } from './response-model.js';
import type { ScoreResult } from './scoring.js';

/**
 * Why prioritize preferred a node, in words an operator can check against /debug/placements, and a
 * bounded log of those decisions (newest last). Pure.
 */

export interface PlacementDecision {
  readonly atMs: number;
  readonly pod: string;
  readonly service: string;
  readonly node: string;
  readonly score: number;
  readonly mode: ScoreResult['mode'];
  /** e.g. "unmet demand: 180 req/s, most at edge-1 (150 req/s); nearest gateway edge-1 (0 ms); …". */
  readonly reason: string;
  /** The gateway with demand nearest to the chosen node, and its RTT to it. */
  readonly nearestGateway?: { readonly gateway: string; readonly rttMs: number };
  /** The demand modelled per gateway (largest first) and the input that decided each: LRS or the node's own pods. */
  readonly demand: readonly DemandEvidence[];
  /** The response model's other inputs per node (pods serving, service time ms): with `demand`, enough to replay the decision. */
  readonly inputs?: ScoreResult['inputs'];
  /** Every candidate's score, in candidate order. */
  readonly scores: ReadonlyArray<{ readonly node: string; readonly score: number }>;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function placementReason(
  result: ScoreResult,
  demand: readonly DemandAt[],
  rttMs: (from: string, to: string) => number,
): Pick<PlacementDecision, 'reason' | 'nearestGateway'> {
  const best = result.scores.find((s) => s.node === result.best);
  if (!best) return { reason: 'no candidate node is known to the model' };
  let nearest: { gateway: string; rttMs: number } | undefined;
  for (const d of demand) {
    const ms = d.gateway === best.node ? 0 : rttMs(d.gateway, best.node);
    if (Number.isFinite(ms) && (!nearest || ms < nearest.rttMs)) nearest = { gateway: d.gateway, rttMs: r1(ms) };
  }
  const top = demand[0];
  const near = nearest ? `nearest gateway ${nearest.gateway} (${nearest.rttMs} ms)` : 'no gateway with demand';
  if (result.mode === 'demand') {
    const where = top ? `, most at ${top.gateway} (${r1(top.rps)} req/s${fromWhat(top)})` : '';
    return {
      reason:
        `unmet demand: ${r1(result.demandRps)} req/s${where}; ${near}; one more pod here takes the modelled mean ` +
        `from ${r1(result.currentMs)} to ${r1(best.withPodMs)} ms`,
      ...(nearest ? { nearestGateway: nearest } : {}),
    };
  }
  const pods = best.existingPods === 0 ? 'no pod of the service here yet' : `${best.existingPods} pod(s) of the service here`;
  return {
    reason: `no demand a pod would serve better (spread): ${near}; ${pods}`,
    ...(nearest ? { nearestGateway: nearest } : {}),
  };
}

function fromWhat(d: DemandAt | DemandEvidence): string {
  if (!('source' in d)) return '';
  if (d.source === 'local-pods') return `, served by its own pods; LRS ${r1(d.lrsRps)}`;
  return d.source === 'default' ? ', configured default' : '';
}

export class PlacementLog {
  private readonly entries: PlacementDecision[] = [];

  constructor(readonly max = 200) {}

  add(d: PlacementDecision): void {
    this.entries.push(d);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
  }

  list(): readonly PlacementDecision[] {
    return this.entries;
  }
}
