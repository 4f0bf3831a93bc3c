import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bool, list, num, parseOptions, renderHelp, str, UsageError } from '../config.js';
import { DEMO_SPEC } from './specs.js';
import { formatTopologyErrors, parseTopology } from '../model/topology.js';
import { EmulatedCluster } from '../emulator/cluster.js';
import { assertCanUseNetns } from '../emulator/netns.js';
import { runComparison, runEvents, type DemoResults } from '../emulator/experiment.js';
import type { Verdict } from '../emulator/report.js';
import { reportHtml } from '../emulator/report-html.js';
import { outcomeTable, renderReport, verdictLines } from './demo-render.js';
import { demoVerdicts, predictionRatios } from '../emulator/demo-verdicts.js';
import { describeDesign, experimentDesign, type ExperimentDesign } from '../emulator/design.js';
import { DEMO_LRS_INTERVAL_MS, DEMO_QUEUE_PROXY_INTERVAL_MS } from '../sim/from-demo.js';
import { calibrateOverhead } from '../emulator/overhead.js';
import { aggregateSeeds, compareCells, parseSeedList, type CellComparison, type SeedCell } from '../emulator/seeds.js';
import { predictDemo } from '../sim/from-demo.js';
import { EVENTS_USERS, faastScenario, scenarioFromTopology, withWorkload, type DemoScenario, type Workload } from '../emulator/scenario.js';
import { compareWorkloads, workloadRunFromReport, type WorkloadComparison, type WorkloadRun } from '../emulator/workload-compare.js';
import { SERVABLE_POLICIES } from '../policy/index.js';
import { activatorChoiceOf, setupLabelError, usesExtProc } from '../emulator/setups.js';
import { runScaleFromZero } from '../emulator/scale-from-zero.js';
import { activatorVerdicts } from '../emulator/activator-verdicts.js';
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
  /** How the function is deployed (default knative). */
  readonly workload?: Workload;
  /** Another run's report.json to compare the cells with. */
  readonly compareWith?: string;
  /** How long levels must last for the policies under test (absent: not checked, as in tests). */
  readonly design?: ExperimentDesign;
  /** Also write every request of each level to `records-<policy>-<users>-seed<seed>.json`. */
  readonly records?: boolean;
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
    let text: string;
    try {
      text = readFileSync(topologyPath, 'utf8');
    } catch (err) {
      throw new UsageError(`--topology ${topologyPath}: cannot read it (${(err as Error).message.split(',')[0]})`);
    }
    const parsed = parseTopology(text);
    if (!parsed.ok) throw new UsageError(`--topology ${topologyPath}:\n${formatTopologyErrors(parsed.errors, parsed.moreErrors)}`);
    if (parsed.topology.nodes.length > 200) throw new UsageError('--topology: the demo emulates at most 200 nodes on one machine');
    scenario = scenarioFromTopology(parsed.topology, scenario);
  }
  const withActivator = bool(o, 'activator');
  const policies = o['policies'] !== undefined ? list(o, 'policies') : withActivator ? ACTIVATOR_SETUPS : scenario.policies;
  for (const p of policies) {
    const error = setupLabelError(p, SERVABLE_POLICIES, withActivator);
    if (error) throw new UsageError(`--policies: ${error}`);
  }
  const tbc = num(o, 'target-burst-capacity');
  if (!(tbc === -1 || (Number.isInteger(tbc) && tbc >= 0 && tbc <= 100_000)))
    throw new UsageError('--target-burst-capacity: -1 or a whole number from 0 to 100000');
  if (withActivator && !scenario.nodes.some((n) => n.name === ACTIVATOR_NODE))
    throw new UsageError(`--activator: the activator runs on ${ACTIVATOR_NODE}, which the topology does not have`);
  const users = list(o, 'users').map(Number);
  if (users.some((u) => !Number.isInteger(u) || u < 1 || u > 500)) throw new UsageError('--users: whole numbers from 1 to 500');
  const levelSeconds = o['level-seconds'] === undefined ? undefined : num(o, 'level-seconds');
  if (levelSeconds !== undefined && !(levelSeconds > 0 && levelSeconds <= 3600)) throw new UsageError('--level-seconds: from 0 to 3600');
  const probeIntervalMs = num(o, 'probe-interval-ms');
  // A level shorter than the slowest estimator's window measures the transient, not the policy.
  const design = experimentDesign(policies, {
    probeIntervalMs,
    lrsIntervalMs: DEMO_LRS_INTERVAL_MS,
    podRefreshMs: DEMO_QUEUE_PROXY_INTERVAL_MS,
  });
  let measureMs = levelSeconds !== undefined ? levelSeconds * 1000 : scenario.measureMs;
  if (!quick) {
    if (measureMs < design.minLevelMs && levelSeconds !== undefined)
      throw new UsageError(
        `--level-seconds ${levelSeconds}: ${describeDesign(design, measureMs, design.minWarmupMs)}; use --quick for a smoke run without verdicts`,
      );
    measureMs = Math.max(measureMs, design.minLevelMs);
  }
  const workload = (str(o, 'workload') ?? 'knative') as Workload;
  scenario = {
    ...withWorkload(scenario, workload),
    policies,
    ...(withActivator ? { activator: { node: ACTIVATOR_NODE, targetBurstCapacity: tbc, coldStartMs: COLD_START_MS } } : {}),
    ...(users.length ? { users } : {}),
    measureMs,
    // The estimators see the new load for LEVEL_WINDOWS of their longest window before a level is measured.
    ...(quick ? {} : { warmupMs: Math.max(design.minWarmupMs, Math.min(measureMs, scenario.warmupMs)) }),
  };
  return {
    quick,
    scenario,
    events: bool(o, 'events'),
    outDir: resolve(str(o, 'out') ?? join('reports', 'demo')),
    probeIntervalMs,
    keepRunning: bool(o, 'keep-running'),
    ...(netns ? { netns } : {}),
    seeds,
    workload,
    ...(str(o, 'compare-with') ? { compareWith: resolve(str(o, 'compare-with')!) } : {}),
    design,
    ...(bool(o, 'records') ? { records: true } : {}),
  };
}

/** What a `--quick` run says about itself everywhere it reports. */
export const SMOKE_LABEL =
  'SMOKE RUN (--quick): levels shorter than the estimators need; it shows the demo works, it measures no policy and decides no verdict.';

/** The setups `--activator` compares by default: stock Knative, Proxima to the public endpoints, Proxima around the activator. */
const ACTIVATOR_SETUPS = ['even+public', 'proxima+public', 'proxima'];
const ACTIVATOR_NODE = 'cloud-1';
/** The autoscaler's reaction to the held request plus the new pod's start (emulated as one delay). */
const COLD_START_MS = 1000;

/** "even+public: SKS Proxy (EBC -199), gateways reach the activator first" per setup (first seed). */
function dataPathLines(r: DemoResults): string {
  return r.comparison
    .filter((p) => p.dataPath)
    .map(
      (p) =>
        `${p.policy}: SKS ${p.dataPath!.mode} (excess burst capacity ${p.dataPath!.ebc}), gateways reach the ${p.dataPath!.path === 'pods' ? 'pods' : 'activator'} first (${p.dataPath!.choice})`,
    )
    .join('\n');
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
    // The scripted events run on every seed: a timing claim must hold on each.
    runs.push(await runSeed({ ...opts, scenario: { ...opts.scenario, seed }, keepRunning: opts.keepRunning && last }, progress));
  }
  const cells = aggregateSeeds(runs.map((r) => ({ seed: r.scenario.seed, comparison: r.comparison })));
  const comparisons = compareCells(cells);
  // A smoke run (--quick) is too short to measure the policies: it decides nothing.
  const labelled: Verdict[] = opts.quick
    ? []
    : [
        ...demoVerdicts(runs, cells, comparisons),
        ...(opts.scenario.activator
          ? activatorVerdicts(
              cells,
              comparisons,
              runs.map((r, i) => ({ seed: seeds[i]!, result: r.scaleFromZero })),
            )
          : []),
      ];
  const first = runs[0]!;
  const design = opts.design ? describeDesign(opts.design, opts.scenario.measureMs, opts.scenario.warmupMs) : undefined;
  const ratios = predictionRatios(runs);
  const text = {
    runs,
    cells,
    comparisons,
    verdicts: labelled,
    ...(opts.quick ? { smokeLabel: SMOKE_LABEL } : {}),
    ...(design ? { design } : {}),
    ...(opts.scenario.activator ? { extra: dataPathLines(first) } : {}),
  };
  const table = outcomeTable(text);
  writeFileSync(
    join(opts.outDir, 'report.json'),
    JSON.stringify(
      {
        workload: opts.workload ?? 'knative',
        smoke: opts.quick,
        ...(opts.quick ? { label: SMOKE_LABEL } : {}),
        ...(opts.design
          ? { design: { ...opts.design, levelMs: opts.scenario.measureMs, warmupMs: opts.scenario.warmupMs, text: design } }
          : {}),
        seeds,
        cells,
        comparisons,
        predictionRatios: ratios,
        overheadPerSeed: runs.map((r) => ({
          seed: r.scenario.seed,
          overheadMs: r.predicted?.overheadMs,
          calibration: r.predicted?.calibration,
        })),
        verdicts: labelled,
        runs: runs.map((r, i) => ({ seed: seeds[i], ...r })),
        seconds: (Date.now() - started) / 1000,
        date: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  const reportPath = join(opts.outDir, 'report.html');
  writeFileSync(reportPath, reportHtml(text));
  return {
    results: first,
    runs,
    cells,
    comparisons,
    verdicts: labelled,
    table,
    reportPath,
    allPass: !opts.quick && labelled.every((x) => x.pass),
  };
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
    // The simulator's per-request overhead, from its own idle measurement, never from a judged cell.
    const overhead = await calibrateOverhead(cluster, s, s.seed);
    progress(
      overhead
        ? `per-request overhead ${overhead.overheadMs} ms: ${overhead.description}`
        : 'per-request overhead: calibration run gave no local round trips',
    );
    const comparison = await runComparison(
      cluster,
      s,
      progress,
      opts.records
        ? (policy, users, records) =>
            writeFileSync(
              join(opts.outDir, `records-${policy}-${users}-seed${s.seed}.json`),
              JSON.stringify({ policy, users, seed: s.seed, warmupMs: s.warmupMs, records }) + '\n',
            )
        : undefined,
    );
    const events =
      opts.events && s.nodes.some((n) => n.name === 'edge-1') && s.policies.includes('proxima')
        ? await runEvents(
            cluster,
            s,
            { policy: 'proxima', users: EVENTS_USERS, probeIntervalMs: opts.probeIntervalMs, quick: opts.quick },
            progress,
          )
        : undefined;
    const bypass = s.activator ? s.policies.find((p) => activatorChoiceOf(p) === 'bypass' && !usesExtProc(p)) : undefined;
    const scaleFromZero = bypass ? await runScaleFromZero(cluster, s, bypass, progress) : undefined;
    // The simulator has no activator: no prediction for a run with it in the path.
    // No overhead calibration from a measured cell: without the idle measurement the prediction has none.
    const predicted = s.activator
      ? undefined
      : predictDemo(s, {
          probeIntervalMs: opts.probeIntervalMs,
          overheadMs: overhead?.overheadMs ?? 0,
          overheadSource: overhead?.description ?? 'none: the idle calibration gave no local round trips',
        });
    if (predicted)
      progress(`policy simulator: predicted every policy and level (overhead ${predicted.overheadMs} ms from ${predicted.calibration})`);
    const results: DemoResults = {
      scenario: cluster.scenario,
      comparison,
      ...(predicted ? { predicted } : {}),
      ...(events ? { events } : {}),
      ...(scaleFromZero ? { scaleFromZero } : {}),
    };
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
  const render = str(o, 'render');
  if (render) {
    const { text, htmlPath } = renderReport(resolve(render));
    process.stdout.write(`${text}\n\nreport: ${htmlPath} (rendered again from ${render})\n`);
    return 0;
  }
  const opts = demoOptionsFrom(o);
  const t0 = Date.now();
  const progress = (m: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
  // Read the other report first: a bad file fails before minutes of measuring, not after.
  const other = opts.compareWith ? readOtherReport(opts.compareWith) : undefined;
  const { table, reportPath, verdicts: checks, cells } = await runDemo(opts, progress);
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(
    `${verdictLines({ runs: [], cells: [], comparisons: [], verdicts: checks, ...(opts.quick ? { smokeLabel: SMOKE_LABEL } : {}) })}\n`,
  );
  if (other) {
    const c: WorkloadComparison = compareWorkloads({ workload: opts.workload ?? 'knative', cells }, other);
    process.stdout.write(`\n${c.cells.map((x) => x.line).join('\n')}\n`);
    process.stdout.write(
      `${c.match ? 'PASS' : 'FAIL'}  ${opts.workload ?? 'knative'} matches ${other.workload} (${opts.compareWith}): ${c.verdict}\n`,
    );
  }
  process.stdout.write(`\nreport: ${reportPath} (and report.json beside it)\n`);
  return 0;
}

function readOtherReport(path: string): WorkloadRun {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--compare-with ${path}: ${(err as Error).message}`);
  }
  const run = workloadRunFromReport(json);
  if (typeof run === 'string') throw new UsageError(`--compare-with ${path}: ${run}`);
  return run;
}
