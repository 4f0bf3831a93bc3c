/**
 * The same demo run with the function deployed two ways (a Knative revision, an OpenFaaS function):
 * do the results match? Every cell (policy × users) both runs measured is compared on its mean, p95
 * and local-share intervals over seeds (util/interval); the runs match when no cell shows a
 * difference on any of them. Pure.
 */
import { compareIntervals, formatInterval, type Comparison, type MeanInterval } from '../util/interval.js';
import type { SeedCell } from './seeds.js';

export interface WorkloadRun {
  readonly workload: string;
  readonly cells: readonly Pick<SeedCell, 'policy' | 'users' | 'seeds' | 'meanMs' | 'p95Ms' | 'localShare'>[];
}

export interface WorkloadCellComparison {
  readonly policy: string;
  readonly users: number;
  readonly mean: Comparison;
  readonly p95: Comparison;
  readonly localShare: Comparison;
  readonly line: string;
}

export interface WorkloadComparison {
  readonly cells: readonly WorkloadCellComparison[];
  /** True when at least one cell was compared and none showed a difference on mean or p95. */
  readonly match: boolean;
  readonly verdict: string;
}

export function compareWorkloads(a: WorkloadRun, b: WorkloadRun): WorkloadComparison {
  const cells: WorkloadCellComparison[] = [];
  for (const x of a.cells) {
    const y = b.cells.find((c) => c.policy === x.policy && c.users === x.users);
    if (!y) continue;
    const mean = compareIntervals(x.meanMs, y.meanMs);
    const p95 = compareIntervals(x.p95Ms, y.p95Ms);
    const localShare = compareIntervals(x.localShare, y.localShare);
    const pct = (i: MeanInterval) => formatInterval({ ...i, mean: i.mean * 100, halfWidth: i.halfWidth * 100 });
    cells.push({
      policy: x.policy,
      users: x.users,
      mean,
      p95,
      localShare,
      line:
        `${x.policy} at ${x.users} users: ${a.workload} vs ${b.workload}: ` +
        `mean ${formatInterval(x.meanMs)} vs ${formatInterval(y.meanMs)} ms (${mean}), ` +
        `p95 ${formatInterval(x.p95Ms)} vs ${formatInterval(y.p95Ms)} ms (${p95}), ` +
        `local ${pct(x.localShare)} vs ${pct(y.localShare)} % (${localShare}); ${x.seeds.length} and ${y.seeds.length} seeds`,
    });
  }
  const same = (c: Comparison) => c === 'no difference shown';
  const differing = cells.filter((c) => !same(c.mean) || !same(c.p95) || !same(c.localShare));
  const enoughSeeds = a.cells.every((c) => c.seeds.length >= 2) && b.cells.every((c) => c.seeds.length >= 2);
  const match = cells.length > 0 && differing.length === 0 && enoughSeeds;
  const verdict =
    cells.length === 0
      ? 'no cell was measured by both runs'
      : !enoughSeeds
        ? 'fewer than two seeds in a cell: intervals cannot show a match'
        : differing.length === 0
          ? `all ${cells.length} cells: mean, p95 and local-share intervals overlap`
          : `${differing.length} of ${cells.length} cells differ: ${differing.map((c) => `${c.policy}@${c.users}`).join(', ')}`;
  return { cells, match, verdict };
}

function isInterval(v: unknown): v is MeanInterval {
  return typeof v === 'object' && v !== null && typeof (v as MeanInterval).mean === 'number' && typeof (v as MeanInterval).n === 'number';
}

/**
 * A demo report.json as a WorkloadRun, or what is wrong with it. JSON turns NaN (one seed: no
 * interval) into null; those come back as NaN.
 */
export function workloadRunFromReport(json: unknown): WorkloadRun | string {
  if (typeof json !== 'object' || json === null) return 'not a JSON object';
  const r = json as { workload?: unknown; cells?: unknown };
  if (!Array.isArray(r.cells)) return 'no "cells" list (a report.json of proxima demo with --seeds?)';
  const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
  const interval = (v: unknown): MeanInterval | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    const i = { n: num(o['n']), mean: num(o['mean']), halfWidth: num(o['halfWidth']), low: num(o['low']), high: num(o['high']) };
    return isInterval(i) && Number.isFinite(i.n) ? i : undefined;
  };
  const cells: WorkloadRun['cells'][number][] = [];
  for (const [i, c] of (r.cells as unknown[]).entries()) {
    if (typeof c !== 'object' || c === null) return `cells[${i}] is not an object`;
    const o = c as Record<string, unknown>;
    const meanMs = interval(o['meanMs']);
    const p95Ms = interval(o['p95Ms']);
    const localShare = interval(o['localShare']);
    const seeds = Array.isArray(o['seeds']) ? o['seeds'].filter((s): s is number => typeof s === 'number') : undefined;
    if (typeof o['policy'] !== 'string' || typeof o['users'] !== 'number' || !meanMs || !p95Ms || !localShare || !seeds)
      return `cells[${i}] lacks policy, users, seeds, meanMs, p95Ms or localShare`;
    cells.push({ policy: o['policy'], users: o['users'], seeds, meanMs, p95Ms, localShare });
  }
  return { workload: typeof r.workload === 'string' ? r.workload : 'knative', cells };
}
