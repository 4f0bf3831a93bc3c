import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../config.js';
import type { DemoResults } from '../emulator/experiment.js';
import { faastScenario } from '../emulator/scenario.js';
import { aggregateSeeds, compareCells } from '../emulator/seeds.js';
import { latencySummary } from '../emulator/testing.js';
import { outcomeTable, renderReport, verdictLines, withLaterVerdicts } from './demo-render.js';

const summary = (meanMs: number) => latencySummary(meanMs, { 'edge-1': { 'edge-1': 50, 'cloud-1': 50 } });

const run = (seed: number, meanMs: number): DemoResults => ({
  scenario: { ...faastScenario('full', seed), users: [25], policies: ['proxima'] },
  comparison: [{ policy: 'proxima', levels: [{ users: 25, summary: summary(meanMs), quantilesMs: [meanMs / 2, meanMs, 2 * meanMs] }] }],
});

test('demo --render: a report.json prints what its run printed, and its report.html is written again', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-render-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runs = [run(1, 40), run(2, 44)];
  const cells = aggregateSeeds(runs.map((r) => ({ seed: r.scenario.seed, comparison: r.comparison })));
  const comparisons = compareCells(cells);
  const verdicts = [{ check: 'a target', pass: false, detail: 'missed by 3 ms', basis: { ms: 3 } }];
  const printed = `${outcomeTable({ runs, cells, comparisons, verdicts, design: 'each level 30 s' })}\n\n${verdictLines({ runs, cells, comparisons, verdicts })}`;
  const path = join(dir, 'report.json');
  // Through JSON as the demo writes it: a one-seed interval's NaN comes back as null.
  writeFileSync(path, JSON.stringify({ seeds: [1, 2], cells, comparisons, verdicts, runs, design: { text: 'each level 30 s' } }));
  const { text, htmlPath } = renderReport(path);
  assert.equal(text, printed);
  assert.match(text, /\| proxima \| 25 +\| 250 +\| 2 +\| 42\.0 ± 25\.4 /);
  assert.match(text, /FAIL {2}a target: missed by 3 ms/);
  assert.ok(existsSync(htmlPath));
  assert.match(readFileSync(htmlPath, 'utf8'), /<td class="num">42\.0 ± 25\.4<\/td>/);
  // Not a report, or no file: a usage error naming the file, nothing written.
  writeFileSync(path, '{"runs": 3}');
  assert.throws(
    () => renderReport(path),
    (e: Error) => e instanceof UsageError && /not a demo report\.json/.test(e.message),
  );
  assert.throws(
    () => renderReport(join(dir, 'none.json')),
    (e: Error) => e instanceof UsageError && /none\.json/.test(e.message),
  );
});

test('--render keeps the verdicts a report was written with and adds, marked, the checks decided since', () => {
  const v = (check: string, pass: boolean) => ({ check, pass, detail: check, basis: {} });
  const out = withLaterVerdicts([v('a', false)], [v('a', true), v('b', true)]);
  assert.deepEqual(
    out.map((x) => [x.check, x.pass]),
    [
      ['a', false],
      ['b [decided at render time]', true],
    ],
  );
});
