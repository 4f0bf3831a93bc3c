/**
 * The emulated kube-scheduler's own filter and scores: a stand-in for the default profile, not a
 * copy of it. Filter: NodeResourcesFit (the pod's CPU and memory requests and the pod count fit what
 * is left of the node's allocatable). Scores, each 0..100 (framework.MaxNodeScore) times the default
 * profile's plugin weight:
 * - NodeResourcesFit, LeastAllocated strategy, weight 1 (kubernetes
 *   `pkg/scheduler/framework/plugins/noderesources/least_allocated.go`: free share of allocatable,
 *   CPU and memory weighted equally);
 * - PodTopologySpread, weight 2, with the system default constraints a pod without its own gets
 *   (kubernetes `pkg/scheduler/framework/plugins/podtopologyspread/plugin.go`: `kubernetes.io/hostname`
 *   maxSkew 3 and `topology.kubernetes.io/zone` maxSkew 5, ScheduleAnyway), scored the way
 *   `scoring.go` does: per node Σ over the constraints (pods of the revision in the node's domain ×
 *   ln(domains + 2) + maxSkew − 1), rounded, then 100 × (max + min − score) / max (integer). One
 *   difference: a zone's count is over the feasible nodes, where the plugin counts every node in
 *   it. This replaced a harsher stand-in (100 × (most − here) / most on the hostname alone) that
 *   put a node with one pod of the revision 200 weighted points below an empty one where the plugin
 *   gives some 70: on the closed-loop's three nodes with one pod per edge, one more on edge-1 puts it
 *   50 points (not 100) below edge-2, a difference the extender's weight 5 outweighs from 2 points up.
 * Pure.
 */

export const MAX_NODE_SCORE = 100;

export interface NodeResources {
  readonly name: string;
  readonly allocatableCpuMilli: number;
  readonly allocatableMemoryMiB: number;
  readonly maxPods: number;
  /** Requests of every pod bound to the node (the revision's and others). */
  readonly requestedCpuMilli: number;
  readonly requestedMemoryMiB: number;
  readonly pods: number;
  /** Pods of the revision being scheduled on the node. */
  readonly revisionPods: number;
  /** The node's `topology.kubernetes.io/zone` label, if any. */
  readonly zone?: string;
}

export interface PodRequests {
  readonly cpuMilli: number;
  readonly memoryMiB: number;
}

/** Why the node cannot take the pod (NodeResourcesFit's reasons), or undefined when it can. */
export function fitFailure(n: NodeResources, pod: PodRequests): string | undefined {
  if (n.pods + 1 > n.maxPods) return 'Too many pods';
  if (n.requestedCpuMilli + pod.cpuMilli > n.allocatableCpuMilli) return 'Insufficient cpu';
  if (n.requestedMemoryMiB + pod.memoryMiB > n.allocatableMemoryMiB) return 'Insufficient memory';
  return undefined;
}

export function leastAllocatedScore(n: NodeResources, pod: PodRequests): number {
  const free = (alloc: number, used: number) => (alloc <= 0 ? 0 : Math.max(0, ((alloc - used) * MAX_NODE_SCORE) / alloc));
  const cpu = free(n.allocatableCpuMilli, n.requestedCpuMilli + pod.cpuMilli);
  const mem = free(n.allocatableMemoryMiB, n.requestedMemoryMiB + pod.memoryMiB);
  return Math.floor((cpu + mem) / 2);
}

/** System default spread constraints' maxSkew (PodTopologySpread's `systemDefaultConstraints`). */
const HOSTNAME_MAX_SKEW = 3;
const ZONE_MAX_SKEW = 5;

/** PodTopologySpread's normalised scores (0..MAX_NODE_SCORE) of the feasible nodes, by name. */
export function spreadScores(nodes: readonly NodeResources[]): Map<string, number> {
  const inZone = new Map<string, number>();
  for (const n of nodes) if (n.zone !== undefined) inZone.set(n.zone, (inZone.get(n.zone) ?? 0) + n.revisionPods);
  // Weights so that a topology with few domains is not watered down by one with many.
  const hostWeight = Math.log(nodes.length + 2);
  const zoneWeight = Math.log(inZone.size + 2);
  const raw = nodes.map((n) => {
    let score = n.revisionPods * hostWeight + (HOSTNAME_MAX_SKEW - 1);
    if (n.zone !== undefined) score += inZone.get(n.zone)! * zoneWeight + (ZONE_MAX_SKEW - 1);
    return Math.round(score);
  });
  const max = Math.max(0, ...raw);
  const min = Math.min(...raw);
  return new Map(nodes.map((n, i) => [n.name, max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - raw[i]!)) / max)]));
}

export const LEAST_ALLOCATED_WEIGHT = 1;
export const POD_TOPOLOGY_SPREAD_WEIGHT = 2;
