import { compareIntervals, formatInterval, meanInterval, type Comparison, type MeanInterval } from '../util/interval.js';
import type { PolicyResult } from './experiment.js';
import { markdownTable } from './report.js';

/**
 * A demo repeated over seeds (pure): every cell (policy × load level) once per seed, summarised as
 * mean ± 95 % interval over the seeds, and every "A beats B" decided on those intervals.
 */

/** The most seeds one `--seeds` list may name (each seed is a full run of every cell). */
export const MAX_SEEDS = 50;

/** "1-5", "1,2,3" or "1-3,7" → [1, 2, 3, …]; an error message for anything else. */
export function parseSeedList(text: string): { ok: true; seeds: number[] } | { ok: false; error: string } {
  const seeds: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part);
    if (!m) return { ok: false, error: `"${part}" is not a seed or a range like 1-5` };
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return { ok: false, error: `range ${part} runs backwards` };
    if (to - from + 1 + seeds.length > MAX_SEEDS) return { ok: false, error: `at most ${MAX_SEEDS} seeds` };
    for (let s = from; s <= to; s++) {
      if (seeds.includes(s)) return { ok: false, error: `seed ${s} is named twice` };
      seeds.push(s);
    }
  }
  return { ok: true, seeds };
}

/** One seed's comparison, as the demo measured it. */
export interface SeedRun {
  readonly seed: number;
  readonly comparison: readonly PolicyResult[];
}

/** One cell over every seed that measured it. */
export interface SeedCell {
  readonly policy: string;
  readonly users: number;
  readonly seeds: number[];
  readonly meanMs: MeanInterval;
  readonly p50Ms: MeanInterval;
  readonly p95Ms: MeanInterval;
  readonly p99Ms: MeanInterval;
  /** Share of successful requests served on their entry node (0..1). */
  readonly localShare: MeanInterval;
  /** Per seed, in the order of `seeds` (verdicts that must hold for every seed). */
  readonly localSharePerSeed: number[];
  /** Failed requests per seed, in the order of `seeds`. */
  readonly errorsPerSeed: number[];
  readonly requests: number;
}

/** Every (policy, users) cell in the order the runs measured them, aggregated over the seeds. */
export function aggregateSeeds(runs: readonly SeedRun[]): SeedCell[] {
  const order: Array<{ policy: string; users: number }> = [];
  for (const run of runs)
    for (const p of run.comparison)
      for (const l of p.levels)
        if (!order.some((c) => c.policy === p.policy && c.users === l.users)) order.push({ policy: p.policy, users: l.users });
  return order.map(({ policy, users }) => {
    const measured = runs.flatMap((run) => {
      const summary = run.comparison.find((p) => p.policy === policy)?.levels.find((l) => l.users === users)?.summary;
      return summary ? [{ seed: run.seed, summary }] : [];
    });
    const of = (pick: (s: (typeof measured)[number]['summary']) => number) => meanInterval(measured.map((m) => pick(m.summary)));
    return {
      policy,
      users,
      seeds: measured.map((m) => m.seed),
      meanMs: of((s) => s.meanMs),
      p50Ms: of((s) => s.p50Ms),
      p95Ms: of((s) => s.p95Ms),
      p99Ms: of((s) => s.p99Ms),
      localShare: of((s) => s.localShare),
      localSharePerSeed: measured.map((m) => m.summary.localShare),
      errorsPerSeed: measured.map((m) => m.summary.errors),
      requests: measured.reduce((a, m) => a + m.summary.requests, 0),
    };
  });
}

/** Policy `a` against policy `b` at one level, on the mean and the p95 intervals. */
export interface CellComparison {
  readonly users: number;
  readonly a: string;
  readonly b: string;
  readonly mean: Comparison;
  readonly p95: Comparison;
  readonly detail: string;
}

/** Every pair of policies (in the order measured) at every level both measured. */
export function compareCells(cells: readonly SeedCell[]): CellComparison[] {
  const out: CellComparison[] = [];
  const levels = [...new Set(cells.map((c) => c.users))];
  for (const users of levels) {
    const here = cells.filter((c) => c.users === users);
    for (const [i, a] of here.entries()) {
      for (const b of here.slice(i + 1)) {
        out.push({
          users,
          a: a.policy,
          b: b.policy,
          mean: compareIntervals(a.meanMs, b.meanMs),
          p95: compareIntervals(a.p95Ms, b.p95Ms),
          detail:
            `mean ${formatInterval(a.meanMs)} vs ${formatInterval(b.meanMs)} ms, ` +
            `p95 ${formatInterval(a.p95Ms)} vs ${formatInterval(b.p95Ms)} ms (${a.seeds.length} and ${b.seeds.length} seeds)`,
        });
      }
    }
  }
  return out;
}

/** The comparison of `a` with `b` as measured, whichever order the pair was stored in. */
export function comparisonOf(comparisons: readonly CellComparison[], a: string, b: string, users: number): CellComparison | undefined {
  const direct = comparisons.find((c) => c.users === users && c.a === a && c.b === b);
  if (direct) return direct;
  const flipped = comparisons.find((c) => c.users === users && c.a === b && c.b === a);
  if (!flipped) return undefined;
  const flip = (x: Comparison): Comparison => (x === 'lower' ? 'higher' : x === 'higher' ? 'lower' : x);
  return { ...flipped, a, b, mean: flip(flipped.mean), p95: flip(flipped.p95) };
}

/** One line per comparison: "5 users: proxima vs even: mean lower, p95 lower (…)". */
export function comparisonLines(comparisons: readonly CellComparison[]): string[] {
  return comparisons.map((c) => `${c.users} users: ${c.a} vs ${c.b}: mean ${c.mean}, p95 ${c.p95} (${c.detail})`);
}

export const SEED_CELL_HEADER: readonly string[] = [
  'policy',
  'users',
  'req/s',
  'seeds',
  'mean ms',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'local %',
  'errors',
];

/** One row per cell under SEED_CELL_HEADER, each figure mean ± 95 % interval over the seeds (text and HTML tables alike). */
export function seedCellRows(cells: readonly SeedCell[], ratePerUser: number): string[][] {
  return cells.map((c) => [
    c.policy,
    String(c.users),
    String(c.users * ratePerUser),
    String(c.seeds.length),
    formatInterval(c.meanMs),
    formatInterval(c.p50Ms),
    formatInterval(c.p95Ms),
    formatInterval(c.p99Ms),
    formatPercent(c.localShare),
    String(c.errorsPerSeed.reduce((a, b) => a + b, 0)),
  ]);
}

/** The cells as a markdown/plain table, each figure mean ± 95 % interval over the seeds. */
export function seedTable(cells: readonly SeedCell[], ratePerUser: number): string {
  return markdownTable([[...SEED_CELL_HEADER], ...seedCellRows(cells, ratePerUser)]);
}

/** An interval times `k`; what is not a number stays NaN (a report read back from JSON has null there). */
export function scaleInterval(i: MeanInterval, k: number): MeanInterval {
  const x = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? v * k : NaN);
  return { n: i.n, mean: x(i.mean), halfWidth: x(i.halfWidth), low: x(i.low), high: x(i.high) };
}

/** A share interval in percent with one decimal ("99.6 ± 0.3"). */
function formatPercent(i: MeanInterval): string {
  return formatInterval(scaleInterval(i, 100));
}
