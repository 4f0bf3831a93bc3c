/**
 * The emulated kube-scheduler's own filter and scores: a stand-in for the default profile, not a
 * copy of it. Filter: NodeResourcesFit (the pod's CPU and memory requests and the pod count fit what
 * is left of the node's allocatable). Scores, each 0..100 (framework.MaxNodeScore) times the default
 * profile's plugin weight:
 * - NodeResourcesFit, LeastAllocated strategy, weight 1 (kubernetes
 *   `pkg/scheduler/framework/plugins/noderesources/least_allocated.go`: free share of allocatable,
 *   CPU and memory weighted equally);
 * - PodTopologySpread, weight 2, reduced to the system default constraint on `kubernetes.io/hostname`
 *   (`pkg/scheduler/framework/plugins/podtopologyspread/scoring.go`): fewer pods of the same revision
 *   on a node score higher, 100 × (most − here) / most. Harsher than the real plugin, whose system
 *   defaults (maxSkew 3 on the hostname, 5 on the zone) and log-weighted counts put a node with one
 *   pod of the revision some 40–50 points (× 2) below an empty one where this puts it 100 (× 2):
 *   the extender has to outweigh the worst case.
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

/** Spread scores of the feasible nodes (by name). */
export function spreadScores(nodes: readonly NodeResources[]): Map<string, number> {
  const most = Math.max(0, ...nodes.map((n) => n.revisionPods));
  return new Map(nodes.map((n) => [n.name, most === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (most - n.revisionPods)) / most)]));
}

export const LEAST_ALLOCATED_WEIGHT = 1;
export const POD_TOPOLOGY_SPREAD_WEIGHT = 2;
