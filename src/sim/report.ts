import type { ScenarioReport, Verdict } from './benchmark.js';
import { POLICY_ORDER } from './benchmark.js';

/** Markdown tables and SVG CDF panels for the policy benchmark. Pure: strings in, strings out. */

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '∞');
const pc = (x: number) => `${(x * 100).toFixed(1)}`;

export function markdownReport(
  reports: readonly ScenarioReport[],
  checks: readonly Verdict[],
  meta: { seed: number; quick: boolean; seconds: number },
): string {
  const lines: string[] = [
    '# Policy simulation',
    '',
    `seed ${meta.seed}${meta.quick ? ', quick' : ''}, ${meta.seconds.toFixed(1)} s wall. Response time = RTT + queueing + service, ms. ` +
      '"entry %" = served on the node the request entered; "queued %" = waited for a slot at a pod; "changes" = recomputes after warm-up whose assignment differed.',
    '',
  ];
  for (const s of reports) {
    lines.push(`## ${s.scenario}`, '', s.description, '');
    lines.push(
      '| users | rps | policy | mean | p50 | p95 | p99 | entry % | queued % | changes |',
      '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const l of s.levels) {
      for (const name of POLICY_ORDER) {
        const r = l.byPolicy[name];
        if (!r) continue;
        lines.push(
          `| ${l.users} | ${l.offeredRps} | ${name} | ${f1(r.meanMs)} | ${f1(r.p50Ms)} | ${f1(r.p95Ms)} | ${f1(r.p99Ms)} | ${pc(r.entryShare)} | ${pc(r.queuedShare)} | ${r.assignmentChanges}/${r.recomputes} |`,
        );
      }
    }
    lines.push('', `![CDF](cdf-${s.scenario}.svg)`, '');
  }
  lines.push('## Targets', '');
  for (const c of checks) lines.push(`- ${c.pass ? 'PASS' : 'FAIL'} ${c.scenario} ${c.check}: ${c.detail}`);
  return lines.join('\n') + '\n';
}

const COLOURS: Record<string, string> = { even: '#888888', nearest: '#9467bd', faast: '#d62728', proxima: '#1f77b4', oracle: '#2ca02c' };

/** Response-time CDFs per policy, one panel per selected load level (like the FaaSt paper's figure). */
export function cdfSvg(report: ScenarioReport, users: readonly number[]): string {
  const levels = report.levels.filter((l) => users.includes(l.users));
  const panelW = 300;
  const panelH = 220;
  const pad = { l: 45, r: 10, t: 28, b: 36 };
  const width = levels.length * (panelW + pad.l + pad.r) + 130;
  const height = panelH + pad.t + pad.b + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="14" font-size="13">${escapeXml(report.scenario)}: response-time CDF per policy</text>`,
  ];
  levels.forEach((l, i) => {
    const x0 = i * (panelW + pad.l + pad.r) + pad.l;
    const y0 = pad.t + 10;
    // X range: up to the largest p99 of the non-diverging policies, at least 50 ms.
    const finite = Object.values(l.byPolicy)
      .map((r) => r.cdfMs[197] ?? 0)
      .filter((x) => Number.isFinite(x) && x < 2000);
    const xMax = niceCeil(Math.max(50, ...finite));
    const sx = (ms: number) => x0 + (Math.min(ms, xMax) / xMax) * panelW;
    const sy = (q: number) => y0 + panelH - q * panelH;
    parts.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#333"/>`);
    parts.push(`<text x="${x0 + panelW / 2}" y="${y0 - 6}" text-anchor="middle">${l.users} users (${l.offeredRps} req/s)</text>`);
    for (let t = 0; t <= 4; t++) {
      const ms = (xMax * t) / 4;
      parts.push(`<text x="${sx(ms)}" y="${y0 + panelH + 14}" text-anchor="middle">${Math.round(ms)}</text>`);
      parts.push(`<text x="${x0 - 4}" y="${sy(t / 4) + 4}" text-anchor="end">${(t / 4).toFixed(2)}</text>`);
      parts.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${sy(t / 4)}" y2="${sy(t / 4)}" stroke="#eee"/>`);
    }
    parts.push(`<text x="${x0 + panelW / 2}" y="${y0 + panelH + 30}" text-anchor="middle">response time (ms)</text>`);
    for (const name of POLICY_ORDER) {
      const r = l.byPolicy[name];
      if (!r) continue;
      const pts = r.cdfMs.map((ms, k) => `${sx(ms).toFixed(1)},${sy((k + 1) / r.cdfMs.length).toFixed(1)}`);
      parts.push(
        `<polyline fill="none" stroke="${COLOURS[name] ?? '#000'}" stroke-width="1.6" points="${sx(0)},${sy(0)} ${pts.join(' ')}"/>`,
      );
    }
  });
  const lx = levels.length * (panelW + pad.l + pad.r) + 10;
  POLICY_ORDER.forEach((name, i) => {
    const y = pad.t + 20 + i * 18;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${y}" y2="${y}" stroke="${COLOURS[name]}" stroke-width="2.5"/>`,
      `<text x="${lx + 30}" y="${y + 4}">${name}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Smallest 4 × a round tick step that covers x. */
function niceCeil(x: number): number {
  const step = [5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => 4 * s >= x) ?? Math.ceil(x / 4000) * 1000;
  return 4 * step;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
