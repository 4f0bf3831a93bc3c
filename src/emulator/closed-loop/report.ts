import { compareIntervals, formatInterval, meanInterval, type Comparison, type MeanInterval } from '../../util/interval.js';
import { markdownTable } from '../report.js';
import { recoveredInTime, type AddedPod, type RunMeasures } from './analysis.js';
import type { ClosedLoopRun } from './run.js';

/**
 * The closed-loop demo over seeds (pure): per setup, mean ± 95 % interval of latency during and
 * after the step, where the added pods landed, scale-up and recovery times; the checks the issue
 * names, each judged on every seed (or on intervals that do not overlap).
 */

export interface SetupSummary {
  readonly setup: string;
  readonly seeds: number[];
  readonly duringMeanMs: MeanInterval;
  readonly duringP95Ms: MeanInterval;
  readonly afterMeanMs: MeanInterval;
  readonly afterP95Ms: MeanInterval;
  /** Mean latency of the requests entering the step gateway during the step. */
  readonly stepGatewayDuringMeanMs: MeanInterval;
  readonly plateauLocalShare: MeanInterval;
  readonly scaleUpMs: MeanInterval;
  /** Per seed: pods added during the step, per node. */
  readonly landedPerSeed: Array<Record<string, number>>;
  readonly localRecoveryMsPerSeed: Array<number | undefined>;
  readonly newLocalPodServingMsPerSeed: Array<number | undefined>;
  readonly errors: number;
}

export interface Check {
  readonly check: string;
  readonly pass: boolean;
  readonly detail: string;
}

const pick = (runs: readonly ClosedLoopRun[], f: (m: RunMeasures) => number | undefined) =>
  meanInterval(runs.map((r) => f(r.measures)).filter((x): x is number => x !== undefined && Number.isFinite(x)));

export function summariseSetups(runs: readonly ClosedLoopRun[]): SetupSummary[] {
  const setups = [...new Set(runs.map((r) => r.setup))];
  return setups.map((setup) => {
    const rs = runs.filter((r) => r.setup === setup).sort((a, b) => a.seed - b.seed);
    return {
      setup,
      seeds: rs.map((r) => r.seed),
      duringMeanMs: pick(rs, (m) => m.during.meanMs),
      duringP95Ms: pick(rs, (m) => m.during.p95Ms),
      afterMeanMs: pick(rs, (m) => m.after.meanMs),
      afterP95Ms: pick(rs, (m) => m.after.p95Ms),
      stepGatewayDuringMeanMs: pick(rs, (m) => m.during.stepGatewayMeanMs),
      plateauLocalShare: pick(rs, (m) => m.plateauLocalShare * 100),
      scaleUpMs: pick(rs, (m) => m.scaleUpMs),
      landedPerSeed: rs.map((r) => r.measures.landed),
      localRecoveryMsPerSeed: rs.map((r) => r.measures.localRecoveryMs),
      newLocalPodServingMsPerSeed: rs.map((r) => r.measures.newLocalPodServingMs),
      errors: rs.reduce((a, r) => a + r.measures.before.errors + r.measures.during.errors + r.measures.after.errors, 0),
    };
  });
}

const landedText = (l: Record<string, number>) =>
  Object.entries(l)
    .sort()
    .map(([n, c]) => `${n}:${c}`)
    .join(' ') || 'none';
const msList = (xs: Array<number | undefined>) => xs.map((x) => (x === undefined ? '-' : String(x))).join(', ');

export function setupTable(s: readonly SetupSummary[]): string {
  const rows = [
    [
      'setup',
      'seeds',
      'during mean ms',
      'during p95 ms',
      'after mean ms',
      'after p95 ms',
      'step node local % (plateau)',
      'scale-up ms',
      'errors',
    ],
  ];
  for (const x of s)
    rows.push([
      x.setup,
      String(x.seeds.length),
      formatInterval(x.duringMeanMs),
      formatInterval(x.duringP95Ms),
      formatInterval(x.afterMeanMs),
      formatInterval(x.afterP95Ms),
      formatInterval(x.plateauLocalShare),
      formatInterval(x.scaleUpMs, 0),
      String(x.errors),
    ]);
  return markdownTable(rows);
}

export function placementTable(s: readonly SetupSummary[]): string {
  const rows = [['setup', 'pods added during the step, per seed', 'step → new local pod serving, ms', 'step → local ≥ 95 % for good, ms']];
  for (const x of s)
    rows.push([
      x.setup,
      x.landedPerSeed.map(landedText).join(' / '),
      msList(x.newLocalPodServingMsPerSeed),
      msList(x.localRecoveryMsPerSeed),
    ]);
  return markdownTable(rows);
}

/**
 * Where the set-ups without the extender put the added pods and what that cost during the step:
 * pods away from the step node and its nearest node per seed, and the difference of each latency
 * mean from the extender set-up's (positive: slower without it), with whether the 95 % intervals are
 * apart.
 */
export function placementCostTable(
  s: readonly SetupSummary[],
  opts: { readonly extenderSetup: string; readonly stepNode: string; readonly nearestNode: string },
): string {
  const ext = s.find((x) => x.setup === opts.extenderSetup);
  const rows = [
    [
      'setup',
      `pods added away from ${opts.stepNode} and ${opts.nearestNode}, per seed`,
      `${opts.stepNode}'s requests, mean during ms`,
      'cost: during mean',
      'cost: during p95',
      `cost: ${opts.stepNode}'s requests`,
    ],
  ];
  const cost = (a: MeanInterval, e: MeanInterval | undefined) => {
    if (!e || !Number.isFinite(a.mean) || !Number.isFinite(e.mean)) return '–';
    const d = a.mean - e.mean;
    const apart = compareIntervals(e, a) === 'no difference shown' ? 'not shown apart' : 'intervals apart';
    return `${d >= 0 ? '+' : ''}${d.toFixed(1)} ms (${apart})`;
  };
  for (const x of s) {
    const away = x.landedPerSeed.map((l) =>
      Object.entries(l)
        .filter(([n]) => n !== opts.stepNode && n !== opts.nearestNode)
        .reduce((a, [, c]) => a + c, 0),
    );
    const self = x.setup === opts.extenderSetup;
    rows.push([
      x.setup,
      away.join(', '),
      formatInterval(x.stepGatewayDuringMeanMs),
      self ? '(reference)' : cost(x.duringMeanMs, ext?.duringMeanMs),
      self ? '(reference)' : cost(x.duringP95Ms, ext?.duringP95Ms),
      self ? '(reference)' : cost(x.stepGatewayDuringMeanMs, ext?.stepGatewayDuringMeanMs),
    ]);
  }
  return markdownTable(rows);
}

function comparison(a: SetupSummary, b: SetupSummary, what: 'duringMeanMs' | 'duringP95Ms'): Comparison {
  return compareIntervals(a[what], b[what]);
}

/** The must-show checks. */
const r1 = (x: number) => Math.round(x * 10) / 10;

/** When the first added pod was created and what the extender knew of the step node's demand then. */
function firstWhy(first: AddedPod | undefined, stepNode: string): string {
  if (!first) return '';
  const d = first.stepGatewayDemand;
  if (!d) return ` (+${first.createdMs} ms)`;
  const pods = d.localPodsRps !== undefined ? `, its pods ${r1(d.localPodsRps)}` : ', no pod row';
  return ` (+${first.createdMs} ms; ${stepNode}'s demand ${r1(d.rps)} req/s from ${d.source}: LRS ${r1(d.lrsRps)}${pods})`;
}

export function closedLoopChecks(
  runs: readonly ClosedLoopRun[],
  opts: { stepNode: string; nearestNode: string; probeIntervalMs: number; extenderSetup: string; baselines: readonly string[] },
): Check[] {
  const checks: Check[] = [];
  const ext = runs.filter((r) => r.setup === opts.extenderSetup).sort((a, b) => a.seed - b.seed);
  const onStepNode = ext.map((r) => {
    const l = r.measures.landed;
    const total = Object.values(l).reduce((a, b) => a + b, 0);
    const first = [...r.measures.addedPods].filter((p) => p.createdMs >= 0).sort((a, b) => a.createdMs - b.createdMs)[0];
    return {
      seed: r.seed,
      total,
      there: l[opts.stepNode] ?? 0,
      near: l[opts.nearestNode] ?? 0,
      first: first?.node,
      why: firstWhy(first, opts.stepNode),
    };
  });
  checks.push({
    check:
      `${opts.extenderSetup}: the pods added during the step land on ${opts.stepNode} (the first one and most of them) or on the node ` +
      `nearest to it (${opts.nearestNode}), every seed`,
    pass:
      onStepNode.length > 0 &&
      onStepNode.every((x) => x.total > 0 && x.first === opts.stepNode && x.there + x.near === x.total && x.there * 2 > x.total),
    detail: onStepNode
      .map(
        (x) =>
          `seed ${x.seed}: ${x.there} of ${x.total} on ${opts.stepNode}, ${x.near} on ${opts.nearestNode}, first on ${x.first ?? '-'}${x.why}`,
      )
      .join('; '),
  });
  const timely = ext.map((r) => ({
    seed: r.seed,
    ok: recoveredInTime(r.measures, opts.probeIntervalMs),
    text: `seed ${r.seed}: local ≥ 95 % from ${r.measures.localRecoveryMs ?? 'never'} ms, scale-up ${r.measures.scaleUpMs ?? '-'} ms + ${2 * opts.probeIntervalMs} ms`,
  }));
  checks.push({
    check: `${opts.extenderSetup}: ${opts.stepNode}'s local share back to ≥ 95 % within the scale-up time + 2 probe intervals, every seed`,
    pass: timely.length > 0 && timely.every((x) => x.ok),
    detail: timely.map((x) => x.text).join('; '),
  });
  const sums = summariseSetups(runs);
  const e = sums.find((s) => s.setup === opts.extenderSetup);
  for (const b of opts.baselines) {
    const other = sums.find((s) => s.setup === b);
    if (!e || !other) continue;
    const mean = comparison(e, other, 'duringMeanMs');
    const p95 = comparison(e, other, 'duringP95Ms');
    checks.push({
      check: `${opts.extenderSetup} vs ${b} during the step: mean and p95 lower (95 % intervals over seeds do not overlap)`,
      pass: mean === 'lower' && p95 === 'lower',
      detail: `mean ${formatInterval(e.duringMeanMs)} vs ${formatInterval(other.duringMeanMs)} ms (${mean}); p95 ${formatInterval(e.duringP95Ms)} vs ${formatInterval(other.duringP95Ms)} ms (${p95})`,
    });
  }
  return checks;
}
