import { proximaPolicy } from '../../src/policy/proxima.js';
import { makeInput } from '../../src/policy/testing.js';
import { FULL_OPTIONS, QUICK_OPTIONS, runBenchmark, verdicts } from '../../src/sim/benchmark.js';
import type { Bench, BenchContext, BenchOutcome } from './types.js';

/**
 * The policy simulator (same as `npm run bench:policy`, fewer outputs) plus the proxima policy's own
 * compute time per service for clusters of 5, 20 and 50 nodes at low and high load.
 */

function computeTime(nodes: number, load: number, budgetMs: number): number {
  const names = Array.from({ length: nodes }, (_, i) => `n${i}`);
  const rtt: Record<string, number> = {};
  for (let i = 0; i < nodes; i++) for (let j = i + 1; j < nodes; j++) rtt[`n${i}>n${j}`] = 5 + ((i * 7 + j * 13) % 60);
  const input = makeInput({
    gateways: names,
    backends: Object.fromEntries(names.map((n) => [n, [2, 8] as const])),
    rtt,
    demandRps: Object.fromEntries(names.map((n, i) => [n, load * (200 + (i % 5) * 150)])),
    serviceTimeMs: 10,
  });
  const started = performance.now();
  let runs = 0;
  while (performance.now() - started < budgetMs) {
    proximaPolicy.assign(input);
    runs++;
  }
  return (performance.now() - started) / runs;
}

const bench: Bench = {
  name: 'policy',
  description: 'policy simulator (even, nearest, faast, proxima, oracle on the FaaSt scenario) and proxima compute time',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const base = ctx.quick ? QUICK_OPTIONS : FULL_OPTIONS;
    const reports = runBenchmark({ ...base, seed: 1, progress: ctx.progress });
    const checks = verdicts(reports);
    const table: Array<Array<string | number>> = [['scenario', 'users', 'policy', 'mean ms', 'p95 ms', 'p99 ms', 'entry %', 'changes']];
    for (const r of reports) {
      for (const l of r.levels) {
        for (const name of ['even', 'faast', 'proxima', 'oracle']) {
          const s = l.byPolicy[name]!;
          table.push([r.scenario, l.users, name, s.meanMs, s.p95Ms, s.p99Ms, s.entryShare * 100, `${s.assignmentChanges}/${s.recomputes}`]);
        }
      }
    }
    const compute: Array<{ nodes: number; load: string; msPerService: number }> = [];
    for (const nodes of [5, 20, 50]) {
      for (const [load, factor] of [
        ['low', 0.1],
        ['high', 1],
      ] as const) {
        const msPerService = computeTime(nodes, factor, ctx.quick ? 200 : 1000);
        compute.push({ nodes, load, msPerService });
        ctx.progress(`proxima compute, ${nodes} gateways × ${nodes} nodes, ${load} load: ${msPerService.toFixed(2)} ms per service`);
      }
    }
    return {
      results: {
        scenarios: reports.map((r) => ({
          ...r,
          levels: r.levels.map((l) => ({
            ...l,
            byPolicy: Object.fromEntries(Object.entries(l.byPolicy).map(([k, v]) => [k, { ...v, cdfMs: undefined }])),
          })),
        })),
        verdicts: checks,
        compute,
      },
      table,
      verdicts: [
        ...checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'} ${c.scenario} ${c.check}: ${c.detail}`),
        ...compute.map(
          (c) =>
            `proxima compute ${c.nodes}×${c.nodes} ${c.load} load: ${c.msPerService.toFixed(2)} ms per service (2 shared cores, noisy)`,
        ),
      ],
    };
  },
};

export default bench;
