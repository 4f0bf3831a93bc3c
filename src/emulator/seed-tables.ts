import { formatInterval, meanInterval } from '../util/interval.js';
import type { DemoResults } from './experiment.js';
import { markdownTable, predictionRows } from './report.js';
import { dynamicsLine } from '../sim/dynamics.js';
import type { predictionRatios } from './demo-verdicts.js';

/** Plain/markdown tables of what a run over seeds measured beside its targets (pure). */

/** Live ÷ predicted per policy and level, mean ± 95 % interval over the seeds. */
export function predictionRatioTable(ratios: ReturnType<typeof predictionRatios>): string {
  const rows = [
    [
      'policy',
      'users',
      'seeds',
      'mean measured ÷ predicted',
      'p95 measured ÷ predicted',
      'sim-run spread ± mean / p95',
      'overhead ms (per seed)',
      'timed out (per seed)',
    ],
  ];
  for (const x of ratios)
    rows.push([
      x.policy,
      String(x.users),
      String(x.seeds.length),
      formatInterval(x.meanRatio, 2),
      formatInterval(x.p95Ratio, 2),
      resolutionCell(x),
      x.overheadMs.map((o) => o.toFixed(1)).join(', '),
      timedOutCell(x),
    ]);
  return [
    "Live vs the policy simulator (src/sim), each seed's prediction with that seed's idle-calibrated overhead; " +
      "'sim-run spread' is the ± the seeds would give if live runs varied as much as the simulator's own runs of the level's length do; " +
      "a request past the load generator's deadline counts at the deadline on both sides ('timed out': live requests so counted, '–' for a report from before):",
    markdownTable(rows),
  ].join('\n');
}

/** Live requests past the client deadline per seed ("0, 487, …"), "–" for a seed whose report predates counting them. */
export function timedOutCell(x: ReturnType<typeof predictionRatios>[number]): string {
  return x.timedOut.map((n) => (n === undefined ? '–' : String(n))).join(', ');
}

/** "0.18 / 0.14" (the ± expected from the simulated runs' spread, mean and p95), "–" for a prediction without per-run values. */
export function resolutionCell(x: ReturnType<typeof predictionRatios>[number]): string {
  const f = (r: typeof x.meanResolution) => (r ? r.floor.toFixed(2) : '–');
  return `${f(x.meanResolution)} / ${f(x.p95Resolution)}`;
}

/**
 * Per seed and level, live ÷ predicted beside the machine load and where the two runs differed: the
 * weights over time and where requests went (src/sim/dynamics.ts), for the policies held to the simulator.
 */
export function predictionSeedLines(runs: readonly DemoResults[], policies: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of runs) {
    const entries = r.scenario.nodes.filter((n) => n.entry).map((n) => n.name);
    for (const row of predictionRows(r)) {
      if (!policies.includes(row.policy)) continue;
      const live = r.comparison.find((p) => p.policy === row.policy)?.levels.find((l) => l.users === row.users);
      const sim = r.predicted?.byPolicy[row.policy]?.find((l) => l.users === row.users);
      const load = live?.machineLoad;
      out.push(
        `seed ${r.scenario.seed} ${row.policy} ${row.users} users: mean ${row.meanRatio.toFixed(2)}, p95 ${row.p95Ratio.toFixed(2)}` +
          (load ? `, machine load ${load.start.toFixed(1)}→${load.end.toFixed(1)}${row.heavyLoad ? ' (heavy)' : ''}` : '') +
          (live?.dynamics && sim?.dynamics ? `; ${dynamicsLine(live.dynamics, sim.dynamics, entries)}` : ''),
      );
    }
  }
  return out.length ? ['Per seed, live ÷ predicted and how the weights and pods behaved (time mean ± sd over the level):', ...out] : [];
}

/** The machine's load while each level ran, per seed: a loaded machine slows every request path. */
export function machineLoadLine(runs: readonly DemoResults[]): string | undefined {
  const parts = runs.flatMap((r) =>
    r.comparison.flatMap((p) =>
      p.levels
        .filter((l) => l.machineLoad)
        .map(
          (l) => `seed ${r.scenario.seed} ${p.policy} ${l.users} users ${l.machineLoad!.start.toFixed(1)}→${l.machineLoad!.end.toFixed(1)}`,
        ),
    ),
  );
  const cpus = runs.flatMap((r) => r.comparison.flatMap((p) => p.levels.map((l) => l.machineLoad?.cpus))).find((c) => c !== undefined);
  return parts.length ? `Machine load (1-minute average at the start→end of each level, ${cpus} CPUs): ${parts.join('; ')}.` : undefined;
}

/** proxima's service-time accuracy per seed and level (share of samples within 10 % of the pods' true mean). */
export function serviceTimeRows(runs: readonly DemoResults[]) {
  return runs.flatMap((r) =>
    (r.comparison.find((p) => p.policy === 'proxima')?.levels ?? [])
      .filter((l) => l.serviceTime)
      .map((l) => ({ seed: r.scenario.seed, users: l.users, accuracy: l.serviceTime! })),
  );
}

export function serviceTimeTable(runs: readonly DemoResults[]): string {
  const all = serviceTimeRows(runs);
  const levels = [...new Set(all.map((x) => x.users))].sort((a, b) => a - b);
  const rows = [
    ['users', 'seeds', 'model within 10 % (% of samples)', 'per seed', 'raw pod signal within 10 %', 'true mean ms (per node)'],
  ];
  for (const users of levels) {
    const here = all.filter((x) => x.users === users);
    const nodes = [...new Set(here.flatMap((x) => Object.keys(x.accuracy.byNode)))].sort();
    rows.push([
      String(users),
      String(here.length),
      formatInterval(meanInterval(here.map((x) => 100 * x.accuracy.modelWithinShare)), 0),
      here.map((x) => (100 * x.accuracy.modelWithinShare).toFixed(0)).join(', '),
      formatInterval(meanInterval(here.map((x) => 100 * x.accuracy.rawWithinShare)), 0),
      nodes.map((n) => `${n} ${formatInterval(meanInterval(here.map((x) => x.accuracy.byNode[n]?.trueMeanMs ?? NaN)), 1)}`).join(', '),
    ]);
  }
  return [
    "proxima's service time against the pods' true mean (user-container time of the requests served in the level):",
    markdownTable(rows),
  ].join('\n');
}
