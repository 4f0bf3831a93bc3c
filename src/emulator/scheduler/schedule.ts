import type { KubePod } from '../../extender/wire.js';
import { MAX_EXTENDER_PRIORITY } from '../../extender/wire.js';
import type { Rng } from '../../util/rng.js';
import {
  fitFailure,
  leastAllocatedScore,
  spreadScores,
  LEAST_ALLOCATED_WEIGHT,
  MAX_NODE_SCORE,
  POD_TOPOLOGY_SPREAD_WEIGHT,
  type NodeResources,
  type PodRequests,
} from './default-scores.js';
import { extenderFilter, extenderPrioritize, type ExtenderConfig } from './extender-client.js';

/**
 * One scheduling cycle for one pod, in kube-scheduler's order (kubernetes
 * `pkg/scheduler/schedule_one.go`): the filter plugins (here NodeResourcesFit), then each extender's
 * filter on the nodes that passed (`findNodesThatPassExtenders`; an ignorable extender's error is
 * skipped), then the score plugins plus each extender's prioritize × weight × (MaxNodeScore /
 * MaxExtenderPriority) (`prioritizeNodes`; an extender's prioritize error is ignored), then
 * `selectHost`: the highest total, ties broken uniformly at random.
 */

export interface SchedulingDecision {
  readonly pod: string;
  /** undefined: unschedulable (see `failed`). */
  readonly node: string | undefined;
  readonly failed: Record<string, string>;
  /** Per feasible node: the plugin scores (weighted) and the extender's raw 0..10 score. */
  readonly scores: ReadonlyArray<{
    node: string;
    leastAllocated: number;
    spread: number;
    extender: number | undefined;
    total: number;
  }>;
  readonly extenderError?: string;
  readonly withExtender: boolean;
}

export interface ScheduleInput {
  readonly pod: KubePod;
  readonly requests: PodRequests;
  readonly nodes: readonly NodeResources[];
  readonly extender?: ExtenderConfig;
  readonly rng: Rng;
}

export async function scheduleOne(input: ScheduleInput): Promise<SchedulingDecision> {
  const podName = `${input.pod.metadata?.namespace ?? 'default'}/${input.pod.metadata?.name ?? '?'}`;
  const failed: Record<string, string> = {};
  let feasible = input.nodes.filter((n) => {
    const why = fitFailure(n, input.requests);
    if (why) failed[n.name] = why;
    return !why;
  });
  const ext = input.extender;
  let extenderError: string | undefined;
  if (ext && feasible.length > 0) {
    try {
      const f = await extenderFilter(
        ext,
        input.pod,
        feasible.map((n) => n.name),
      );
      for (const [node, why] of Object.entries(f.failed)) failed[node] = why;
      feasible = feasible.filter((n) => f.passed.includes(n.name));
    } catch (err) {
      extenderError = (err as Error).message;
      if (!ext.ignorable) return { pod: podName, node: undefined, failed, scores: [], extenderError, withExtender: true };
    }
  }
  if (feasible.length === 0)
    return {
      pod: podName,
      node: undefined,
      failed,
      scores: [],
      withExtender: ext !== undefined,
      ...(extenderError ? { extenderError } : {}),
    };

  let extScores: Map<string, number> | undefined;
  if (ext) {
    try {
      extScores = await extenderPrioritize(
        ext,
        input.pod,
        feasible.map((n) => n.name),
      );
    } catch (err) {
      extenderError = (err as Error).message;
    }
  }
  const spread = spreadScores(feasible);
  const scores = feasible.map((n) => {
    const leastAllocated = LEAST_ALLOCATED_WEIGHT * leastAllocatedScore(n, input.requests);
    const sp = POD_TOPOLOGY_SPREAD_WEIGHT * spread.get(n.name)!;
    const extender = extScores?.get(n.name);
    const fromExtender = ext && extender !== undefined ? extender * ext.weight * (MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY) : 0;
    return { node: n.name, leastAllocated, spread: sp, extender, total: leastAllocated + sp + fromExtender };
  });
  return {
    pod: podName,
    node: selectHost(scores, input.rng),
    failed,
    scores,
    withExtender: ext !== undefined,
    ...(extenderError ? { extenderError } : {}),
  };
}

/** selectHost: the highest total; among equals each is equally likely (reservoir sampling). */
export function selectHost(scores: ReadonlyArray<{ node: string; total: number }>, rng: Rng): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  let ties = 0;
  for (const s of scores) {
    if (s.total > bestScore) {
      best = s.node;
      bestScore = s.total;
      ties = 1;
    } else if (s.total === bestScore) {
      ties++;
      if (Math.floor(rng() * ties) === 0) best = s.node;
    }
  }
  return best;
}
