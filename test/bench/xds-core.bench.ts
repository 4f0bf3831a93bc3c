import { Registry } from 'prom-client';
import { AssignmentEngine } from '../../src/engine/assignments.js';
import { silentLogger } from '../../src/log.js';
import { ModelStore } from '../../src/model/store.js';
import type { Service, Topology } from '../../src/model/types.js';
import { policyByName } from '../../src/policy/index.js';
import type { Policy } from '../../src/policy/types.js';
import { proximaBeforePolicy } from '../reference/proxima-before.js';
import { envoyProtos } from '../../src/protos/envoy.js';
import { mulberry32 } from '../../src/util/rng.js';
import { XdsControlPlane } from '../../src/xds/control-plane.js';
import { TypeUrl } from '../../src/xds/resources/types.js';
import { fillModel } from './engine.bench.js';
import type { Bench, BenchContext, BenchOutcome } from './types.js';
import { benchTopology } from './xds-fanout.bench.js';

/**
 * The xDS core end to end in one process, at the issue-14 size (1,000 nodes × 1,000 services ×
 * 10k endpoints, the default `proxima` policy, noisy measured RTTs from every node, demand on 10 %
 * of the gateways of every service): the worst case for the policy. Every gateway node has one cache
 * watch, as a stream of that node holds.
 *
 * - full compute: engine + control plane from a filled model until every gateway key has its
 *   endpoints (the work a restart does before the first gateway can be served in full);
 * - RTT-row change: one node's whole measured row moves (×(1 ± 15 %), and one link to another zone
 *   drops to 0.5 ms) → fully applied: recomputed, built and published (with hysteresis a row may
 *   change no assignment, so "applied" is the control plane having no work left, not a notification);
 * - single-endpoint change: one endpoint's port of one service flips → applied, and every watch
 *   whose endpoints changed has heard it.
 * Runs against the current design and (same file) the one before issue 14, which had no `settled()`:
 * there "no work left" is read from the engine's and the plane's private flags. `proxima-before` is
 * the proxima policy before its solve was memoised (test/reference/proxima-before.ts) on the same
 * engine and control plane: the same assignments, timed side by side in one run.
 */

/** A policy by name, `proxima-before` included (same demand as `proxima`). */
function benchPolicy(name: string): { policy: Policy; fill: string } {
  return name === 'proxima-before' ? { policy: proximaBeforePolicy, fill: 'proxima' } : { policy: policyByName(name), fill: name };
}

interface Size {
  readonly nodes: number;
  readonly services: number;
  readonly endpoints: number;
  readonly rttChanges: number;
  readonly endpointChanges: number;
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

interface Result extends Size {
  readonly policy: string;
  readonly fullComputeMs: number;
  readonly rttRowMs: Percentiles;
  readonly endpointMs: Percentiles;
  readonly rssMiB: number;
  /** Watches notified per endpoint change, on average (every gateway whose endpoints changed). */
  readonly endpointWatchesNotified: number;
}

const now = (): number => performance.now();
const percentiles = (samples: readonly number[]): Percentiles => {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return { p50: at(50), p99: at(99), max: s[s.length - 1] ?? NaN };
};

/** Resolves when `predicate` holds, checked after every watch notification; rejects after `timeoutMs`. */
class Notifications {
  private waiter: (() => void) | undefined;
  readonly lastAt = new Map<string, number>();
  heard(node: string): void {
    this.lastAt.set(node, now());
    this.waiter?.();
  }
  until(predicate: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no notification within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      this.waiter();
    });
  }
}

interface Idle {
  settled?: () => boolean;
}

/** True when neither the engine nor the control plane has work left for the last change. */
function idle(plane: XdsControlPlane, engine: AssignmentEngine): boolean {
  const p = plane as unknown as Idle & { scheduled?: boolean; flushing?: boolean };
  const e = engine as unknown as { dirtyAll: boolean; dirty: Set<string> };
  if (typeof p.settled === 'function') return p.settled() && !e.dirtyAll;
  return !e.dirtyAll && e.dirty.size === 0 && !p.scheduled && !p.flushing;
}

/** Resolves with the time the control plane finished applying the last change (polled every 2 ms). */
function applied(plane: XdsControlPlane, engine: AssignmentEngine, timeoutMs: number): Promise<number> {
  const started = now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (idle(plane, engine)) return resolve(now());
      if (now() - started > timeoutMs) return reject(new Error(`not applied within ${timeoutMs} ms`));
      setTimeout(poll, 2);
    };
    setTimeout(poll, 0);
  });
}

async function runSize(size: Size, policy: string, ctx: BenchContext): Promise<Result> {
  const topology: Topology = benchTopology({ ...size, streams: 0, changes: 0 });
  const nowMs = 1_000_000;
  const store = new ModelStore();
  const chosen = benchPolicy(policy);
  fillModel(store, topology, chosen.fill, 'measured', nowMs);
  const heard = new Notifications();

  const started = now();
  const engine = new AssignmentEngine({ store, policy: chosen.policy, nowMs: () => nowMs });
  engine.start();
  const plane = new XdsControlPlane({ store, engine, log: silentLogger(), registry: new Registry(), nowMs: () => nowMs });
  const watches = topology.nodes.map((n) =>
    plane.cache.watch(n.name, (change) => {
      if (change.has(TypeUrl.ClusterLoadAssignment)) heard.heard(n.name);
    }),
  );
  // Every key's endpoints exist once each watch can read one resource per service.
  await heard.until(
    () =>
      topology.nodes.every((n) =>
        plane.cache.view(TypeUrl.ClusterLoadAssignment, plane.cache.keyOf(n.name)).get(topology.services[0]!.name),
      ),
    600_000,
  );
  const fullComputeMs = now() - started;
  ctx.progress(`${policy} ${size.nodes}×${size.services}: full compute + build for every gateway ${fullComputeMs.toFixed(0)} ms`);

  const rng = mulberry32(5);
  const rttSamples: number[] = [];
  for (let k = 0; k < size.rttChanges; k++) {
    const from = topology.nodes[Math.floor(rng() * topology.nodes.length)]!;
    const others = topology.nodes.filter((n) => n.zone !== from.zone);
    const near = others[Math.floor(rng() * others.length)]!.name;
    const row = topology.nodes
      .filter((to) => to.name !== from.name)
      .map((to) => ({
        to: to.name,
        rttMs: to.name === near ? 0.5 : ((to.zone === from.zone ? 2 : 50) + rng() * 3) * (0.85 + 0.3 * rng()),
        reachable: true,
      }));
    const t0 = now();
    store.setMeasuredRtt(from.name, row, nowMs);
    rttSamples.push((await applied(plane, engine, 300_000)) - t0);
    const notified = (heard.lastAt.get(from.name) ?? 0) >= t0;
    ctx.progress(
      `RTT row ${k + 1}/${size.rttChanges} of ${from.name} applied in ${rttSamples[rttSamples.length - 1]!.toFixed(0)} ms` +
        ` (its gateway ${notified ? 'heard a change' : 'kept its endpoints'})`,
    );
  }

  const endpointSamples: number[] = [];
  let endpointNotified = 0;
  for (let k = 0; k < size.endpointChanges; k++) {
    const svc = topology.services[Math.floor(rng() * topology.services.length)]!;
    const current = store.service(svc.name)!;
    const [first, ...rest] = current.endpoints;
    const changed: Service = { ...current, endpoints: [{ ...first!, port: first!.port === 8012 ? 8013 : 8012 }, ...rest] };
    const t0 = now();
    store.upsertService(changed);
    endpointSamples.push((await applied(plane, engine, 60_000)) - t0);
    endpointNotified += topology.nodes.filter((n) => (heard.lastAt.get(n.name) ?? 0) >= t0).length;
  }
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  for (const w of watches) w.cancel();
  plane.close();
  engine.stop();
  const result: Result = {
    ...size,
    policy,
    fullComputeMs: Math.round(fullComputeMs),
    rttRowMs: percentiles(rttSamples),
    endpointMs: percentiles(endpointSamples),
    rssMiB,
    endpointWatchesNotified: Math.round(endpointNotified / Math.max(1, size.endpointChanges)),
  };
  ctx.progress(
    `RTT row → published p50 ${result.rttRowMs.p50.toFixed(0)} ms p99 ${result.rttRowMs.p99.toFixed(0)} ms; ` +
      `one endpoint → applied p50 ${result.endpointMs.p50.toFixed(1)} ms p99 ${result.endpointMs.p99.toFixed(1)} ms, ${result.endpointWatchesNotified} watches notified per change`,
  );
  return result;
}

const bench: Bench = {
  name: 'xds-core',
  description:
    'xDS core at 1,000 nodes × 1,000 services (proxima, measured RTT): full compute, RTT-row change and one-endpoint change applied',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    // Load the Envoy protos before any timing: whichever policy ran first paid for it in its full compute.
    envoyProtos();
    // XDS_CORE_SIZE=nodes=300,services=300,endpoints=3000,rttChanges=5,endpointChanges=10: one reduced size (profiling).
    const only = process.env['XDS_CORE_SIZE'];
    const size: Size = only
      ? (Object.fromEntries(only.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])])) as unknown as Size)
      : ctx.quick
        ? { nodes: 200, services: 200, endpoints: 2000, rttChanges: 5, endpointChanges: 10 }
        : { nodes: 1000, services: 1000, endpoints: 10_000, rttChanges: 10, endpointChanges: 30 };
    // proxima is the default policy and joint per service; nearest is row-independent (see Policy.rowIndependent);
    // proxima-before is proxima as it was before its solve was memoised, for the ratio.
    const policies = (process.env['XDS_CORE_POLICIES'] ?? 'proxima,proxima-before,nearest').split(',');
    // Warm every code path (JIT) at a small size first: otherwise the first policy measured pays for the
    // compilation of the engine, the snapshot build and the cache, and a side-by-side ratio measures the order.
    const warmup: Size = { nodes: 100, services: 100, endpoints: 1000, rttChanges: 2, endpointChanges: 2 };
    for (const policy of policies) await runSize(warmup, policy, { ...ctx, progress: () => {} });
    const results: Result[] = [];
    for (const policy of policies) results.push(await runSize(size, policy, ctx));
    const table: Array<Array<string | number>> = [
      ['policy', 'nodes', 'services', 'endpoints', 'full compute ms', 'RTT row p50/p99 ms', 'one endpoint p50/p99 ms', 'RSS MiB'],
      ...results.map((r) => [
        r.policy,
        r.nodes,
        r.services,
        r.endpoints,
        r.fullComputeMs,
        `${r.rttRowMs.p50.toFixed(0)}/${r.rttRowMs.p99.toFixed(0)}`,
        `${r.endpointMs.p50.toFixed(1)}/${r.endpointMs.p99.toFixed(1)}`,
        r.rssMiB,
      ]),
    ];
    const check = (what: string, value: number, limit: number, unit: string): string =>
      `${what} ${value.toFixed(unit === 'ms' ? 0 : 1)} ${unit} ${value < limit ? '<' : '>='} ${limit} ${unit}: ${value < limit ? 'PASS' : 'FAIL'}`;
    const verdicts =
      ctx.quick || only
        ? []
        : results.flatMap((r) => [
            `${r.policy}: ${check('full compute', r.fullComputeMs, 5000, 'ms')}`,
            `${r.policy}: ${check(`RTT-row change p99 (${r.rttChanges} changes)`, r.rttRowMs.p99, 2000, 'ms')}`,
            `${r.policy}: ${check(`single-endpoint change p99 (${r.endpointChanges} changes)`, r.endpointMs.p99, 200, 'ms')}`,
          ]);
    const before = results.find((r) => r.policy === 'proxima-before');
    const after = results.find((r) => r.policy === 'proxima');
    if (before && after) {
      const x = (b: number, a: number): string => `${(b / a).toFixed(1)}x`;
      verdicts.push(
        `proxima-before / proxima (same run): full compute ${x(before.fullComputeMs, after.fullComputeMs)}, ` +
          `RTT-row change p50 ${x(before.rttRowMs.p50, after.rttRowMs.p50)} p99 ${x(before.rttRowMs.p99, after.rttRowMs.p99)}, ` +
          `single-endpoint change p99 ${x(before.endpointMs.p99, after.endpointMs.p99)}`,
      );
    }
    return { results, table, verdicts };
  },
};

export default bench;
