import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DemoResults, PolicyResult } from '../src/emulator/experiment.js';
import { reportHtml, type ReportPage } from '../src/emulator/report-html.js';
import type { Verdict } from '../src/emulator/report.js';
import { aggregateSeeds, compareCells } from '../src/emulator/seeds.js';
import { faastScenario } from '../src/emulator/scenario.js';
import { summarise, timeline, type RequestRecord } from '../src/emulator/stats.js';
import { exponential, mulberry32 } from '../src/util/rng.js';
import { openBrowser, requireChromium } from './ui-browser.js';

/** The demo's self-contained HTML report, rendered from a small synthetic run over three seeds and opened in Chromium at 1,300 px. */

const USERS = [5, 25];
const POLICIES: Array<{ policy: string; remoteShare: number }> = [
  { policy: 'even', remoteShare: 0.66 },
  { policy: 'proxima', remoteShare: 0.02 },
];

/** Requests entering edge-1/edge-2; a share goes to cloud-1 at +50 ms. Seeded, so the page is stable. */
function records(seed: number, remoteShare: number, count: number): RequestRecord[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const gateway = i % 2 ? 'edge-2' : 'edge-1';
    const remote = rng() < remoteShare;
    const ok = rng() > 0.01;
    return {
      gateway,
      startMs: i * 10,
      latencyMs: exponential(rng, 20) + (remote ? 50 : 0.5),
      ok,
      servedBy: ok ? (remote ? 'cloud-1' : gateway) : '',
      ...(ok ? {} : { error: 'UNAVAILABLE: no healthy upstream' }),
    };
  });
}

const SEEDS = [1, 2, 3];

function syntheticResults(seed: number): DemoResults {
  const scenario = { ...faastScenario('quick', seed), users: USERS };
  const comparison: PolicyResult[] = POLICIES.map((p, pi) => ({
    policy: p.policy,
    levels: USERS.map((users, li) => {
      const r = records(1000 * seed + 100 * pi + li, p.remoteShare, 400);
      const quantilesMs = r
        .filter((x) => x.ok)
        .map((x) => x.latencyMs)
        .sort((a, b) => a - b);
      return { users, summary: summarise(r), quantilesMs };
    }),
  }));
  const ev = records(999 + seed, 0.05, 600);
  const edge1 = ev.filter((r) => r.gateway === 'edge-1');
  return {
    scenario,
    comparison,
    events: {
      policy: 'proxima',
      users: 10,
      bucketMs: 250,
      marks: [
        { tMs: 1500, label: 'edge-1 pods die' },
        { tMs: 3000, label: 'control plane restart' },
      ],
      timeline: timeline(ev, 250),
      edge1Timeline: timeline(edge1, 250),
      controlPlane: [],
      measures: {
        podLossFailuresStopMs: 500,
        podLossFailures: 3,
        restartFailures: 0,
        delayStepFirstMoveMs: 750,
        delayStepSettleMs: 1000,
        delayStepShift: 0.8,
        probeIntervalMs: 1000,
        delayStepNearBestMs: { 'edge-1': 994.0000000000001, 'edge-2': NaN },
        delayStepBestDistance: { 'edge-1': 0, 'edge-2': 10.100000000000001 },
        delayStepBest: { 'edge-1': { 'edge-2': 100 }, 'edge-2': { 'cloud-1': 60, 'edge-2': 40 } },
      },
    },
  };
}

export function page(): ReportPage {
  const runs = SEEDS.map(syntheticResults);
  const cells = aggregateSeeds(runs.map((r) => ({ seed: r.scenario.seed, comparison: r.comparison })));
  const verdicts: Verdict[] = [
    { check: 'a check that holds', pass: true, detail: 'mean 12 ± 2.4000000000000004 ms as computed' },
    {
      check:
        'delay step: every gateway settles within 2 probe intervals to within 5 points of the best assignment and stays there, every seed',
      pass: false,
      detail: `${'seed 1: edge-1 near best after 0.99 s, ends 0 points off, edge-2 never near best, ends 10 points off; '.repeat(6)}missed: seed 1 edge-2`,
    },
  ];
  return { runs, cells, comparisons: compareCells(cells), verdicts, design: 'each level 30 s after a 30 s warm-up' };
}

test('demo report in Chromium at 1,300 px: HTML tables, formatted numbers, plain-text marks, error bars, CDF bands, no overflow, captions whole', async (t) => {
  if (!requireChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'proxima-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = page();
  const file = join(dir, 'report.html');
  writeFileSync(file, reportHtml(p));

  const { page: tab, problems } = await openBrowser(t, { width: 1300, height: 900 });
  await tab.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  assert.equal(await tab.title(), 'Proxima demo report');

  // Nothing wider than the window: no horizontal scrolling at 1,300 px, no element past the right edge.
  const widths = await tab.evaluate(() => {
    const d = (
      globalThis as unknown as {
        document: {
          documentElement: { scrollWidth: number; clientWidth: number };
          querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { right: number }; tagName: string }>;
        };
      }
    ).document;
    const right = Math.max(...Array.from(d.querySelectorAll('table, figure, svg, p, h2')).map((x) => x.getBoundingClientRect().right));
    return { scroll: d.documentElement.scrollWidth, client: d.documentElement.clientWidth, right };
  });
  assert.ok(widths.scroll <= widths.client, `page scrolls sideways: ${JSON.stringify(widths)}`);
  assert.ok(widths.right <= widths.client, `an element ends past the window: ${JSON.stringify(widths)}`);

  // Tables, not preformatted text; marks are words in coloured badges (no symbol font needed).
  assert.equal(await tab.locator('pre').count(), 0);
  assert.equal(await tab.locator('table.verdicts tbody tr').count(), p.verdicts.length);
  assert.deepEqual(await tab.locator('.mark').allTextContents(), ['PASS', 'FAIL']);
  for (const box of await tab
    .locator('.mark')
    .evaluateAll((ls) =>
      ls.map((l) => (l as unknown as { getBoundingClientRect(): { width: number; height: number } }).getBoundingClientRect()),
    ))
    assert.ok(box.height < 24 && box.width > box.height, `a mark broken over lines: ${JSON.stringify(box)}`);
  // Numbers as a reader wants them: no floating-point noise anywhere on the page.
  // (Table cells, paragraphs and captions, each read on its own: SVG tick labels would run together.)
  const text = (await tab.locator('td, th, p, figcaption, h1, h2, h3').allTextContents()).join(' | ');
  assert.equal(/.{0,40}\d\.\d{5,}.{0,20}/.exec(text)?.[0], undefined, 'a raw float on the page');
  assert.doesNotMatch(text, /NaN|undefined/);
  // The over-seeds table has one row per cell, intervals printed "mean ± half-width".
  const cellRows = tab.locator('h2:has-text("Results over the seeds") + table tbody tr');
  assert.equal(await cellRows.count(), POLICIES.length * USERS.length);
  assert.match((await cellRows.first().textContent()) ?? '', /\d+\.\d ± \d+\.\d/);

  // Error bars: one per policy and level for the mean and for the p95 (three seeds: each has an interval).
  assert.equal(await tab.locator('line.errorbar').count(), 2 * POLICIES.length * USERS.length);
  // CDFs: a line and a band over the seeds per policy and level, each drawn with a real extent.
  assert.equal(await tab.locator('polyline.cdf').count(), POLICIES.length * USERS.length);
  assert.equal(await tab.locator('polygon.band').count(), POLICIES.length * USERS.length);
  for (const box of await tab
    .locator('polygon.band')
    .evaluateAll((ls) =>
      ls.map((l) => (l as unknown as { getBoundingClientRect(): { width: number; height: number } }).getBoundingClientRect()),
    ))
    assert.ok(box.width > 20 && box.height > 50, `band box ${JSON.stringify(box)}`);

  // Traffic matrices: one per policy, each title an HTML caption shown whole (not clipped).
  const captions = tab.locator('h2:has-text("Traffic matrices") + .figures figcaption');
  assert.equal(await captions.count(), POLICIES.length);
  for (const c of await captions.evaluateAll((ls) =>
    ls.map((l) => {
      const x = l as unknown as {
        scrollWidth: number;
        clientWidth: number;
        scrollHeight: number;
        clientHeight: number;
        textContent: string;
      };
      return { sw: x.scrollWidth, cw: x.clientWidth, sh: x.scrollHeight, ch: x.clientHeight, text: x.textContent };
    }),
  )) {
    assert.ok(c.sw <= c.cw && c.sh <= c.ch, `caption clipped: ${JSON.stringify(c)}`);
    assert.match(c.text, /at 25 users: share of each gateway's requests per serving node/);
  }
  // Events: the timelines, and the delay step per seed and gateway in a table.
  assert.equal(await tab.locator('polyline.series').count(), 2 + 1 + p.runs[0]!.scenario.nodes.length);
  assert.equal(await tab.locator('h3:has-text("Delay step") + table tbody tr').count(), SEEDS.length * 2);

  assert.deepEqual(problems.console, []);
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.failedRequests, []);
});
