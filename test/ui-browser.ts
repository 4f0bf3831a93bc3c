import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Headless Debian Chromium for the UI checks (playwright-core drives it over CDP; no bundled
 * browser download). Missing Chromium: skip locally, fail under CI (.ci/setup.sh installs it).
 */

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Problems a page must not have: console errors, uncaught exceptions, failed or 4xx/5xx requests. */
export interface PageProblems {
  readonly console: string[];
  readonly pageErrors: string[];
  readonly failedRequests: string[];
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: PageProblems;
}

/** True when the test may go on; otherwise it was skipped (or failed under CI) with a message. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const why = `${CHROMIUM_PATH} not found (Debian package chromium; .ci/setup.sh installs it)`;
  if (process.env.CI) throw new Error(`${why}: required under CI`);
  t.skip(why);
  return false;
}

/** Launch with a fresh user-data-dir; closed and removed when the test ends. */
export async function openBrowser(t: TestContext, viewport = { width: 1200, height: 900 }): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'proxima-ui-'));
  // launchPersistentContext is how Playwright passes --user-data-dir.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    viewport,
    timeout: 30_000,
  });
  t.after(async () => {
    await context.close().catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true });
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: PageProblems = { console: [], pageErrors: [], failedRequests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.console.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? 'failed';
    // A page that swaps an <img> src while the previous load is in flight cancels that load
    // (net::ERR_ABORTED): superseded, not failed. Any other image error still counts.
    if (r.resourceType() === 'image' && why === 'net::ERR_ABORTED') return;
    problems.failedRequests.push(`${r.method()} ${r.url()}: ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.failedRequests.push(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`);
  });
  return { context, page, problems };
}
