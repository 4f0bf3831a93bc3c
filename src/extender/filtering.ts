import type { ModelStore } from '../model/store.js';

/**
 * Which candidate nodes a function pod must not go to: nodes the model does not know (no gateway
 * serves them), nodes reported NotReady, and nodes that a majority of the peers probing them see as
 * unreachable. Pure apart from the verdict cache, which only trades freshness for speed.
 */

export type FilterReason = 'unknown_node' | 'no_gateway' | 'not_ready' | 'unreachable';

export interface FilterFailure {
  readonly reason: FilterReason;
  readonly message: string;
}

export interface FilterOutcome {
  readonly passed: string[];
  readonly failed: Map<string, FilterFailure>;
  /** True when every candidate failed and `failOpen` let them all through instead. */
  readonly failedOpen: boolean;
}

export interface ReachabilityVerdict {
  /** Peers with a fresh probe measurement towards the node. */
  readonly reporters: number;
  /** Of those, how many see it unreachable. */
  readonly unreachableFrom: number;
}

/**
 * Per-node reachability verdicts, recomputed when the model changed and the cached one is older
 * than `refreshMs` (a full recompute is O(nodes²) store lookups, so under constant probe churn it
 * runs at most once per node per `refreshMs`). `refreshMs: 0` always recomputes.
 */
export class ReachabilityCache {
  private readonly cache = new Map<string, { generation: number; atMs: number; verdict: ReachabilityVerdict }>();

  constructor(
    private readonly store: ModelStore,
    private readonly refreshMs = 1000,
  ) {}

  verdict(node: string, nowMs: number): ReachabilityVerdict {
    const c = this.cache.get(node);
    const age = c ? nowMs - c.atMs : Infinity;
    if (c && age >= 0 && age < this.refreshMs) return c.verdict;
    if (c && c.generation === this.store.generation && age >= 0 && age < Math.max(this.refreshMs, this.store.measuredRttTtlMs / 4))
      return c.verdict;
    const verdict = computeVerdict(this.store, node, nowMs);
    this.cache.set(node, { generation: this.store.generation, atMs: nowMs, verdict });
    if (this.cache.size > 4 * Math.max(64, this.store.nodeNames().length)) this.cache.clear();
    return verdict;
  }
}

export function computeVerdict(store: ModelStore, node: string, nowMs: number): ReachabilityVerdict {
  let reporters = 0;
  let unreachableFrom = 0;
  for (const peer of store.nodeNames()) {
    if (peer === node) continue;
    const m = store.measured(peer, node, nowMs);
    if (!m) continue;
    reporters++;
    if (!m.reachable) unreachableFrom++;
  }
  return { reporters, unreachableFrom };
}

export interface FilterInput {
  readonly store: ModelStore;
  readonly candidates: readonly string[];
  readonly nowMs: number;
  readonly reachability: ReachabilityCache;
  /** Whether a gateway serves `node`; default: the model knows the node. */
  readonly hasGateway?: (node: string) => boolean;
  /** Let every candidate through when all of them would be rejected (default true). */
  readonly failOpen?: boolean;
}

export function filterNodes(input: FilterInput): FilterOutcome {
  const { store, nowMs } = input;
  const passed: string[] = [];
  const failed = new Map<string, FilterFailure>();
  for (const name of input.candidates) {
    const f = judge(input, name, nowMs, store);
    if (f) failed.set(name, f);
    else passed.push(name);
  }
  if (passed.length === 0 && failed.size > 0 && input.failOpen !== false) {
    return { passed: [...input.candidates], failed: new Map(), failedOpen: true };
  }
  return { passed, failed, failedOpen: false };
}

function judge(input: FilterInput, name: string, nowMs: number, store: ModelStore): FilterFailure | undefined {
  const node = store.node(name);
  if (!node) return { reason: 'unknown_node', message: `proxima: node ${name} is not in the routing model (no gateway serves it)` };
  if (input.hasGateway && !input.hasGateway(name)) return { reason: 'no_gateway', message: `proxima: the gateway on node ${name} is gone` };
  if (!node.ready) return { reason: 'not_ready', message: `proxima: node ${name} is not ready in the routing model` };
  const v = input.reachability.verdict(name, nowMs);
  if (v.unreachableFrom * 2 > v.reporters) {
    return {
      reason: 'unreachable',
      message: `proxima: node ${name} is unreachable from ${v.unreachableFrom} of ${v.reporters} probing nodes`,
    };
  }
  return undefined;
}
