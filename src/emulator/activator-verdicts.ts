/**
 * The issue's targets for a demo with Knative's activator in the path (pure), over every seed:
 * routing around the activator keeps ≥ 99 % of requests on their entry node at the lowest load,
 * beats each setup that routes to the public endpoints on mean and p95 at every level (95 %
 * intervals that do not overlap), and the first request after scale-from-zero succeeds.
 */
import type { Verdict } from './report.js';
import type { ScaleFromZeroResult } from './scale-from-zero.js';
import { comparisonOf, type CellComparison, type SeedCell } from './seeds.js';
import { routesToPublic } from './setups.js';

export const LOCAL_SHARE_TARGET = 0.99;

export function activatorVerdicts(
  cells: readonly SeedCell[],
  comparisons: readonly CellComparison[],
  scaleFromZero: ReadonlyArray<{ readonly seed: number; readonly result: ScaleFromZeroResult | undefined }>,
): Verdict[] {
  const out: Verdict[] = [];
  const labels = [...new Set(cells.map((c) => c.policy))];
  const bypass = labels.find((l) => !routesToPublic(l) && !l.includes('+'));
  const publicSetups = labels.filter(routesToPublic);
  if (!bypass) return out;
  const levels = [...new Set(cells.map((c) => c.users))].sort((a, b) => a - b);
  const lowest = cells.find((c) => c.policy === bypass && c.users === levels[0]);
  if (lowest) {
    // Every seed, not just the mean: a verdict must not pass while one of its seeds fails.
    const perSeed = lowest.seeds.map((seed, i) => ({ seed, share: lowest.localSharePerSeed[i] ?? NaN }));
    const failing = perSeed.filter((x) => !(x.share >= LOCAL_SHARE_TARGET));
    out.push({
      check: `${bypass}: ≥ ${LOCAL_SHARE_TARGET * 100} % of requests served on their entry node at ${lowest.users} users, every seed`,
      pass: perSeed.length > 0 && failing.length === 0,
      detail:
        `local share ${perSeed.map((x) => `seed ${x.seed} ${(100 * x.share).toFixed(1)} %`).join(', ')}` +
        (failing.length ? `; below target: seeds ${failing.map((x) => x.seed).join(', ')}` : ''),
    });
  }
  for (const other of publicSetups) {
    const rows = levels.map((users) => ({ users, c: comparisonOf(comparisons, bypass, other, users) }));
    const missing = rows.filter((r) => !r.c).map((r) => r.users);
    const notShown = rows.filter((r) => r.c && (r.c.mean !== 'lower' || r.c.p95 !== 'lower'));
    out.push({
      check: `${bypass} beats ${other} on mean and p95 at every level (95 % intervals over seeds do not overlap)`,
      pass: missing.length === 0 && notShown.length === 0,
      detail:
        rows
          .filter((r) => r.c)
          .map((r) => `${r.users} users: mean ${r.c!.mean}, p95 ${r.c!.p95} (${r.c!.detail})`)
          .join('; ') + (missing.length ? `; not measured at ${missing.join(', ')} users` : ''),
    });
  }
  const sfz = scaleFromZero.filter((x) => x.result);
  if (sfz.length > 0) {
    const failed = sfz.filter((x) => !x.result!.first.ok || x.result!.heldByActivator < 1);
    out.push({
      check: 'scale from zero: the first request succeeds, held by the activator until a pod is ready, every seed',
      pass: failed.length === 0 && sfz.length === scaleFromZero.length,
      detail: sfz
        .map(
          (x) =>
            `seed ${x.seed}: ${x.result!.first.ok ? 'ok' : `failed (${x.result!.first.error})`} in ${x.result!.first.latencyMs} ms ` +
            `(cold start ${x.result!.coldStartMs} ms), served on ${x.result!.first.servedBy || '-'}, ${x.result!.heldByActivator} held; ` +
            `then ${(100 * x.result!.after.localShare).toFixed(1)} % local, ${x.result!.after.errors} errors`,
        )
        .join('; '),
    });
  }
  return out;
}
