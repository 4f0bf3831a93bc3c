import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { list, num, bool, parseOptions, renderHelp, str, UsageError, type CommandSpec } from '../config.js';
import { parseSeedList } from '../emulator/seeds.js';
import { CLOSED_LOOP_SETUPS, closedLoopScenario, nearestNodeTo, TIME_FACTOR } from '../emulator/closed-loop/scenario.js';
import { runClosedLoopOnce, type ClosedLoopRun } from '../emulator/closed-loop/run.js';
import { closedLoopChecks, placementCostTable, placementTable, setupTable, summariseSetups } from '../emulator/closed-loop/report.js';
import { runScaleToZero, type ScaleToZeroOutcome } from '../emulator/closed-loop/scale-to-zero.js';

export const CLOSED_LOOP_SPEC: CommandSpec = {
  name: 'closed-loop',
  summary:
    "demand steps up at one edge: Knative's autoscaler adds pods, the scheduler (with or without the extender) places them, routing follows",
  usage: 'proxima closed-loop [--seeds LIST] [--setups LIST] [--scale-to-zero] [--out DIR]',
  options: [
    {
      name: 'seeds',
      kind: 'string',
      default: '1-5',
      arg: 'LIST',
      description: 'Seeds, e.g. "1-5" or "1,3"; every setup runs once per seed.',
    },
    {
      name: 'setups',
      kind: 'list',
      arg: 'LIST',
      description: `Setups to compare (default: ${CLOSED_LOOP_SETUPS.map((s) => s.label).join(',')}).`,
    },
    {
      name: 'time-factor',
      kind: 'number',
      default: TIME_FACTOR,
      arg: 'F',
      description: "Knative's autoscaler durations and Proxima's LRS/recompute intervals are multiplied by F (0.25: a 15 s stable window).",
    },
    {
      name: 'scale-to-zero',
      kind: 'boolean',
      default: false,
      description: 'Also scale to zero and back through the activator (seed = first seed).',
    },
    { name: 'out', kind: 'string', arg: 'DIR', description: 'Where the report goes (default reports/closed-loop).' },
  ],
};

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const o = parseOptions(CLOSED_LOOP_SPEC, argv, env);
  if (o['help']) {
    process.stdout.write(renderHelp(CLOSED_LOOP_SPEC));
    return 0;
  }
  const seedsText = str(o, 'seeds') ?? '1-5';
  const parsed = parseSeedList(seedsText);
  if (!parsed.ok) throw new UsageError(`--seeds ${seedsText}: ${parsed.error}`);
  const factor = num(o, 'time-factor');
  if (!(factor >= 0.05 && factor <= 1)) throw new UsageError('--time-factor: from 0.05 to 1');
  const wanted = o['setups'] !== undefined ? list(o, 'setups') : CLOSED_LOOP_SETUPS.map((s) => s.label);
  const setups = wanted.map((label) => {
    const s = CLOSED_LOOP_SETUPS.find((x) => x.label === label);
    if (!s) throw new UsageError(`--setups: unknown setup "${label}" (known: ${CLOSED_LOOP_SETUPS.map((x) => x.label).join(', ')})`);
    return s;
  });
  const outDir = resolve(str(o, 'out') ?? join('reports', 'closed-loop'));
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  const progress = (m: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);

  const runs: ClosedLoopRun[] = [];
  for (const seed of parsed.seeds)
    for (const setup of setups) runs.push(await runClosedLoopOnce(closedLoopScenario(seed, factor), setup, outDir, progress));
  const sc = closedLoopScenario(parsed.seeds[0]!, factor);
  let zero: ScaleToZeroOutcome | undefined;
  if (bool(o, 'scale-to-zero')) zero = await runScaleToZero(sc, outDir, progress);

  const summaries = summariseSetups(runs);
  const nearestNode = nearestNodeTo(sc.base, sc.stepGateway) ?? sc.stepGateway;
  const checks = closedLoopChecks(runs, {
    stepNode: sc.stepGateway,
    nearestNode,
    probeIntervalMs: sc.probeIntervalMs,
    extenderSetup: 'proxima+extender',
    baselines: setups.filter((s) => !s.extender).map((s) => s.label),
  }).filter((c) => runs.some((r) => c.check.startsWith(r.setup)));
  if (zero)
    checks.push({
      check: 'scale to zero and back: the first request after zero succeeds and later requests go to the new pod, not the activator',
      pass:
        zero.first.ok &&
        zero.heldByActivator >= 1 &&
        zero.after.errors === 0 &&
        zero.after.viaActivator === 0 &&
        zero.newPod !== undefined &&
        (zero.after.servedBy[zero.newPod.node] ?? 0) === zero.after.requests,
      detail: JSON.stringify(zero),
    });
  if (zero)
    checks.push({
      check: `scale from zero: the first pod after zero lands on the node where the request entered (${sc.stepGateway})`,
      pass: zero.newPod?.node === sc.stepGateway,
      detail: `on ${zero.newPod?.node ?? '-'}; extender: ${zero.placement ? `${zero.placement.node}, ${zero.placement.reason}; demand ${JSON.stringify(zero.placement.demand)}` : 'no decision recorded'}`,
    });
  const text = [
    `Closed loop, seeds ${seedsText}, time factor ${factor} (stable window ${sc.kpa.stableWindowMs / 1000} s, panic window ${(sc.kpa.stableWindowMs * sc.kpa.panicWindowPercentage) / 100_000} s, tick ${sc.kpa.tickMs} ms); ` +
      `load ${JSON.stringify(sc.baseRps)} req/s, +${sc.stepExtraRps} req/s at ${sc.stepGateway} for ${sc.stepMs / 1000} s; pods start in ${sc.podStartMs} ms; ` +
      `LRS and recompute every ${sc.lrsIntervalMs} ms, queue-proxy scrape every ${sc.queueProxyIntervalMs} ms (agents and KPA), pods' latency window ${sc.queueProxyWindowMs} ms; ` +
      `probe interval ${sc.probeIntervalMs} ms (the local share is measured per probe interval)`,
    '',
    setupTable(summaries),
    '',
    placementTable(summaries),
    '',
    placementCostTable(summaries, { extenderSetup: 'proxima+extender', stepNode: sc.stepGateway, nearestNode }),
    '',
    ...checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.check}: ${c.detail}`),
  ].join('\n');
  writeFileSync(join(outDir, 'report.md'), text + '\n');
  writeFileSync(join(outDir, 'report.json'), JSON.stringify({ scenario: sc, runs, summaries, checks, scaleToZero: zero }, null, 2) + '\n');
  process.stdout.write(`\n${text}\n\nreport: ${join(outDir, 'report.md')} (and report.json beside it)\n`);
  return 0;
}
