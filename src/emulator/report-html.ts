import { cdfChart, escapeXml, intervalChart, matrixChart, timeSeriesChart, type CdfSeries } from '../report/svg.js';
import { formatInterval, meanInterval, type MeanInterval } from '../util/interval.js';
import { predictionRatios } from './demo-verdicts.js';
import type { DemoResults } from './experiment.js';
import type { Verdict } from './report.js';
import { machineLoadLine, resolutionCell, serviceTimeRows, timedOutCell } from './seed-tables.js';
import { SEED_CELL_HEADER, seedCellRows, type CellComparison, type SeedCell } from './seeds.js';

/**
 * The demo's self-contained HTML report (pure): HTML tables with formatted numbers, PASS/FAIL as
 * words (no symbol font needed), means with 95 % error bars per level, CDFs with the spread over
 * seeds as a band, traffic matrices with their titles as HTML captions, and a layout that wraps
 * instead of overflowing (checked in Chromium at 1,300 px by test/ui-report.test.ts).
 */

export interface ReportPage {
  readonly runs: readonly DemoResults[];
  readonly cells: readonly SeedCell[];
  readonly comparisons: readonly CellComparison[];
  readonly verdicts: readonly Verdict[];
  /** Present for a smoke run (--quick): shown as a banner, and there are no verdicts. */
  readonly smokeLabel?: string;
  /** The experiment design in words (level length and why). */
  readonly design?: string;
}

const e = escapeXml;
const num = (x: number | undefined, digits = 1) => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : '–');
const ci = (i: MeanInterval, digits = 1) => formatInterval(i, digits);

/** An HTML table; `numeric` columns are right-aligned. */
export function htmlTable(
  head: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  numeric: ReadonlySet<number> = new Set(),
): string {
  const cls = (i: number) => (numeric.has(i) ? ' class="num"' : '');
  return (
    `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${e(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${e(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

/** Free text from elsewhere (verdict details) with any floating-point noise rounded to 2 decimals. */
export const tidyNumbers = (text: string) => text.replace(/\d+\.\d{3,}/g, (m) => String(Math.round(Number(m) * 100) / 100));

const figure = (caption: string, svg: string) => `<figure>${svg}<figcaption>${e(caption)}</figcaption></figure>`;

function verdictTable(v: readonly Verdict[], smoke: boolean): string {
  if (v.length === 0) return `<p>${smoke ? 'No verdicts: a smoke run decides nothing.' : 'No targets apply to this run.'}</p>`;
  const rows = v
    .map(
      (x) =>
        `<tr><td><span class="mark ${x.pass ? 'pass' : 'fail'}">${x.pass ? 'PASS' : 'FAIL'}</span></td><td>${e(tidyNumbers(x.check))}</td><td class="detail">${e(tidyNumbers(x.detail))}</td></tr>`,
    )
    .join('');
  return `<table class="verdicts"><thead><tr><th>result</th><th>check</th><th>measured (decided on)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function cellTable(cells: readonly SeedCell[], ratePerUser: number): string {
  return htmlTable(SEED_CELL_HEADER, seedCellRows(cells, ratePerUser), new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]));
}

function comparisonTable(comparisons: readonly CellComparison[]): string {
  if (comparisons.length === 0) return '';
  const say = (c: CellComparison['mean'], a: string, b: string) =>
    c === 'lower' ? `${a} beats ${b}` : c === 'higher' ? `${b} beats ${a}` : 'no difference shown';
  return htmlTable(
    ['users', 'pair', 'mean', 'p95', 'seeds'],
    comparisons.map((c) => [
      String(c.users),
      `${c.a} vs ${c.b}`,
      say(c.mean, c.a, c.b),
      say(c.p95, c.a, c.b),
      c.detail.replace(/^.*\((\d+ and \d+ seeds)\)$/, '$1'),
    ]),
    new Set([0]),
  );
}

/** Per policy and probability, the lowest and highest latency over the seeds (the CDF band). */
function cdfBand(perSeed: ReadonlyArray<readonly number[]>): Array<[number, number, number]> {
  const runs = perSeed.filter((q) => q.length > 0);
  if (runs.length < 2) return [];
  const out: Array<[number, number, number]> = [];
  for (let k = 0; k <= 100; k++) {
    const p = Math.min(0.999, k / 100);
    const at = runs.map((q) => q[Math.min(q.length - 1, Math.round(p * (q.length - 1)))]!);
    out.push([p, Math.min(...at), Math.max(...at)]);
  }
  return out;
}

function cdfs(page: ReportPage): string {
  const first = page.runs[0]!;
  const policies = first.comparison.map((p) => p.policy);
  return first.scenario.users
    .map((users) => {
      const series: CdfSeries[] = policies.map((policy) => {
        const perSeed = page.runs.map(
          (r) => r.comparison.find((p) => p.policy === policy)?.levels.find((l) => l.users === users)?.quantilesMs ?? [],
        );
        return { label: policy, valuesMs: perSeed.flat(), band: cdfBand(perSeed) };
      });
      const caption = `Response-time CDF at ${users} users (${users * first.scenario.ratePerUser} req/s)${page.runs.length > 1 ? `; line: all ${page.runs.length} seeds pooled, band: lowest to highest seed` : ''}`;
      return figure(caption, cdfChart(series, { title: `${users} users`, width: 560, height: 330 }));
    })
    .join('');
}

function errorBars(page: ReportPage): string {
  const chart = (pick: (c: SeedCell) => MeanInterval, what: string) =>
    figure(
      `${what} per level, mean over seeds with its 95 % interval (no bar: one seed shows no spread)`,
      intervalChart(
        page.cells.map((c) => ({ label: c.policy, x: c.users, ...pick(c) })),
        { title: what, xLabel: 'users', yLabel: 'ms' },
      ),
    );
  const policies = [...new Set(page.cells.map((c) => c.policy))];
  const legend = `<p class="legend">${policies.map((p, i) => `<span class="swatch s${i % 8}"></span>${e(p)}`).join(' ')}</p>`;
  return `${legend}<div class="figures">${chart((c) => c.meanMs, 'Mean response time')}${chart((c) => c.p95Ms, 'p95 response time')}</div>`;
}

function matrices(page: ReportPage): string {
  const first = page.runs[0]!;
  const nodes = first.scenario.nodes.map((n) => n.name);
  const top = Math.max(...first.scenario.users);
  return first.comparison
    .map((p) => {
      const sum: Record<string, Record<string, number>> = {};
      for (const r of page.runs) {
        const m = r.comparison.find((x) => x.policy === p.policy)?.levels.find((l) => l.users === top)?.summary.matrix ?? {};
        for (const [g, row] of Object.entries(m))
          for (const [n, count] of Object.entries(row)) (sum[g] ??= {})[n] = (sum[g]?.[n] ?? 0) + count;
      }
      const gateways = nodes.filter((n) => sum[n]);
      const svg = matrixChart(
        gateways,
        nodes,
        (g, n) => {
          const row = sum[g] ?? {};
          const total = Object.values(row).reduce((a, b) => a + b, 0);
          return total ? (100 * (row[n] ?? 0)) / total : undefined;
        },
        { title: p.policy, unit: '%', rowLabel: 'gateway', colLabel: 'served on', cell: 70 },
      );
      return figure(`${p.policy} at ${top} users: share of each gateway's requests per serving node (all seeds)`, svg);
    })
    .join('');
}

function events(page: ReportPage): string {
  const withEvents = page.runs.filter((r) => r.events);
  if (withEvents.length === 0) return '';
  const r = withEvents[0]!;
  const ev = r.events!;
  const nodes = r.scenario.nodes.map((n) => n.name);
  const markers = ev.marks.map((m) => [m.tMs / 1000, m.label] as const);
  const lat = timeSeriesChart(
    [
      { label: 'mean ms', points: ev.timeline.map((b) => [b.tMs / 1000, b.meanMs] as const) },
      { label: 'p95 ms', points: ev.timeline.map((b) => [b.tMs / 1000, b.p95Ms] as const) },
    ],
    { title: 'latency', yLabel: 'ms', markers },
  );
  const errs = timeSeriesChart([{ label: 'failed RPCs', points: ev.timeline.map((b) => [b.tMs / 1000, b.errors] as const) }], {
    title: 'failed RPCs per 250 ms',
    yLabel: 'RPCs',
    markers,
    height: 200,
  });
  const share = timeSeriesChart(
    nodes.map((n) => ({ label: `on ${n}`, points: ev.edge1Timeline.map((b) => [b.tMs / 1000, 100 * (b.servedShare[n] ?? 0)] as const) })),
    { title: 'edge-1 requests served per node (%)', yLabel: '%', markers, yMax: 100 },
  );
  const rows = withEvents.flatMap((x) =>
    Object.entries(x.events!.measures.delayStepNearBestMs ?? {}).map(([g, ms]) => [
      String(x.scenario.seed),
      g,
      Number.isFinite(ms) ? num(ms / 1000, 2) : 'never',
      num(x.events!.measures.delayStepBestDistance?.[g], 0),
      Object.entries(x.events!.measures.delayStepBest?.[g] ?? {})
        .map(([n, s]) => `${n} ${num(s, 0)} %`)
        .join(', '),
      String(x.events!.measures.podLossFailures),
      String(x.events!.measures.restartFailures),
    ]),
  );
  return (
    `<h2>Scripted events under ${e(ev.policy)} at ${ev.users} users</h2>` +
    `<div class="figures">${figure(`Latency, seed ${r.scenario.seed}`, lat)}${figure(`Failed RPCs, seed ${r.scenario.seed}`, errs)}${figure(`Where requests entering edge-1 are served, seed ${r.scenario.seed}`, share)}</div>` +
    `<h3>Delay step, every seed and entry gateway</h3>` +
    htmlTable(
      [
        'seed',
        'gateway',
        'within tolerance of best after (s)',
        'final distance (points)',
        'best assignment',
        'failed RPCs at pod loss',
        'failed RPCs at restart',
      ],
      rows,
      new Set([0, 2, 3, 5, 6]),
    )
  );
}

function predictionSection(page: ReportPage): string {
  const ratios = predictionRatios(page.runs);
  if (ratios.length === 0) return '';
  return (
    "<h2>Live vs the policy simulator</h2><p>Measured ÷ predicted per seed (each seed predicted with its own idle-calibrated per-request overhead), mean ± 95 % interval over the seeds. 'Sim-run spread ±' is the half-width the seeds would give if live runs varied as much as the simulator's own runs of the level's length do: where both it and the live interval are wider than the band, the level is too short to decide the verdict. A request past the load generator's deadline counts at the deadline on both sides ('timed out': live requests so counted).</p>" +
    htmlTable(
      ['policy', 'users', 'seeds', 'mean ratio', 'p95 ratio', 'sim-run spread ± mean / p95', 'overhead ms per seed', 'timed out per seed'],
      ratios.map((x) => [
        x.policy,
        String(x.users),
        String(x.seeds.length),
        ci(x.meanRatio, 2),
        ci(x.p95Ratio, 2),
        resolutionCell(x),
        x.overheadMs.map((o) => num(o, 1)).join(', '),
        timedOutCell(x),
      ]),
      new Set([1, 2, 3, 4]),
    )
  );
}

function serviceTimeSection(page: ReportPage): string {
  const rows = serviceTimeRows(page.runs);
  if (rows.length === 0) return '';
  return (
    "<h2>proxima's service time against the pods' truth</h2><p>Share of the level's control-plane samples in which the service time the policy's model used was within 10 % of the pods' true mean (their user-container time over the level), per node and for all nodes at once.</p>" +
    htmlTable(
      ['seed', 'users', 'model, all nodes %', 'raw pod signal, all nodes %', 'per node: true mean ms, model within %'],
      rows.map((x) => [
        String(x.seed),
        String(x.users),
        num(100 * x.accuracy.modelWithinShare, 0),
        num(100 * x.accuracy.rawWithinShare, 0),
        Object.entries(x.accuracy.byNode)
          .map(([n, a]) => `${n} ${num(a.trueMeanMs, 1)} ms, ${num(100 * a.modelWithinShare, 0)} %`)
          .join('; '),
      ]),
      new Set([0, 1, 2, 3]),
    )
  );
}

const STYLE = `
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:20px;max-width:1260px;color:#222;line-height:1.4}
h1{font-size:24px}h2{font-size:19px;margin-top:28px}h3{font-size:16px}
table{border-collapse:collapse;font-size:13px;margin:8px 0;width:100%}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f4f4f4}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.detail{font-size:12px;color:#333}
.verdicts td:first-child,.verdicts th:first-child{width:1%;white-space:nowrap;overflow-wrap:normal}
.mark{display:inline-block;white-space:nowrap;padding:1px 6px;border-radius:3px;font-weight:bold;font-size:12px;color:#fff}
.mark.pass{background:#2e7d32}.mark.fail{background:#c62828}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;border-radius:4px}
.figures{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:6px 0;max-width:100%}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:13px;color:#333;max-width:560px;overflow-wrap:anywhere}
.legend .swatch{display:inline-block;width:14px;height:4px;margin:0 4px 3px 10px}
${['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'].map((c, i) => `.s${i}{background:${c}}`).join('')}
`;

export function reportHtml(page: ReportPage): string {
  const first = page.runs[0]!;
  const s = first.scenario;
  const seeds = page.runs.map((r) => r.scenario.seed);
  const overhead = page.runs
    .filter((r) => r.predicted)
    .map((r) => `seed ${r.scenario.seed}: ${num(r.predicted!.overheadMs, 2)} ms`)
    .join(', ');
  const meanOverhead = meanInterval(page.runs.filter((r) => r.predicted).map((r) => r.predicted!.overheadMs));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Proxima demo report</title>
<style>${STYLE}</style>
</head><body>
<h1>Proxima demo report</h1>
${page.smokeLabel ? `<p class="banner">${e(page.smokeLabel)}</p>` : ''}
<p>${s.nodes.length} emulated nodes (${s.nodes.map((n) => `${e(n.name)}${n.entry ? ' (entry)' : ''}`).join(', ')}); links ${s.links.map((l) => `${e(l.a)}–${e(l.b)} ${num(l.rttMs, 0)} ± ${num(l.jitterMs, 0)} ms`).join(', ')}; ${s.users.length} levels of ${num(s.measureMs / 1000, 0)} s after a ${num(s.warmupMs / 1000, 0)} s warm-up; seeds ${seeds.join(', ')}.</p>
${page.design ? `<p>Experiment design: ${e(page.design)}.</p>` : ''}
${machineLoadLine(page.runs) ? `<p>${e(machineLoadLine(page.runs)!)}</p>` : ''}
${overhead ? `<p>Per-request overhead (idle round trips, measured before the cells, never from a judged cell): ${e(overhead)}${meanOverhead.n > 1 ? ` (mean ${e(ci(meanOverhead, 2))} ms)` : ''}.</p>` : ''}
<h2>Targets</h2>${verdictTable(page.verdicts, Boolean(page.smokeLabel))}
<h2>Results over the seeds (mean ± 95 % interval)</h2>${cellTable(page.cells, s.ratePerUser)}
${errorBars(page)}
${page.comparisons.length ? `<h2>Comparisons (decided on the intervals)</h2>${comparisonTable(page.comparisons)}` : ''}
${predictionSection(page)}
${serviceTimeSection(page)}
<h2>Response-time CDFs</h2><div class="figures">${cdfs(page)}</div>
<h2>Traffic matrices</h2><div class="figures">${matrices(page)}</div>
${events(page)}
</body></html>
`;
}
