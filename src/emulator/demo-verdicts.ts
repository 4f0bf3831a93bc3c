import { compareIntervals, formatInterval, meanInterval, type MeanInterval } from '../util/interval.js';
import { DELAY_STEP_TOLERANCE_POINTS, type DemoResults } from './experiment.js';
import { describeResolution, ratioResolution, type RatioResolution } from './ratio-resolution.js';
import { HEAVY_LOAD_PER_CPU, predictionRows, type Verdict } from './report.js';
import { comparisonOf, type CellComparison, type SeedCell } from './seeds.js';

/**
 * The issue's targets for a demo run, decided over every seed (pure). Comparisons between policies
 * are decided on 95 % intervals over the seeds (`compareIntervals`: non-overlapping = "A beats B",
 * else "no difference shown"); targets that must hold for every seed say which seeds miss. Each
 * verdict carries the numbers it was decided on (`basis`).
 */

/** Live mean and p95 within these fractions of the simulator's prediction (ratio intervals over seeds). */
export const PREDICTION_MEAN_TOLERANCE = 0.15;
export const PREDICTION_P95_TOLERANCE = 0.25;
/** Share of a level's samples in which the model's service time must be within 10 % of the pods' true mean. */
export const SERVICE_TIME_SHARE_TARGET = 0.9;
/** Share of the requests at the lowest level that `proxima+extproc` must keep on their entry node, every seed. */
export const EXTPROC_LOCAL_TARGET = 0.99;
/** The policies whose live figures are held to the simulator's prediction. */
export const PREDICTED_POLICIES = ['proxima', 'faast'];

const interval = (i: MeanInterval, unit = '') => `${formatInterval(i, 2)}${unit}`;
const within = (i: MeanInterval, tolerance: number) =>
  i.n >= 2 && Number.isFinite(i.halfWidth) && i.low >= 1 - tolerance && i.high <= 1 + tolerance;
/**
 * The level failed on spread, not on bias: the live interval is wider than the band and so is the one
 * the simulator's own run-to-run spread predicts (live runs can vary less than simulated ones, so the
 * prediction alone does not decide it).
 */
const spreadBound = (live: MeanInterval, r: RatioResolution | undefined) =>
  r !== undefined && r.undecidable && Number.isFinite(live.halfWidth) && live.halfWidth >= r.tolerance;
const phrase = (c: CellComparison['mean'], a: string, b: string) =>
  c === 'lower' ? `${a} beats ${b}` : c === 'higher' ? `${b} beats ${a}` : 'no difference shown';

export function demoVerdicts(runs: readonly DemoResults[], cells: readonly SeedCell[], comparisons: readonly CellComparison[]): Verdict[] {
  const seeds = runs.map((r) => r.scenario.seed);
  const levels = [...new Set(cells.map((c) => c.users))].sort((a, b) => a - b);
  const out: Verdict[] = [];
  const cell = (policy: string, users: number) => cells.find((c) => c.policy === policy && c.users === users);
  const lowest = levels[0];
  const px = lowest !== undefined ? cell('proxima', lowest) : undefined;
  const ev = lowest !== undefined ? cell('even', lowest) : undefined;
  if (px && ev) {
    // "≥ 3× lower" holds only when even's lowest plausible p95 is 3× proxima's highest.
    const shown = px.p95Ms.n >= 2 && ev.p95Ms.n >= 2 && ev.p95Ms.low >= 3 * px.p95Ms.high;
    out.push({
      check: `proxima p95 at ${lowest} users ≥ 3× lower than even (95 % intervals over seeds)`,
      pass: shown,
      detail: `even ${interval(ev.p95Ms, ' ms')} vs proxima ${interval(px.p95Ms, ' ms')}: ${shown ? 'shown' : 'not shown'} (even's low end ${ev.p95Ms.low.toFixed(1)} vs 3 × proxima's high end ${(3 * px.p95Ms.high).toFixed(1)})`,
      basis: { even: ev.p95Ms, proxima: px.p95Ms },
    });
  }
  if (cells.some((c) => c.policy === 'proxima') && cells.some((c) => c.policy === 'faast')) {
    const rows = levels.map((users) => ({ users, c: comparisonOf(comparisons, 'proxima', 'faast', users) })).filter((r) => r.c);
    const worse = rows.filter((r) => r.c!.mean === 'higher' || r.c!.p95 === 'higher');
    out.push({
      check: 'proxima vs faast at every level: faast beats proxima nowhere on mean or p95 (95 % intervals over seeds)',
      pass: rows.length > 0 && worse.length === 0,
      detail: rows
        .map(
          (r) =>
            `${r.users} users: mean ${phrase(r.c!.mean, 'proxima', 'faast')}, p95 ${phrase(r.c!.p95, 'proxima', 'faast')} (${r.c!.detail})`,
        )
        .join('; '),
      basis: rows.map((r) => ({ users: r.users, mean: r.c!.mean, p95: r.c!.p95, detail: r.c!.detail })),
    });
  }
  const ext = extprocVerdict(runs, levels, cell, comparisons);
  if (ext) out.push(ext);
  out.push(...predictionVerdicts(runs));
  const st = serviceTimeVerdict(runs);
  if (st) out.push(st);
  out.push(...eventVerdicts(runs, seeds));
  return out;
}

/** Requests served on their entry node ÷ all, from the traffic matrix: exact, also in reports whose summary rounded its share to 1 %. */
function matrixLocalShare(matrix: Record<string, Record<string, number>> | undefined): number | undefined {
  let local = 0;
  let all = 0;
  for (const [entry, row] of Object.entries(matrix ?? {}))
    for (const [served, n] of Object.entries(row)) {
      all += n;
      if (served === entry) local += n;
    }
  return all > 0 ? local / all : undefined;
}

/**
 * Per-request picking against the EDS weights it could follow: `proxima+extproc` no worse than
 * `proxima` in mean and p95 at every level, a lower p99 at the highest (intervals apart), and at the
 * lowest level ≥ 99 % of the requests on their entry node on every seed.
 */
function extprocVerdict(
  runs: readonly DemoResults[],
  levels: readonly number[],
  cell: (policy: string, users: number) => SeedCell | undefined,
  comparisons: readonly CellComparison[],
): Verdict | undefined {
  const rows = levels.map((users) => ({ users, c: comparisonOf(comparisons, 'proxima+extproc', 'proxima', users) })).filter((r) => r.c);
  if (rows.length === 0) return undefined;
  const worse = rows.filter((r) => r.c!.mean === 'higher' || r.c!.p95 === 'higher');
  const top = levels[levels.length - 1]!;
  const lowest = levels[0]!;
  const [xTop, pTop] = [cell('proxima+extproc', top), cell('proxima', top)];
  const p99 = xTop && pTop ? compareIntervals(xTop.p99Ms, pTop.p99Ms) : 'no difference shown';
  const perSeed = runs.flatMap((r) => {
    const summary = r.comparison.find((p) => p.policy === 'proxima+extproc')?.levels.find((l) => l.users === lowest)?.summary;
    return summary ? [{ seed: r.scenario.seed, local: matrixLocalShare(summary.matrix) ?? summary.localShare }] : [];
  });
  const missed = perSeed.filter((x) => !(x.local >= EXTPROC_LOCAL_TARGET));
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  return {
    check: `proxima+extproc vs proxima: mean and p95 no worse at every level, p99 lower at the highest, ≥ ${EXTPROC_LOCAL_TARGET * 100} % local at the lowest on every seed (95 % intervals over seeds)`,
    pass: worse.length === 0 && p99 === 'lower' && perSeed.length > 0 && missed.length === 0,
    detail: [
      worse.length === 0
        ? 'mean and p95 no worse at every level'
        : `worse at ${worse.map((r) => `${r.users} users (${r.c!.detail})`).join(', ')}`,
      xTop && pTop
        ? `p99 at ${top} users ${interval(xTop.p99Ms, ' ms')} vs ${interval(pTop.p99Ms, ' ms')}: ${p99}`
        : `no p99 at ${top} users`,
      `local at ${lowest} users: ${perSeed.map((x) => `seed ${x.seed} ${pct(x.local)}`).join(', ')}${missed.length ? ` (below ${EXTPROC_LOCAL_TARGET * 100} %: seed ${missed.map((x) => x.seed).join(', ')})` : ''}`,
    ].join('; '),
    basis: { levels: rows.map((r) => ({ users: r.users, mean: r.c!.mean, p95: r.c!.p95 })), p99, localPerSeed: perSeed },
  };
}

/**
 * Live ÷ predicted mean and p95 per policy and level, as intervals over the seeds, with how narrow
 * those intervals can be at the run's level length (the simulator's own run-to-run spread).
 */
export function predictionRatios(runs: readonly DemoResults[]) {
  interface Entry {
    policy: string;
    users: number;
    mean: number[];
    p95: number[];
    seeds: number[];
    overheadMs: number[];
    heavyLoadSeeds: number[];
    /** Per seed: live requests past the client deadline, counted at it (undefined: not capped). */
    timedOut: Array<number | undefined>;
    simRunMeans: number[][];
    simRunP95s: number[][];
  }
  const byKey = new Map<string, Entry>();
  for (const r of runs) {
    for (const row of predictionRows(r)) {
      const k = `${row.policy}@${row.users}`;
      const e = byKey.get(k) ?? {
        policy: row.policy,
        users: row.users,
        mean: [],
        p95: [],
        seeds: [],
        overheadMs: [],
        heavyLoadSeeds: [],
        timedOut: [],
        simRunMeans: [],
        simRunP95s: [],
      };
      e.mean.push(row.meanRatio);
      e.p95.push(row.p95Ratio);
      e.seeds.push(r.scenario.seed);
      e.overheadMs.push(r.predicted!.overheadMs);
      if (row.heavyLoad) e.heavyLoadSeeds.push(r.scenario.seed);
      e.timedOut.push(row.timedOut);
      const predicted = r.predicted!.byPolicy[row.policy]?.find((l) => l.users === row.users);
      e.simRunMeans.push([...(predicted?.runMeansMs ?? [])]);
      e.simRunP95s.push([...(predicted?.runP95sMs ?? [])]);
      byKey.set(k, e);
    }
  }
  const measureMs = runs[0]?.scenario.measureMs ?? 0;
  return [...byKey.values()].map(({ simRunMeans, simRunP95s, ...e }) => {
    const meanResolution = ratioResolution(simRunMeans, e.seeds.length, PREDICTION_MEAN_TOLERANCE, measureMs);
    const p95Resolution = ratioResolution(simRunP95s, e.seeds.length, PREDICTION_P95_TOLERANCE, measureMs);
    return {
      ...e,
      meanRatio: meanInterval(e.mean),
      p95Ratio: meanInterval(e.p95),
      measureMs,
      ...(meanResolution ? { meanResolution } : {}),
      ...(p95Resolution ? { p95Resolution } : {}),
    };
  });
}

function predictionVerdicts(runs: readonly DemoResults[]): Verdict[] {
  const ratios = predictionRatios(runs);
  return PREDICTED_POLICIES.flatMap((policy) => {
    const rows = ratios.filter((x) => x.policy === policy);
    if (rows.length === 0) return [];
    const off = rows.filter((x) => !within(x.meanRatio, PREDICTION_MEAN_TOLERANCE) || !within(x.p95Ratio, PREDICTION_P95_TOLERANCE));
    return [
      {
        check: `${policy} live vs simulator: mean within ${PREDICTION_MEAN_TOLERANCE * 100} % and p95 within ${PREDICTION_P95_TOLERANCE * 100} % at every level (95 % interval of measured ÷ predicted over seeds inside the band)`,
        pass: off.length === 0,
        detail:
          rows
            .map(
              (x) =>
                `${x.users} users: mean ${interval(x.meanRatio)}, p95 ${interval(x.p95Ratio)} (${x.seeds.length} seeds: ` +
                x.seeds.map((seed, i) => `${seed} ${x.mean[i]!.toFixed(2)}/${x.p95[i]!.toFixed(2)}`).join(', ') +
                (x.heavyLoadSeeds.length
                  ? `; decided under heavy machine load (1-minute load above ${HEAVY_LOAD_PER_CPU} × the CPUs) on seed ${x.heavyLoadSeeds.join(', ')}`
                  : '') +
                ')',
            )
            .join('; ') +
          (off.length ? `; outside the band at ${off.map((x) => x.users).join(', ')} users` : '') +
          off
            .flatMap((x) =>
              [
                spreadBound(x.meanRatio, x.meanResolution)
                  ? describeResolution('the mean', x.meanResolution!, x.seeds.length, x.measureMs)
                  : undefined,
                spreadBound(x.p95Ratio, x.p95Resolution)
                  ? describeResolution('the p95', x.p95Resolution!, x.seeds.length, x.measureMs)
                  : undefined,
              ]
                .filter(Boolean)
                .map((d) => `; at ${x.users} users ${d}`),
            )
            .join(''),
        basis: rows.map((x) => ({
          users: x.users,
          seeds: x.seeds,
          meanRatios: x.mean,
          p95Ratios: x.p95,
          meanRatio: x.meanRatio,
          p95Ratio: x.p95Ratio,
          overheadMs: x.overheadMs,
          heavyLoadSeeds: x.heavyLoadSeeds,
          ...(x.meanResolution ? { meanResolution: x.meanResolution } : {}),
          ...(x.p95Resolution ? { p95Resolution: x.p95Resolution } : {}),
        })),
      },
    ];
  });
}

/** proxima's model service time within 10 % of the pods' true mean for ≥ 90 % of every level, every seed. */
function serviceTimeVerdict(runs: readonly DemoResults[]): Verdict | undefined {
  const rows = runs.flatMap((r) =>
    (r.comparison.find((p) => p.policy === 'proxima')?.levels ?? [])
      .filter((l) => l.serviceTime)
      .map((l) => ({ seed: r.scenario.seed, users: l.users, model: l.serviceTime!.modelWithinShare, raw: l.serviceTime!.rawWithinShare })),
  );
  if (rows.length === 0) return undefined;
  const levels = [...new Set(rows.map((x) => x.users))].sort((a, b) => a - b);
  const failing = rows.filter((x) => !(x.model >= SERVICE_TIME_SHARE_TARGET));
  return {
    check: `proxima: the per-node service time its model used is within 10 % of the pods' true mean for ≥ ${SERVICE_TIME_SHARE_TARGET * 100} % of every level, every seed`,
    pass: failing.length === 0,
    detail:
      levels
        .map((users) => {
          const here = rows.filter((x) => x.users === users);
          return `${users} users: ${here.map((x) => `seed ${x.seed} ${(100 * x.model).toFixed(0)} %`).join(', ')} (raw pod signal ${interval(meanInterval(here.map((x) => 100 * x.raw)), ' %')})`;
        })
        .join('; ') + (failing.length ? `; below target: ${failing.map((x) => `seed ${x.seed} at ${x.users} users`).join(', ')}` : ''),
    basis: rows,
  };
}

function eventVerdicts(runs: readonly DemoResults[], seeds: readonly number[]): Verdict[] {
  const withEvents = runs.filter((r) => r.events);
  if (withEvents.length === 0) return [];
  const of = withEvents.map((r) => ({ seed: r.scenario.seed, m: r.events!.measures, bucketMs: r.events!.bucketMs }));
  const missing = seeds.filter((s) => !of.some((x) => x.seed === s));
  const note = missing.length ? `; no events run on seeds ${missing.join(', ')}` : '';
  const out: Verdict[] = [
    {
      check: 'control-plane restart: no RPC fails, every seed',
      pass: missing.length === 0 && of.every((x) => x.m.restartFailures === 0),
      detail: of.map((x) => `seed ${x.seed}: ${x.m.restartFailures} failed`).join(', ') + note,
      basis: of.map((x) => ({ seed: x.seed, restartFailures: x.m.restartFailures })),
    },
    {
      check: 'node loses its pods: RPC failures stop within 2 s, every seed',
      pass: missing.length === 0 && of.every((x) => x.m.podLossFailuresStopMs <= 2000),
      detail:
        of
          .map((x) => `seed ${x.seed}: ${x.m.podLossFailures} failed, last after ${(x.m.podLossFailuresStopMs / 1000).toFixed(2)} s`)
          .join(', ') + note,
      basis: of.map((x) => ({ seed: x.seed, failures: x.m.podLossFailures, stopMs: x.m.podLossFailuresStopMs })),
    },
  ];
  // Every entry gateway, every seed: within the tolerance of the best assignment within 2 probe
  // intervals (plus one 250 ms sample) of the step, and staying there until the next event.
  const rows = of.flatMap((x) =>
    Object.entries(x.m.delayStepNearBestMs ?? {}).map(([gateway, ms]) => ({
      seed: x.seed,
      gateway,
      nearBestAfterMs: ms,
      limitMs: 2 * x.m.probeIntervalMs + x.bucketMs,
      finalDistance: x.m.delayStepBestDistance?.[gateway] ?? NaN,
      shift: x.m.delayStepShift,
    })),
  );
  const failing = rows.filter((r) => !(r.nearBestAfterMs <= r.limitMs) || !(r.shift >= 0.3));
  const tol = of[0]!.m.delayStepTolerancePoints ?? DELAY_STEP_TOLERANCE_POINTS;
  out.push({
    check: `delay step: every gateway settles within 2 probe intervals to within ${tol} points of the best assignment and stays there, every seed`,
    pass: missing.length === 0 && rows.length > 0 && failing.length === 0,
    detail:
      of
        .map(
          (x) =>
            `seed ${x.seed}: ${Object.entries(x.m.delayStepNearBestMs ?? {})
              .map(
                ([g, ms]) =>
                  `${g} ${Number.isFinite(ms) ? `near best after ${(ms / 1000).toFixed(2)} s` : 'never near best'}, ends ${(x.m.delayStepBestDistance?.[g] ?? NaN).toFixed(0)} points off`,
              )
              .join(', ')} (${(100 * x.m.delayStepShift).toFixed(0)} % of edge-1's traffic moved to edge-2)`,
        )
        .join('; ') +
      (failing.length ? `; missed: ${failing.map((r) => `seed ${r.seed} ${r.gateway}`).join(', ')}` : '') +
      note,
    basis: rows,
  });
  return out;
}
