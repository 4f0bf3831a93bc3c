import { cdfChart, escapeXml, matrixChart, timeSeriesChart } from '../report/svg.js';
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
}

/** Measured beside predicted for every policy and level both have. */
export function predictionRows(r: DemoResults): PredictionRow[] {
  const out: PredictionRow[] = [];
  if (!r.predicted) return out;
  for (const p of r.comparison) {
    for (const l of p.levels) {
      const q = r.predicted.byPolicy[p.policy]?.find((x) => x.users === l.users);
      if (!q) continue;
      const m = l.summary;
      out.push({
        policy: p.policy,
        users: l.users,
        measured: { meanMs: m.meanMs, p95Ms: m.p95Ms, localShare: m.localShare },
        predicted: { meanMs: q.meanMs, p95Ms: q.p95Ms, localShare: q.localShare },
        meanRatio: m.meanMs / q.meanMs,
        p95Ratio: m.p95Ms / q.p95Ms,
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
        `Predicted by the policy simulator (${p.replications} seeded runs per cell); per-request overhead ${p.overheadMs} ms, calibrated from ${p.calibration}.`,
        ...p.notes,
      ]
    : [];
  return [...head, markdownTable(rows)].join('\n');
}

/** Rows (the first is the header) as a markdown table with padded columns. */
export function markdownTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => '| ' + row.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [fmt(rows[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(fmt)].join('\n');
}

/** A markdown/plain table of every policy and level. */
export function comparisonTable(r: DemoResults): string {
  const rows = [['policy', 'users', 'req/s', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'local %', 'errors']];
  for (const p of r.comparison) {
    for (const l of p.levels) {
      const s = l.summary;
      rows.push([
        p.policy,
        String(l.users),
        String(l.users * r.scenario.ratePerUser),
        s.meanMs.toFixed(1),
        s.p50Ms.toFixed(1),
        s.p95Ms.toFixed(1),
        s.p99Ms.toFixed(1),
        (s.localShare * 100).toFixed(1),
        String(s.errors),
      ]);
    }
  }
  return markdownTable(rows);
}

/** The self-contained HTML report: tables, CDFs per load level, traffic matrices, the events timeline. */
export function reportHtml(r: DemoResults, v: readonly Verdict[], seedSummary?: string): string {
  const nodes = r.scenario.nodes.map((n) => n.name);
  const cdfs = r.scenario.users
    .map((users) =>
      cdfChart(
        r.comparison.map((p) => ({ label: p.policy, valuesMs: p.levels.find((l) => l.users === users)?.quantilesMs ?? [] })),
        { title: `Response time CDF — ${users} users (${users * r.scenario.ratePerUser} req/s)` },
      ),
    )
    .join('\n');
  const top = Math.max(...r.scenario.users);
  const matrices = r.comparison
    .map((p) => {
      const s = p.levels.find((l) => l.users === top)?.summary;
      const gateways = nodes.filter((n) => s?.matrix[n]);
      return matrixChart(
        gateways,
        nodes,
        (g, n) => {
          const row = s?.matrix[g] ?? {};
          const total = Object.values(row).reduce((a, b) => a + b, 0);
          return total ? (100 * (row[n] ?? 0)) / total : undefined;
        },
        {
          title: `${p.policy} at ${top} users: share of each gateway's requests per serving node`,
          unit: '%',
          rowLabel: 'gateway',
          colLabel: 'served on',
          cell: 70,
        },
      );
    })
    .join('\n');
  let events = '';
  if (r.events) {
    const e = r.events;
    const markers = e.marks.map((m) => [m.tMs / 1000, m.label] as const);
    const lat = timeSeriesChart(
      [
        { label: 'mean ms', points: e.timeline.map((b) => [b.tMs / 1000, b.meanMs] as const) },
        { label: 'p95 ms', points: e.timeline.map((b) => [b.tMs / 1000, b.p95Ms] as const) },
      ],
      { title: `Events under ${e.policy} at ${e.users} users: latency`, yLabel: 'ms', markers },
    );
    const errs = timeSeriesChart([{ label: 'failed RPCs', points: e.timeline.map((b) => [b.tMs / 1000, b.errors] as const) }], {
      title: 'Failed RPCs per 250 ms',
      yLabel: 'RPCs',
      markers,
      height: 200,
    });
    const share = timeSeriesChart(
      nodes.map((n) => ({ label: `on ${n}`, points: e.edge1Timeline.map((b) => [b.tMs / 1000, 100 * (b.servedShare[n] ?? 0)] as const) })),
      { title: 'Where requests entering edge-1 are served (%)', yLabel: '%', markers, yMax: 100 },
    );
    events = `<h2>Scripted events</h2>${lat}${errs}${share}`;
  }
  const verdictRows = v
    .map((x) => `<tr><td>${x.pass ? '✅' : '❌'}</td><td>${escapeXml(x.check)}</td><td>${escapeXml(x.detail)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Proxima demo report</title>
<style>body{font-family:system-ui,sans-serif;margin:20px;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:8px}svg{margin:6px}</style>
</head><body>
<h1>Proxima demo report</h1>
<p>${r.scenario.nodes.length} emulated nodes (${r.scenario.nodes.map((n) => `${escapeXml(n.name)}${n.entry ? ' (entry)' : ''}`).join(', ')}); links ${r.scenario.links.map((l) => `${escapeXml(l.a)}↔${escapeXml(l.b)} ${l.rttMs}±${l.jitterMs} ms`).join(', ')}; seed ${r.scenario.seed}.</p>
<h2>Targets</h2><table><tr><th></th><th>check</th><th>measured</th></tr>${verdictRows}</table>
${seedSummary ? `<h2>Over the seeds (mean ± 95 % interval)</h2><pre>${escapeXml(seedSummary)}</pre>` : ''}
<h2>Comparison${seedSummary ? ` (seed ${r.scenario.seed})` : ''}</h2><pre>${escapeXml(comparisonTable(r))}</pre>
${r.predicted ? `<h2>Predicted vs measured</h2><pre>${escapeXml(predictionTable(r))}</pre>` : ''}
<h2>Response-time CDFs</h2>${cdfs}
<h2>Traffic matrices</h2>${matrices}
${events}
</body></html>
`;
}
