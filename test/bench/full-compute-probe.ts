/**
 * One full compute at 1,000 nodes × 1,000 services (xds-core's size, measured RTT rows, demand on
 * 10 % of the gateways), timed on its own, for profiling the path the xds-core benchmark's first row
 * measures: `node --expose-gc dist/test/bench/full-compute-probe.js [--policy P] [--reps N] [--alloc]`.
 * Prints the time until every gateway's endpoints are published and the garbage collection inside
 * it; `--alloc` also samples what it allocates (V8's sampling heap profiler, objects the collector
 * already freed included) and prints the total and the largest allocating functions. Not part of
 * `npm run bench` (no verdict): use it beside `--cpu-prof`, or run two builds alternately.
 */
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { AssignmentEngine } from '../../src/engine/assignments.js';
import { silentLogger } from '../../src/log.js';
import { ModelStore } from '../../src/model/store.js';
import { policyByName } from '../../src/policy/index.js';
import { envoyProtos } from '../../src/protos/envoy.js';
import { XdsControlPlane } from '../../src/xds/control-plane.js';
import { TypeUrl } from '../../src/xds/resources/types.js';
import { fillModel } from './engine.bench.js';
import { benchTopology } from './xds-fanout.bench.js';

interface SamplingNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly SamplingNode[];
}

const { values } = parseArgs({
  options: {
    policy: { type: 'string', default: 'proxima' },
    reps: { type: 'string', default: '1' },
    alloc: { type: 'boolean', default: false },
  },
});
const policy = values.policy!;
const reps = Math.max(1, Number(values.reps));

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

async function fullCompute(): Promise<{ ms: number; gcMs: number }> {
  const topology = benchTopology({ nodes: 1000, services: 1000, endpoints: 10_000, streams: 0, changes: 0 });
  const nowMs = 1_000_000;
  const store = new ModelStore();
  fillModel(store, topology, policy, 'measured', nowMs);
  gcMs = 0;
  const started = performance.now();
  const engine = new AssignmentEngine({ store, policy: policyByName(policy), nowMs: () => nowMs });
  engine.start();
  const plane = new XdsControlPlane({ store, engine, log: silentLogger(), registry: new Registry(), nowMs: () => nowMs });
  const first = topology.services[0]!.name;
  const published = (): boolean =>
    topology.nodes.every((n) => plane.cache.view(TypeUrl.ClusterLoadAssignment, plane.cache.keyOf(n.name)).get(first) !== undefined);
  while (!published()) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 50)); // the last collections' entries
  const result = { ms, gcMs };
  plane.close();
  engine.stop();
  return result;
}

envoyProtos();
const session = values.alloc ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 32_768,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
for (let i = 0; i < reps; i++) {
  const r = await fullCompute();
  console.log(`${policy} full compute ${r.ms.toFixed(0)} ms, garbage collection ${r.gcMs.toFixed(0)} ms`);
}
if (session) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (n: SamplingNode): void => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
      bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    n.children.forEach(walk);
  };
  walk(profile.head);
  console.log(`allocated ${(total / 1e6).toFixed(0)} MB (model fill included; sampled every 32 KiB)`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${(bytes / 1e6).toFixed(0).padStart(6)} MB  ${site}`);
}
process.exit(0);
