import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bool, list, num, parseOptions, renderHelp, str, UsageError } from '../config.js';
import { DEMO_SPEC } from './specs.js';
import { formatTopologyErrors, parseTopology } from '../model/topology.js';
import { EmulatedCluster } from '../emulator/cluster.js';
import { assertCanUseNetns } from '../emulator/netns.js';
import { runComparison, runEvents, type DemoResults } from '../emulator/experiment.js';
import { predictionTable, reportHtml, verdicts, type Verdict } from '../emulator/report.js';
import {
  aggregateSeeds,
  compareCells,
  comparisonLines,
  parseSeedList,
  seedTable,
  type CellComparison,
  type SeedCell,
} from '../emulator/seeds.js';
import { predictDemo } from '../sim/from-demo.js';
import { faastScenario, scenarioFromTopology, type DemoScenario } from '../emulator/scenario.js';
import { SERVABLE_POLICIES } from '../policy/index.js';
import { untilTerminated } from './signals.js';

export interface DemoOptions {
  readonly quick: boolean;
  readonly scenario: DemoScenario;
  readonly events: boolean;
  readonly outDir: string;
  readonly probeIntervalMs: number;
  readonly keepRunning: boolean;
  /** One network namespace per emulated node (root only). */
  readonly netns?: boolean;
  /** Run every cell once per seed (default: the scenario's one seed). */
  readonly seeds?: readonly number[];
}

export function demoOptionsFrom(o: ReturnType<typeof parseOptions>): DemoOptions {
  const quick = bool(o, 'quick');
  const netns = bool(o, 'netns');
  if (netns) assertCanUseNetns();
  const seeds = seedsFrom(o);
  const seed = seeds[0]!;
  let scenario = faastScenario(quick ? 'quick' : 'full', seed);
  const topologyPath = str(o, 'topology');
  if (topologyPath) {
    const parsed = parseTopology(readFileSync(topologyPath, 'utf8'));
    if (!parsed.ok) throw new UsageError(`--topology ${topologyPath}:\n${formatTopologyErrors(parsed.errors)}`);
    if (parsed.topology.nodes.length > 200) throw new UsageError('--topology: the demo emulates at most 200 nodes on one machine');
    scenario = scenarioFromTopology(parsed.topology, scenario);
  }
  const policies = list(o, 'policies');
  for (const p of policies) {
    const [base, ...extras] = p.split('+');
    if (!SERVABLE_POLICIES.includes(base as (typeof SERVABLE_POLICIES)[number]) || extras.some((e) => e !== 'extproc')) {
      throw new UsageError(`--policies: unknown policy "${p}" (known: ${SERVABLE_POLICIES.join(', ')}, each optionally with +extproc)`);
    }
  }
  const users = list(o, 'users').map(Number);
  if (users.some((u) => !Number.isInteger(u) || u < 1 || u > 500)) throw new UsageError('--users: whole numbers from 1 to 500');
  const levelSeconds = o['level-seconds'] === undefined ? undefined : num(o, 'level-seconds');
  if (levelSeconds !== undefined && !(levelSeconds > 0 && levelSeconds <= 3600)) throw new UsageError('--level-seconds: from 0 to 3600');
  scenario = {
    ...scenario,
    policies,
    ...(users.length ? { users } : {}),
    ...(levelSeconds !== undefined ? { measureMs: levelSeconds * 1000 } : {}),
  };
  return {
    quick,
    scenario,
    events: bool(o, 'events'),
    outDir: resolve(str(o, 'out') ?? join('reports', 'demo')),
    probeIntervalMs: num(o, 'probe-interval-ms'),
    keepRunning: bool(o, 'keep-running'),
    ...(netns ? { netns } : {}),
    seeds,
  };
}

/** `--seeds LIST` when given, else the one `--seed N`. */
function seedsFrom(o: ReturnType<typeof parseOptions>): number[] {
  const text = str(o, 'seeds');
  if (text === undefined) {
    const seed = num(o, 'seed');
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError('--seed: a whole number ≥ 0');
    return [seed];
  }
  const parsed = parseSeedList(text);
  if (!parsed.ok) throw new UsageError(`--seeds ${text}: ${parsed.error}`);
  return parsed.seeds;
}

/** Everything one `proxima demo` run measured: one DemoResults per seed and their aggregate. */
export interface DemoOutcome {
  /** The first seed's results (the only ones for a one-seed run). */
  readonly results: DemoResults;
  readonly runs: readonly DemoResults[];
  readonly cells: readonly SeedCell[];
  readonly comparisons: readonly CellComparison[];
  /** Each seed's verdicts, labelled with the seed when there are several. */
  readonly verdicts: readonly Verdict[];
  readonly table: string;
  readonly reportPath: string;
  readonly allPass: boolean;
}

/** Run the demo once per seed (a fresh cluster each), aggregate over the seeds, write the report. */
export async function runDemo(opts: DemoOptions, progress: (m: string) => void): Promise<DemoOutcome> {
  mkdirSync(opts.outDir, { recursive: true });
  const seeds = opts.seeds ?? [opts.scenario.seed];
  const started = Date.now();
  const runs: DemoResults[] = [];
  for (const [i, seed] of seeds.entries()) {
    if (seeds.length > 1) progress(`seed ${seed} (${i + 1}/${seeds.length})`);
    const last = i === seeds.length - 1;
    // The scripted events are one timeline, not a cell: they run with the first seed only.
    runs.push(
      await runSeed(
        { ...opts, scenario: { ...opts.scenario, seed }, events: opts.events && i === 0, keepRunning: opts.keepRunning && last },
        progress,
      ),
    );
  }
  const cells = aggregateSeeds(runs.map((r) => ({ seed: r.scenario.seed, comparison: r.comparison })));
  const comparisons = compareCells(cells);
  const perSeed = runs.map((r) => verdicts(r));
  const labelled = perSeed.flatMap((vs, i) => (runs.length > 1 ? vs.map((v) => ({ ...v, check: `seed ${seeds[i]}: ${v.check}` })) : vs));
  const first = runs[0]!;
  const seedSummary = [seedTable(cells, first.scenario.ratePerUser), '', ...comparisonLines(comparisons)].join('\n');
  const table = [seedSummary, '', `${runs.length > 1 ? `Seed ${first.scenario.seed} only. ` : ''}${predictionTable(first)}`].join('\n');
  writeFileSync(
    join(opts.outDir, 'report.json'),
    JSON.stringify(
      {
        seeds,
        cells,
        comparisons,
        verdicts: labelled,
        runs: runs.map((r, i) => ({ seed: seeds[i], ...r, verdicts: perSeed[i] })),
        seconds: (Date.now() - started) / 1000,
        date: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  const reportPath = join(opts.outDir, 'report.html');
  writeFileSync(reportPath, reportHtml(first, labelled, seedSummary));
  return { results: first, runs, cells, comparisons, verdicts: labelled, table, reportPath, allPass: labelled.every((x) => x.pass) };
}

/** One seed: start the cluster, compare the policies, run the events, shut down (or keep running). */
async function runSeed(opts: DemoOptions, progress: (m: string) => void): Promise<DemoResults> {
  const s = opts.scenario;
  const cluster = new EmulatedCluster({
    scenario: s,
    outDir: opts.outDir,
    probeIntervalMs: opts.probeIntervalMs,
    progress,
    ...(opts.netns ? { netns: true } : {}),
  });
  // Without this, Ctrl-C would leave the namespaces, veths and bridge behind.
  const onSignal = () => void cluster.shutdown().finally(() => process.exit(130));
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if (opts.netns) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    progress(
      opts.netns
        ? `starting ${s.nodes.length} emulated nodes, each in its own network namespace`
        : `starting ${s.nodes.length} emulated nodes (${s.nodes.map((n) => `${n.name}@${n.ip}`).join(', ')})`,
    );
    await cluster.startNodes();
    const comparison = await runComparison(cluster, s, progress);
    const lowUsers = Math.min(...s.users);
    const events =
      opts.events && s.nodes.some((n) => n.name === 'edge-1') && s.policies.includes('proxima')
        ? await runEvents(
            cluster,
            s,
            { policy: 'proxima', users: Math.max(lowUsers, 10), probeIntervalMs: opts.probeIntervalMs, quick: opts.quick },
            progress,
          )
        : undefined;
    const predicted = predictDemo(s, {
      probeIntervalMs: opts.probeIntervalMs,
      measuredMeanMs: (p, users) => comparison.find((c) => c.policy === p)?.levels.find((l) => l.users === users)?.summary.meanMs,
    });
    progress(`policy simulator: predicted every policy and level (overhead ${predicted.overheadMs} ms from ${predicted.calibration})`);
    const results: DemoResults = { scenario: cluster.scenario, comparison, predicted, ...(events ? { events } : {}) };
    if (opts.keepRunning) {
      await cluster.startControlPlane('proxima');
      await cluster.startGateways();
      progress(`cluster left running: live view at ${cluster.adminUrl}/ui (Ctrl-C to stop)`);
      removeSignalHandlers();
      await untilTerminated();
    }
    return results;
  } finally {
    removeSignalHandlers();
    await cluster.shutdown();
  }
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const o = parseOptions(DEMO_SPEC, argv, env);
  if (o['help']) {
    process.stdout.write(renderHelp(DEMO_SPEC));
    return 0;
  }
  const opts = demoOptionsFrom(o);
  const t0 = Date.now();
  const progress = (m: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
  const { table, reportPath, verdicts: checks } = await runDemo(opts, progress);
  process.stdout.write(`\n${table}\n\n`);
  for (const v of checks) process.stdout.write(`${v.pass ? 'PASS' : 'FAIL'}  ${v.check}: ${v.detail}\n`);
  process.stdout.write(`\nreport: ${reportPath} (and report.json beside it)\n`);
  return 0;
}
