#!/usr/bin/env node
import { faastScenario } from './scenario.js';
import { markdownTable } from './report.js';
import { DEMO_RECOMPUTE_MS, simRunFor } from '../sim/from-demo.js';
import { levelDynamics, sharesOf, type ShareSample } from '../sim/dynamics.js';
import { runSimulation } from '../sim/simulator.js';
import { parseToolArgs } from '../util/tool-args.js';

/**
 * How much one level's mean depends on the seed, by level length, in the simulated demo (the figures
 * behind the demo's level length for a policy that oscillates). Each seed is one run of the demo's
 * history, warm-up and level, as `proxima demo` would measure it once; a level that holds only a swing
 * or two of the policy's weights measures where that swing fell, and its cv over seeds shows it.
 */
export interface SpreadRow {
  readonly users: number;
  readonly levelS: number;
  readonly seeds: number;
  readonly meanMs: number;
  /** Coefficient of variation over the seeds of the level's mean and p95. */
  readonly meanCv: number;
  readonly p95Cv: number;
  /** Mean over the seeds of the period of edge-1's own share, s. */
  readonly periodS: number;
}

const cv = (v: readonly number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) / m;
};

export function levelSpread(o: {
  policy: string;
  users: readonly number[];
  levelsS: readonly number[];
  seeds: number;
  warmupS: number;
}): SpreadRow[] {
  const rows: SpreadRow[] = [];
  for (const users of o.users) {
    for (const levelS of o.levelsS) {
      const means: number[] = [];
      const p95s: number[] = [];
      const periods: number[] = [];
      for (let seed = 1; seed <= o.seeds; seed++) {
        const demo = {
          ...faastScenario('full', seed),
          users: [...o.users],
          policies: [o.policy],
          warmupMs: o.warmupS * 1000,
          measureMs: levelS * 1000,
        };
        const run = simRunFor(demo, o.policy, users, 0, { probeIntervalMs: 1000 });
        const fromMs = (run.prelude ?? []).reduce((a, p) => a + p.durationMs, 0) + run.warmupMs;
        const samples: ShareSample[] = [];
        const res = runSimulation({
          ...run,
          onAssign: (tMs, table) => void (tMs >= fromMs && samples.push({ tMs, shares: sharesOf(table) })),
        });
        means.push(res.meanMs);
        p95s.push(res.p95Ms);
        const period = levelDynamics(samples, DEMO_RECOMPUTE_MS, res.servedByNode).localPeriodS['edge-1'];
        if (period !== undefined && Number.isFinite(period)) periods.push(period);
      }
      rows.push({
        users,
        levelS,
        seeds: o.seeds,
        meanMs: means.reduce((a, b) => a + b, 0) / means.length,
        meanCv: cv(means),
        p95Cv: cv(p95s),
        periodS: periods.length ? periods.reduce((a, b) => a + b, 0) / periods.length : NaN,
      });
    }
  }
  return rows;
}

const HELP = `node dist/src/emulator/level-spread.js [--policy faast] [--users 25,45] [--level-seconds 30,60,120,240] [--seeds 8] [--warmup 30]

Simulates the demo's cell once per seed for each level length (s) and prints, per level, the mean over
the seeds, the cv over the seeds of the level's mean and p95, and the period of edge-1's own share.
`;

function main(): number {
  const values = parseToolArgs(
    {
      policy: { type: 'string', default: 'faast' },
      users: { type: 'string', default: '25,45' },
      'level-seconds': { type: 'string', default: '30,60,120,240' },
      seeds: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    HELP,
  );
  if (typeof values === 'number') return values;
  const ints = (text: string, name: string, max: number) => {
    const v = text.split(',').map(Number);
    if (v.some((x) => !Number.isInteger(x) || x < 1 || x > max)) throw new Error(`--${name}: whole numbers from 1 to ${max}`);
    return v;
  };
  let rows: SpreadRow[];
  try {
    const seeds = ints(values.seeds!, 'seeds', 100)[0]!;
    if (seeds < 2) throw new Error('--seeds: at least 2 (a cv needs two)');
    rows = levelSpread({
      policy: values.policy!,
      users: ints(values.users!, 'users', 500),
      levelsS: ints(values['level-seconds']!, 'level-seconds', 3600),
      seeds,
      warmupS: ints(values.warmup!, 'warmup', 3600)[0]!,
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const table = [
    ['users', 'level s', 'seeds', 'mean ms', 'cv of the mean', 'cv of p95', "period of edge-1's share s"],
    ...rows.map((r) => [
      String(r.users),
      String(r.levelS),
      String(r.seeds),
      r.meanMs.toFixed(0),
      r.meanCv.toFixed(2),
      r.p95Cv.toFixed(2),
      Number.isFinite(r.periodS) ? r.periodS.toFixed(1) : '–',
    ]),
  ];
  process.stdout.write(`${markdownTable(table)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))) process.exitCode = main();
