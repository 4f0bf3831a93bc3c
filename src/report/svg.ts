/**
 * Self-contained SVG charts (no scripts, no external fonts or CDNs) for reports and the live UI:
 * response-time CDFs and heat-map matrices. Pure functions from data to markup.
 */

export interface CdfSeries {
  readonly label: string;
  /** Latencies in ms, any order. */
  readonly valuesMs: readonly number[];
  /** Spread over seeds: [probability, lowest ms, highest ms] rows, drawn as a shaded band. */
  readonly band?: ReadonlyArray<readonly [number, number, number]>;
}

export interface CdfChartOptions {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  /** Log-scaled x axis (latencies spanning orders of magnitude). Default true. */
  readonly logX?: boolean;
  /** Upper end of the x axis in ms; default: the largest p99.9 of the series. */
  readonly maxMs?: number;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= min && v <= max) out.push(v);
      }
    }
    return out;
  }
  const step = 10 ** Math.floor(Math.log10((max - min) / 5 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (max - min) / s <= 8) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(min / nice) * nice; v <= max; v += nice) out.push(Number(v.toPrecision(6)));
  return out;
}

/** Response-time CDF chart, one line per series, like the FaaSt paper's figures. */
export function cdfChart(series: readonly CdfSeries[], opts: CdfChartOptions): string {
  const width = opts.width ?? 520;
  const height = opts.height ?? 320;
  const m = { left: 56, right: 16, top: 30, bottom: 44 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const logX = opts.logX ?? true;
  const sorted = series.map((s) => ({
    label: s.label,
    v: [...s.valuesMs].filter((x) => Number.isFinite(x) && x >= 0).sort((a, b) => a - b),
  }));
  const all = sorted.flatMap((s) => s.v);
  const p999 = Math.max(1, ...sorted.map((s) => s.v[Math.floor(0.999 * (s.v.length - 1))] ?? 0));
  const maxMs = opts.maxMs ?? p999;
  const minMs = logX ? Math.max(0.1, Math.min(...all.filter((x) => x > 0), maxMs / 10) * 0.9) : 0;
  const x = (ms: number) => {
    const c = Math.min(Math.max(ms, minMs), maxMs);
    const f = logX
      ? (Math.log10(c) - Math.log10(minMs)) / (Math.log10(maxMs) - Math.log10(minMs) || 1)
      : (c - minMs) / (maxMs - minMs || 1);
    return m.left + f * plotW;
  };
  const y = (p: number) => m.top + (1 - p) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(opts.title)}">`,
  );
  parts.push(`<title>${escapeXml(opts.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(opts.title)}</text>`);
  for (const t of niceTicks(minMs, maxMs, logX)) {
    const xx = x(t).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${m.top}" x2="${xx}" y2="${m.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${xx}" y="${m.top + plotH + 14}" text-anchor="middle">${t}</text>`);
  }
  for (const p of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    const yy = y(p).toFixed(1);
    parts.push(`<line x1="${m.left}" y1="${yy}" x2="${m.left + plotW}" y2="${yy}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${p}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${height - 8}" text-anchor="middle">response time (ms${logX ? ', log scale' : ''})</text>`,
  );
  parts.push(`<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">CDF</text>`);
  series.forEach((s, i) => {
    if (!s.band || s.band.length < 2) return;
    const color = PALETTE[i % PALETTE.length]!;
    const upper = s.band.map(([p, lo]) => `${x(lo).toFixed(1)},${y(p).toFixed(1)}`);
    const lower = [...s.band].reverse().map(([p, , hi]) => `${x(hi).toFixed(1)},${y(p).toFixed(1)}`);
    parts.push(
      `<polygon class="band" data-series="${escapeXml(s.label)}" fill="${color}" fill-opacity="0.15" stroke="none" points="${[...upper, ...lower].join(' ')}"/>`,
    );
  });
  sorted.forEach((s, i) => {
    if (s.v.length === 0) return;
    const color = PALETTE[i % PALETTE.length]!;
    // At most ~400 points per line keeps the file small without visible loss.
    const step = Math.max(1, Math.floor(s.v.length / 400));
    const pts: string[] = [];
    for (let k = 0; k < s.v.length; k += step) pts.push(`${x(s.v[k]!).toFixed(1)},${y((k + 1) / s.v.length).toFixed(1)}`);
    pts.push(`${x(s.v[s.v.length - 1]!).toFixed(1)},${y(1).toFixed(1)}`);
    parts.push(
      `<polyline class="cdf" data-series="${escapeXml(s.label)}" fill="none" stroke="${color}" stroke-width="1.8" points="${pts.join(' ')}"/>`,
    );
    const ly = m.top + 8 + i * 14;
    parts.push(
      `<line x1="${m.left + plotW - 120}" y1="${ly}" x2="${m.left + plotW - 104}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${m.left + plotW - 100}" y="${ly}" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface MatrixChartOptions {
  readonly title: string;
  /** Unit shown in cells, e.g. "ms" or "%". */
  readonly unit: string;
  readonly rowLabel?: string;
  readonly colLabel?: string;
  readonly cell?: number;
}

/** A heat-map matrix (RTT matrix, gateway → node traffic), rows × columns with values printed in cells. */
export function matrixChart(
  rows: readonly string[],
  cols: readonly string[],
  value: (r: string, c: string) => number | undefined,
  opts: MatrixChartOptions,
): string {
  const cell = opts.cell ?? 64;
  const left = 90;
  const top = 56;
  // Wide enough for the title too (about 7 px per character at 13 px bold).
  const width = Math.max(left + cols.length * cell + 10, left + opts.title.length * 7.5);
  const height = top + rows.length * cell + 10;
  const vals = rows.flatMap((r) => cols.map((c) => value(r, c))).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = Math.max(1e-9, ...vals);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(opts.title)}">`,
  );
  parts.push(`<title>${escapeXml(opts.title)}</title><rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="${left}" y="16" font-size="13" font-weight="bold">${escapeXml(opts.title)}</text>`);
  if (opts.colLabel) parts.push(`<text x="${left}" y="32" fill="#555">${escapeXml(opts.colLabel)} →</text>`);
  if (opts.rowLabel) parts.push(`<text x="4" y="${top - 6}" fill="#555">${escapeXml(opts.rowLabel)} ↓</text>`);
  cols.forEach((c, j) => parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 6}" text-anchor="middle">${escapeXml(c)}</text>`));
  rows.forEach((r, i) => {
    parts.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2}" text-anchor="end" dominant-baseline="middle">${escapeXml(r)}</text>`,
    );
    cols.forEach((c, j) => {
      const v = value(r, c);
      const f = v === undefined || !Number.isFinite(v) ? 0 : v / max;
      const fill = v === undefined ? '#f4f4f4' : `rgb(${Math.round(255 - 200 * f)},${Math.round(255 - 120 * f)},255)`;
      const text = v === undefined ? '–' : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${opts.unit}`;
      parts.push(
        `<rect class="cell" x="${left + j * cell}" y="${top + i * cell}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"/>`,
      );
      parts.push(
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2}" text-anchor="middle" dominant-baseline="middle">${escapeXml(text)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface TimeSeries {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface TimeSeriesOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** Vertical markers: [x, label]. */
  readonly markers?: ReadonlyArray<readonly [number, string]>;
  readonly yMax?: number;
}

/** Lines over time (x in seconds) with labelled event markers. */
export function timeSeriesChart(series: readonly TimeSeries[], opts: TimeSeriesOptions): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 260;
  const m = { left: 56, right: 110, top: 30, bottom: 40 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(1, ...xs);
  const yMax = opts.yMax ?? Math.max(1e-9, ...ys) * 1.05;
  const x = (v: number) => m.left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v: number) => m.top + (1 - Math.min(v, yMax) / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(opts.title)}">`,
  );
  parts.push(`<title>${escapeXml(opts.title)}</title><rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(
    `<text x="${m.left + plotW / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(opts.title)}</text>`,
  );
  for (const t of niceTicks(xMin, xMax, false)) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${m.top}" x2="${x(t).toFixed(1)}" y2="${m.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${m.top + plotH + 14}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(0, yMax, false)) {
    parts.push(`<line x1="${m.left}" y1="${y(t).toFixed(1)}" x2="${m.left + plotW}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${t}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle">time (s)</text>`);
  parts.push(`<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  for (const [mx, label] of opts.markers ?? []) {
    parts.push(
      `<line class="marker" x1="${x(mx).toFixed(1)}" y1="${m.top}" x2="${x(mx).toFixed(1)}" y2="${m.top + plotH}" stroke="#555" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text transform="translate(${(x(mx) + 3).toFixed(1)} ${m.top + 4}) rotate(90)" font-size="10" fill="#333">${escapeXml(label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p[1])).map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
    parts.push(`<polyline class="series" fill="none" stroke="${color}" stroke-width="1.6" points="${pts.join(' ')}"/>`);
    parts.push(
      `<line x1="${m.left + plotW + 8}" y1="${m.top + 8 + i * 14}" x2="${m.left + plotW + 24}" y2="${m.top + 8 + i * 14}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${m.left + plotW + 28}" y="${m.top + 8 + i * 14}" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface IntervalPoint {
  readonly label: string;
  /** x position (e.g. users) and the interval: mean with its 95 % low and high (NaN: no interval). */
  readonly x: number;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
}

export interface IntervalChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

/** Means per x with 95 % error bars, one colour per label (slightly offset so bars do not cover each other). */
export function intervalChart(points: readonly IntervalPoint[], opts: IntervalChartOptions): string {
  const width = opts.width ?? 420;
  const height = opts.height ?? 280;
  const m = { left: 56, right: 16, top: 16, bottom: 40 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const labels = [...new Set(points.map((p) => p.label))];
  const xsAll = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const ys = points.flatMap((p) => [p.mean, p.low, p.high]).filter(Number.isFinite);
  const yMax = Math.max(1e-9, ...ys) * 1.08;
  const slot = plotW / Math.max(1, xsAll.length);
  const x = (v: number, li: number) =>
    m.left + (xsAll.indexOf(v) + 0.5) * slot + (li - (labels.length - 1) / 2) * Math.min(14, slot / (labels.length + 1));
  const y = (v: number) => m.top + (1 - Math.min(v, yMax) / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(opts.title)}">`,
  );
  parts.push(`<title>${escapeXml(opts.title)}</title><rect width="${width}" height="${height}" fill="#fff"/>`);
  for (const t of niceTicks(0, yMax, false)) {
    parts.push(`<line x1="${m.left}" y1="${y(t).toFixed(1)}" x2="${m.left + plotW}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${t}</text>`);
  }
  xsAll.forEach((v) =>
    parts.push(`<text x="${x(v, (labels.length - 1) / 2).toFixed(1)}" y="${m.top + plotH + 14}" text-anchor="middle">${v}</text>`),
  );
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  for (const p of points) {
    const li = labels.indexOf(p.label);
    const color = PALETTE[li % PALETTE.length]!;
    const xx = x(p.x, li).toFixed(1);
    if (Number.isFinite(p.low) && Number.isFinite(p.high)) {
      const [y1, y2] = [y(p.low).toFixed(1), y(p.high).toFixed(1)];
      parts.push(
        `<line class="errorbar" data-series="${escapeXml(p.label)}" x1="${xx}" y1="${y1}" x2="${xx}" y2="${y2}" stroke="${color}" stroke-width="1.5"/>`,
      );
      for (const yy of [y1, y2])
        parts.push(`<line x1="${Number(xx) - 4}" y1="${yy}" x2="${Number(xx) + 4}" y2="${yy}" stroke="${color}" stroke-width="1.5"/>`);
    }
    if (Number.isFinite(p.mean))
      parts.push(
        `<circle class="mean" data-series="${escapeXml(p.label)}" cx="${xx}" cy="${y(p.mean).toFixed(1)}" r="3.5" fill="${color}"/>`,
      );
  }
  parts.push('</svg>');
  return parts.join('');
}
