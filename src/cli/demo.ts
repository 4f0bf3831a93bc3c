import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bool, list, num, parseOptions, renderHelp, str, UsageError } from '../config.js';
import { DEMO_SPEC } from './specs.js';
import { formatTopologyErrors, parseTopology } from '../model/topology.js';
import { EmulatedCluster } from '../emulator/cluster.js';
import { assertCanUseNetns } from '../emulator/netns.js';
import { runComparison, runEvents, type DemoResults } from '../emulator/experiment.js';
import { comparisonTable, predictionTable, reportHtml, verdicts } from '../emulator/report.js';
import { calibrateOverhead } from '../emulator/overhead.js';
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
}

export function demoOptionsFrom(o: ReturnType<typeof parseOptions>): DemoOptions {
  const quick = bool(o, 'quick');
  const netns = bool(o, 'netns');
  if (netns) assertCanUseNetns();
  const seed = num(o, 'seed');
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
  };
}

/** Run the demo: start the cluster, compare the policies, run the events, write the report. */
export async function runDemo(
  opts: DemoOptions,
  progress: (m: string) => void,
): Promise<{ results: DemoResults; table: string; reportPath: string; allPass: boolean }> {
  mkdirSync(opts.outDir, { recursive: true });
  const s = opts.scenario;
  const cluster = new EmulatedCluster({
    scenario: s,
    outDir: opts.outDir,
    probeIntervalMs: opts.probeIntervalMs,
    progress,
    ...(opts.netns ? { netns: true } : {}),
  });
  const started = Date.now();
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
      ...(overhead ? { overheadMs: overhead.overheadMs, overheadSource: overhead.description } : {}),
      measuredMeanMs: (p, users) => comparison.find((c) => c.policy === p)?.levels.find((l) => l.users === users)?.summary.meanMs,
    });
    progress(`policy simulator: predicted every policy and level (overhead ${predicted.overheadMs} ms from ${predicted.calibration})`);
    const results: DemoResults = { scenario: cluster.scenario, comparison, predicted, ...(events ? { events } : {}) };
    const v = verdicts(results);
    const table = `${comparisonTable(results)}\n\n${predictionTable(results)}`;
    writeFileSync(
      join(opts.outDir, 'report.json'),
      JSON.stringify({ ...results, verdicts: v, seconds: (Date.now() - started) / 1000, date: new Date().toISOString() }, null, 2) + '\n',
    );
    const reportPath = join(opts.outDir, 'report.html');
    writeFileSync(reportPath, reportHtml(results, v));
    if (opts.keepRunning) {
      await cluster.startControlPlane('proxima');
      await cluster.startGateways();
      progress(`cluster left running: live view at ${cluster.adminUrl}/ui (Ctrl-C to stop)`);
      removeSignalHandlers();
      await untilTerminated();
    }
    return { results, table, reportPath, allPass: v.every((x) => x.pass) };
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
  const { results, table, reportPath } = await runDemo(opts, progress);
  process.stdout.write(`\n${table}\n\n`);
  for (const v of verdicts(results)) process.stdout.write(`${v.pass ? 'PASS' : 'FAIL'}  ${v.check}: ${v.detail}\n`);
  process.stdout.write(`\nreport: ${reportPath} (and report.json beside it)\n`);
  return 0;
}
