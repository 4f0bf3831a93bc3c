import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { demoVerdicts, PREDICTED_POLICIES, predictionRatios } from '../emulator/demo-verdicts.js';
import type { DemoResults } from '../emulator/experiment.js';
import type { Verdict } from '../emulator/report.js';
import { reportHtml, type ReportPage } from '../emulator/report-html.js';
import { machineLoadLine, predictionRatioTable, predictionSeedLines, serviceTimeRows, serviceTimeTable } from '../emulator/seed-tables.js';
import { comparisonLines, seedTable, type CellComparison, type SeedCell } from '../emulator/seeds.js';
import { UsageError } from '../config.js';

/**
 * What a demo run prints and writes, from its results alone (pure text), so that `demo --render
 * report.json` prints exactly what the run printed: README figures come from that command.
 */
export interface DemoOutcomeText extends ReportPage {
  /** Extra lines after the tables (e.g. the activator's data path). */
  readonly extra?: string;
}

export function outcomeTable(o: DemoOutcomeText): string {
  const first = o.runs[0]!;
  const ratios = predictionRatios(o.runs);
  return [
    o.smokeLabel ?? `Experiment design: ${o.design ?? 'not checked'}.`,
    '',
    seedTable(o.cells, first.scenario.ratePerUser),
    '',
    ...comparisonLines(o.comparisons),
    ...(ratios.length ? ['', predictionRatioTable(ratios)] : []),
    ...(predictionSeedLines(o.runs, PREDICTED_POLICIES).length ? ['', ...predictionSeedLines(o.runs, PREDICTED_POLICIES)] : []),
    ...(serviceTimeRows(o.runs).length ? ['', serviceTimeTable(o.runs)] : []),
    ...(machineLoadLine(o.runs) ? ['', machineLoadLine(o.runs)!] : []),
    ...(o.extra ? ['', o.extra] : []),
  ].join('\n');
}

export function verdictLines(o: DemoOutcomeText): string {
  return [...(o.smokeLabel ? [o.smokeLabel] : []), ...o.verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.check}: ${v.detail}`)].join(
    '\n',
  );
}

/**
 * The verdicts a report was written with, then any check this version decides that the report does
 * not hold (added since it was written), decided from the report's own runs, cells and comparisons
 * and marked so.
 */
export function withLaterVerdicts(stored: readonly Verdict[], current: readonly Verdict[]): Verdict[] {
  const known = new Set(stored.map((v) => v.check));
  return [...stored, ...current.filter((v) => !known.has(v.check)).map((v) => ({ ...v, check: `${v.check} [decided at render time]` }))];
}

/** A run's report.json back into what it printed; the HTML report is written again beside it. */
export function renderReport(path: string): { text: string; htmlPath: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--render ${path}: ${(err as Error).message}`);
  }
  const r = json as Partial<{
    runs: DemoResults[];
    cells: SeedCell[];
    comparisons: CellComparison[];
    verdicts: Verdict[];
    label: string;
    design: { text?: string };
  }>;
  if (
    !Array.isArray(r.runs) ||
    r.runs.length === 0 ||
    !Array.isArray(r.cells) ||
    !Array.isArray(r.comparisons) ||
    !Array.isArray(r.verdicts)
  )
    throw new UsageError(`--render ${path}: not a demo report.json (needs runs, cells, comparisons and verdicts)`);
  const o: DemoOutcomeText = {
    runs: r.runs,
    cells: r.cells,
    comparisons: r.comparisons,
    verdicts: withLaterVerdicts(r.verdicts, demoVerdicts(r.runs, r.cells, r.comparisons)),
    ...(typeof r.label === 'string' ? { smokeLabel: r.label } : {}),
    ...(typeof r.design?.text === 'string' ? { design: r.design.text } : {}),
  };
  const htmlPath = join(dirname(path), 'report.html');
  writeFileSync(htmlPath, reportHtml(o));
  return { text: `${outcomeTable(o)}\n\n${verdictLines(o)}`, htmlPath };
}
