import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DemoResults, PolicyResult } from '../src/emulator/experiment.js';
import { reportHtml } from '../src/emulator/report.js';
import { faastScenario } from '../src/emulator/scenario.js';
import { summarise, timeline, type RequestRecord } from '../src/emulator/stats.js';
import { exponential, mulberry32 } from '../src/util/rng.js';
import { openBrowser, requireChromium } from './ui-browser.js';

/** The demo's self-contained HTML report, rendered from a small synthetic run and opened in Chromium. */

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

function syntheticResults(): DemoResults {
  const scenario = { ...faastScenario('quick', 7), users: USERS };
  const comparison: PolicyResult[] = POLICIES.map((p, pi) => ({
    policy: p.policy,
    levels: USERS.map((users, li) => {
      const r = records(100 * pi + li, p.remoteShare, 400);
      const quantilesMs = r
        .filter((x) => x.ok)
        .map((x) => x.latencyMs)
        .sort((a, b) => a - b);
      return { users, summary: summarise(r), quantilesMs };
    }),
  }));
  const ev = records(999, 0.05, 600);
  const edge1 = ev.filter((r) => r.gateway === 'edge-1');
  return {
    scenario,
    comparison,
    events: {
      policy: 'proxima',
      users: 5,
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
      },
    },
  };
}

test('demo report opens from file:// in Chromium: CDF and timeline SVGs render, no console errors', async (t) => {
  if (!requireChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'proxima-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const results = syntheticResults();
  const file = join(dir, 'report.html');
  writeFileSync(file, reportHtml(results, []));

  const { page, problems } = await openBrowser(t);
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

  assert.equal(await page.title(), 'Proxima demo report');
  // One CDF chart per load level, one line per policy in each.
  const cdfCharts = page.locator('svg:has(polyline.cdf)');
  assert.equal(await cdfCharts.count(), USERS.length);
  assert.equal(await page.locator('polyline.cdf').count(), USERS.length * POLICIES.length);
  for (let i = 0; i < USERS.length; i++) {
    const series = await cdfCharts
      .nth(i)
      .locator('polyline.cdf')
      .evaluateAll((ls) => ls.map((l) => l.getAttribute('data-series')));
    assert.deepEqual(series, ['even', 'proxima']);
  }
  // Each CDF line is drawn: it has a real extent on screen and many points.
  const boxes = await page.locator('polyline.cdf').evaluateAll((ls) =>
    ls.map((l) => {
      const r = (l as unknown as { getBoundingClientRect(): { width: number; height: number } }).getBoundingClientRect();
      return { width: r.width, height: r.height };
    }),
  );
  for (const box of boxes) {
    assert.ok(box.width > 50 && box.height > 50, `CDF line box ${JSON.stringify(box)}`);
  }
  const points = await page.locator('polyline.cdf').first().getAttribute('points');
  assert.ok((points ?? '').split(' ').length > 100, 'CDF line has its points');
  // Events: latency (mean, p95), failed RPCs, and where edge-1's requests are served (one line per node).
  assert.equal(await page.locator('polyline.series').count(), 2 + 1 + results.scenario.nodes.length);
  // Traffic matrices at the top load level, one per policy.
  assert.equal((await page.locator('h2:has-text("Traffic matrices") ~ svg').count()) >= POLICIES.length, true);
  assert.match((await page.locator('pre').textContent()) ?? '', /\| proxima \| 25 /);

  assert.deepEqual(problems.console, []);
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.failedRequests, []);
});
