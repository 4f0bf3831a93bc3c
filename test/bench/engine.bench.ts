import { AssignmentEngine } from '../../src/engine/assignments.js';
import { ModelStore } from '../../src/model/store.js';
import type { Topology } from '../../src/model/types.js';
import { policyByName } from '../../src/policy/index.js';
import type { Bench, BenchContext, BenchOutcome } from './types.js';
import { benchTopology } from './xds-fanout.bench.js';
import { mulberry32 } from '../../src/util/rng.js';

/**
 * Assignment engine at scale (issue 2): initial full compute of every (service, gateway) pair and
 * one-service recomputes (one endpoint removed / restored) across all gateways, per policy, with the
 * heap the assignment table keeps. Topology: the xDS fan-out bench's (10 zones, 2 ms inside a zone,
 * 50 ms between; endpoints on ~endpoints/services random nodes per service). Two variants: configured
 * RTTs only (gateways of a zone share rows), and noisy measured RTTs from every node (every row
 * distinct, the worst case for the per-row memo of nearest/faast). proxima runs with demand on 10 %
 * of the gateways of every service so its solver runs.
 */

interface Size {
  readonly nodes: number;
  readonly services: number;
  readonly endpoints: number;
}

interface Result extends Size {
  readonly policy: string;
  readonly rtt: 'configured' | 'measured';
  readonly fullMs: number;
  readonly heapMiB: number;
  readonly oneServiceMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMiB = (): number => process.memoryUsage().heapUsed / 2 ** 20;
const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export function fillModel(store: ModelStore, topology: Topology, policy: string, rtt: 'configured' | 'measured', nowMs: number): void {
  store.replaceTopology(topology);
  const rng = mulberry32(11);
  if (rtt === 'measured') {
    for (const from of topology.nodes) {
      const zone = from.zone;
      store.setMeasuredRtt(
        from.name,
        topology.nodes
          .filter((to) => to.name !== from.name)
          .map((to) => ({ to: to.name, rttMs: (to.zone === zone ? 2 : 50) + rng() * 3, reachable: true })),
        nowMs,
      );
    }
  }
  if (policy === 'proxima') {
    for (const s of topology.services) {
      const demand = new Map<string, number>();
      for (const n of topology.nodes) if (rng() < 0.1) demand.set(n.name, rng() * 20);
      store.setDemand(s.name, demand);
    }
  }
}

function runOne(size: Size, policy: string, rtt: 'configured' | 'measured', changes: number, ctx: BenchContext): Result {
  const topology = benchTopology({ streams: 0, changes: 0, ...size });
  const nowMs = 1_000_000;
  const store = new ModelStore();
  fillModel(store, topology, policy, rtt, nowMs);
  gc();
  const heapBefore = heapMiB();
  const engine = new AssignmentEngine({ store, policy: policyByName(policy), nowMs: () => nowMs });
  const started = performance.now();
  engine.start();
  const fullMs = performance.now() - started;
  gc();
  const heap = heapMiB() - heapBefore;
  const samples: number[] = [];
  for (let k = 0; k < changes; k++) {
    const s = topology.services[(k * 7919) % topology.services.length]!;
    const t0 = performance.now();
    store.upsertService({ ...s, endpoints: s.endpoints.slice(1) });
    engine.flush();
    store.upsertService(s);
    engine.flush();
    samples.push((performance.now() - t0) / 2);
  }
  engine.stop();
  samples.sort((a, b) => a - b);
  const r: Result = {
    ...size,
    policy,
    rtt,
    fullMs,
    heapMiB: heap,
    oneServiceMs: { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1] ?? NaN },
  };
  ctx.progress(
    `${policy} ${rtt} ${size.nodes}×${size.services}: full ${fullMs.toFixed(0)} ms, heap +${heap.toFixed(0)} MiB, ` +
      `one service p50 ${r.oneServiceMs.p50.toFixed(2)} ms p99 ${r.oneServiceMs.p99.toFixed(2)} ms`,
  );
  return r;
}

const bench: Bench = {
  name: 'engine',
  description: 'assignment engine: full compute and one-service recompute at 1,000 nodes × 1,000 services, per policy',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    if (!(globalThis as { gc?: unknown }).gc) ctx.progress('heap figures are noisier without --expose-gc (node --expose-gc)');
    const size: Size = ctx.quick ? { nodes: 200, services: 200, endpoints: 2000 } : { nodes: 1000, services: 1000, endpoints: 10_000 };
    const changes = ctx.quick ? 20 : 100;
    const results: Result[] = [];
    for (const rtt of ['configured', 'measured'] as const) {
      for (const policy of ['even', 'nearest', 'faast', 'proxima']) results.push(runOne(size, policy, rtt, changes, ctx));
    }
    const table: Array<Array<string | number>> = [
      ['policy', 'rtt', 'nodes', 'services', 'full ms', 'heap MiB', 'one svc p50 ms', 'one svc p99 ms'],
    ];
    for (const r of results) {
      table.push([
        r.policy,
        r.rtt,
        r.nodes,
        r.services,
        Math.round(r.fullMs),
        Math.round(r.heapMiB),
        +r.oneServiceMs.p50.toFixed(2),
        +r.oneServiceMs.p99.toFixed(2),
      ]);
    }
    const verdicts = ctx.quick
      ? []
      : results.map(
          (r) =>
            `${r.policy}/${r.rtt}: full ${(r.fullMs / 1000).toFixed(1)} s ${r.fullMs < 5000 ? '<' : '>='} 5 s, heap ${r.heapMiB.toFixed(0)} MiB ${r.heapMiB < 300 ? '<' : '>='} 300 MiB, ` +
            `one service p50 ${r.oneServiceMs.p50.toFixed(1)} ms: ${r.fullMs < 5000 && r.heapMiB < 300 && r.oneServiceMs.p50 < 10 ? 'PASS' : 'FAIL'}`,
        );
    return { results, table, verdicts };
  },
};

export default bench;
