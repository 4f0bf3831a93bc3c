import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultTopologyPath, packageRoot } from '../src/cli/paths.js';
import { startServe, type ServeOptions } from '../src/cli/serve.js';
import { silentLogger } from '../src/log.js';
import { openBrowser, requireChromium } from './ui-browser.js';
import { testServeOptions } from './helpers/serve-options.js';

/**
 * The live /ui page of `proxima serve` in headless Chromium: it renders the RTT and traffic
 * images and one assignments row per service × gateway, with no console errors or failed
 * requests; an edit of the watched topology file shows up on the open page within seconds.
 * UPDATE_SCREENSHOTS=1 also writes docs/ui.png (the README's screenshot).
 */

// The browser's document, as far as the page functions below use it (this project has no DOM lib).
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
};

const serveOptions = (topologyPath: string): ServeOptions => testServeOptions({ topologyPath });

/** A fourth node with its own pod of default/hello. */
const EDGE3 = {
  node: '  - { name: edge-3, zone: edge-c, region: edge }\n',
  latency: '  - { from: edge-3, to: edge-1, rtt: 15 }\n  - { from: edge-3, to: cloud-1, rtt: 70 }\n',
  endpoint: '      - { address: 127.0.0.1, port: 9004, node: edge-3, ready: true, capacity: 10 }\n',
};

function withEdge3(yaml: string): string {
  const lines = yaml.split('\n');
  const at = (prefix: string) => {
    const i = lines.findIndex((l) => l.startsWith(prefix));
    assert.ok(i >= 0, `examples/topology.yaml has a line starting with "${prefix}"`);
    return i;
  };
  // Insert from the bottom up so earlier indexes stay valid.
  lines.splice(at('      - { address: 127.0.0.1, port: 9003'), 0, EDGE3.endpoint.trimEnd());
  lines.splice(at('  - { from: edge-1, to: edge-2'), 0, ...EDGE3.latency.trimEnd().split('\n'));
  lines.splice(at('  - { name: edge-1'), 0, EDGE3.node.trimEnd());
  return lines.join('\n');
}

interface AssignmentsJson {
  generation: number;
  services: Record<string, { gateways: Record<string, unknown> }>;
}

test('/ui in Chromium: images, one row per service × gateway, live update after a topology edit', async (t) => {
  if (!requireChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'proxima-ui-live-'));
  const topology = join(dir, 'topology.yaml');
  copyFileSync(defaultTopologyPath(), topology);
  const handle = await startServe(serveOptions(topology), silentLogger());
  let closed = false;
  const closeServe = async () => {
    if (!closed) await handle.close();
    closed = true;
  };
  t.after(async () => {
    await closeServe();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://${handle.addresses.admin}`;
  const assignments = async () => (await (await fetch(`${base}/debug/assignments`)).json()) as AssignmentsJson;
  const expectedRows = (a: AssignmentsJson) =>
    Object.entries(a.services).flatMap(([s, v]) => Object.keys(v.gateways).map((g) => `${s} ${g}`));

  const { page, problems } = await openBrowser(t);
  await page.goto(`${base}/ui`, { waitUntil: 'load' });
  assert.equal(await page.title(), 'Proxima — live routing');
  await page.waitForFunction(() => /policy nearest/.test(document.getElementById('status')?.textContent ?? ''));
  const imagesLoaded = () =>
    page.waitForFunction(() =>
      ['rtt', 'traffic'].every((id) => {
        const img = document.getElementById(id) as unknown as { complete: boolean; naturalWidth: number } | null;
        return img !== null && img.complete && img.naturalWidth > 0;
      }),
    );
  await imagesLoaded();
  const rttWidth = () => page.locator('#rtt').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
  const widthBefore = await rttWidth();
  assert.ok((await page.locator('#traffic').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0);

  const tableRows = () =>
    page.locator('#assignments tbody tr').evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')]
          .slice(0, 2)
          .map((td) => td.textContent)
          .join(' '),
      ),
    );
  const before = await assignments();
  const rows = await tableRows();
  assert.deepEqual(rows, expectedRows(before));
  for (const service of ['default/hello', 'default/echo-grpc'])
    for (const node of ['edge-1', 'edge-2', 'cloud-1'])
      assert.ok(rows.includes(`${service} ${node}`), `row for ${service} at gateway ${node}`);
  assert.match((await page.locator('#assignments tbody tr', { hasText: /^default\/helloedge-2/ }).textContent()) ?? '', /edge-2 p0 100%/);

  // Edit the watched file: the open page must follow without a reload.
  const editedAt = Date.now();
  writeFileSync(topology, withEdge3(readFileSync(topology, 'utf8')));
  await page.waitForFunction(
    () => [...document.querySelectorAll('#assignments tbody tr')].some((tr) => /^default\/helloedge-3/.test(tr.textContent ?? '')),
    undefined,
    { timeout: 8000 },
  );
  const updateMs = Date.now() - editedAt;
  assert.ok(updateMs < 6000, `page updated ${updateMs} ms after the edit`);
  const after = await assignments();
  assert.ok(after.generation > before.generation);
  await page.waitForFunction(
    (g) => new RegExp(`generation ${g}\\b`).test(document.getElementById('status')?.textContent ?? ''),
    after.generation,
  );
  assert.deepEqual(await tableRows(), expectedRows(after));
  const edge3Row = (await page.locator('#assignments tbody tr', { hasText: /^default\/helloedge-3/ }).textContent()) ?? '';
  assert.match(edge3Row, /edge-3 p0 100%/, 'nearest keeps edge-3 traffic on its own pod');
  await imagesLoaded();
  await page.waitForFunction((w) => (document.getElementById('rtt') as unknown as { naturalWidth: number }).naturalWidth > w, widthBefore);

  const shot = join(dir, 'ui.png');
  await page.screenshot({ path: shot, fullPage: true });
  const png = readFileSync(shot);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(png.length > 10_000 && png.length < 1_000_000, `screenshot ${png.length} bytes`);
  if (process.env.UPDATE_SCREENSHOTS) {
    const target = join(packageRoot(), 'docs', 'ui.png');
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(shot, target);
  }

  assert.deepEqual(problems.console, []);
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.failedRequests, []);

  // A refused edit: the page shows the warning with the line and what is still in force; a fix clears it.
  const good = readFileSync(topology, 'utf8');
  writeFileSync(topology, good.replace('rtt: 20', 'rtt: *oops'));
  await page.waitForFunction(() => /was refused/.test(document.getElementById('topology-warning')?.textContent ?? ''), undefined, {
    timeout: 8000,
  });
  const warning = (await page.locator('#topology-warning').textContent()) ?? '';
  assert.match(warning, /the last good one is in force \([0-9a-f]+, applied \S+\):\nline \d+, column \d+: \(document\): alias \*oops/);
  assert.ok(await page.locator('#topology-warning').isVisible());
  writeFileSync(topology, good);
  await page.waitForFunction(() => (document.getElementById('topology-warning') as unknown as { hidden: boolean }).hidden, undefined, {
    timeout: 8000,
  });

  // Control plane gone: the page says so instead of showing stale data silently.
  await closeServe();
  await page.waitForFunction(() => /cannot reach the control plane/.test(document.getElementById('status')?.textContent ?? ''), undefined, {
    timeout: 6000,
  });
});
