import type { DemoResults } from './experiment.js';

export interface Verdict {
  readonly check: string;
  readonly pass: boolean;
  readonly detail: string;
  /** The numbers the verdict was decided on (intervals, per-seed values). */
  readonly basis?: unknown;
}

export interface PredictionRow {
  readonly policy: string;
  readonly users: number;
  readonly measured: { readonly meanMs: number; readonly p95Ms: number; readonly localShare: number };
  readonly predicted: { readonly meanMs: number; readonly p95Ms: number; readonly localShare: number };
  /** measured ÷ predicted. */
  readonly meanRatio: number;
  readonly p95Ratio: number;
  /** The live level ran under heavy machine load (see heavyMachineLoad). */
  readonly heavyLoad: boolean;
  /** Live requests past the client deadline, counted at it on both sides (absent: an older report, not capped). */
  readonly timedOut?: number;
}

/**
 * Runnable work per CPU above which a level counts as run under heavy machine load. The demo itself
 * (pods, gateways, control plane, load generators) keeps about one CPU's worth busy; beyond twice the
 * CPU count every process waits at least as long as it runs, and each request path slows with it.
 */
export const HEAVY_LOAD_PER_CPU = 2;

/** A level ran under heavy machine load: the 1-minute load average above HEAVY_LOAD_PER_CPU × CPUs at its start or end. */
export function heavyMachineLoad(l: {
  readonly machineLoad?: { readonly start: number; readonly end: number; readonly cpus: number };
}): boolean {
  const m = l.machineLoad;
  return m !== undefined && Math.max(m.start, m.end) > HEAVY_LOAD_PER_CPU * m.cpus;
}

/** Measured beside predicted for every policy and level both have. */
export function predictionRows(r: DemoResults): PredictionRow[] {
  const out: PredictionRow[] = [];
  if (!r.predicted) return out;
  for (const p of r.comparison) {
    for (const l of p.levels) {
      const q = r.predicted.byPolicy[p.policy]?.find((x) => x.users === l.users);
      if (!q) continue;
      // A prediction capped at the client's deadline is held to the live figures that count timed-out requests at it.
      const capped = r.predicted.deadlineMs !== undefined && l.summary.atDeadline?.deadlineMs === r.predicted.deadlineMs;
      const m = capped ? { ...l.summary, ...l.summary.atDeadline } : l.summary;
      out.push({
        policy: p.policy,
        users: l.users,
        measured: { meanMs: m.meanMs, p95Ms: m.p95Ms, localShare: m.localShare },
        predicted: { meanMs: q.meanMs, p95Ms: q.p95Ms, localShare: q.localShare },
        meanRatio: m.meanMs / q.meanMs,
        p95Ratio: m.p95Ms / q.p95Ms,
        heavyLoad: heavyMachineLoad(l),
        ...(capped ? { timedOut: l.summary.atDeadline!.timedOut } : {}),
      });
    }
  }
  return out;
}

/** Measured vs predicted per policy and level, as a markdown/plain table. */
export function predictionTable(r: DemoResults): string {
  const rows = [['policy', 'users', 'mean ms meas/pred', 'ratio', 'p95 ms meas/pred', 'ratio', 'local % meas/pred']];
  for (const x of predictionRows(r)) {
    rows.push([
      x.policy,
      String(x.users),
      `${x.measured.meanMs.toFixed(1)} / ${x.predicted.meanMs.toFixed(1)}`,
      x.meanRatio.toFixed(2),
      `${x.measured.p95Ms.toFixed(1)} / ${x.predicted.p95Ms.toFixed(1)}`,
      x.p95Ratio.toFixed(2),
      `${(x.measured.localShare * 100).toFixed(0)} / ${(x.predicted.localShare * 100).toFixed(0)}`,
    ]);
  }
  const p = r.predicted;
  const head = p
    ? [
        `Predicted by the policy simulator (${
          p.replicationsByPolicy
            ? Object.entries(p.replicationsByPolicy)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ')
            : p.replications
        } seeded runs per cell); per-request overhead ${p.overheadMs} ms, calibrated from ${p.calibration}.` +
          (p.deadlineMs !== undefined
            ? ` Both sides count a request past the load generator's ${p.deadlineMs / 1000} s deadline at the deadline` +
              ` (live: ${timedOutTotal(r)} timed out).`
            : ''),
        ...p.notes,
      ]
    : [];
  return [...head, markdownTable(rows)].join('\n');
}

function timedOutTotal(r: DemoResults): number {
  return r.comparison.reduce((a, p) => a + p.levels.reduce((b, l) => b + (l.summary.atDeadline?.timedOut ?? 0), 0), 0);
}

/** Rows (the first is the header) as a markdown table with padded columns. */
export function markdownTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => '| ' + row.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [fmt(rows[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(fmt)].join('\n');
}
