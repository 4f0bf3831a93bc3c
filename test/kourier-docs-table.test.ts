/**
 * docs/operations.md "net-kourier compatibility" is kept true by reading it: every config-kourier
 * and config-network key Kourier honours (src/sources/kubernetes/gateway-config.ts) has one row
 * whose status is what the code does (done ↔ implemented, not yet ↔ reported as unsupported), no
 * row names a key the code does not know, and every done or differs row names a test file that
 * exists and mentions the row's subject (the key, or the quoted fragment).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/cli/paths.js';
import { KOURIER_KEYS, NETWORK_KEYS } from '../src/sources/kubernetes/gateway-config.js';

const STATUSES = new Set(['done', 'differs', 'not yet']);

interface Row {
  readonly subject: string;
  readonly status: string;
  readonly shownBy: string;
}

/** Table rows of the section `heading` (every table in it). */
export function compatibilityRows(markdown: string, heading = '## net-kourier compatibility'): Row[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return [];
  const end = markdown.indexOf('\n## ', start + heading.length + 2);
  const body = markdown.slice(start, end < 0 ? undefined : end);
  return body
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !/^\| (Kourier feature|Config key) \|/.test(l))
    .map((l) => l.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim()))
    .map(([subject, status, , shownBy]) => ({ subject: subject ?? '', status: status ?? '', shownBy: shownBy ?? '' }));
}

function problems(rows: readonly Row[], root: string): string[] {
  const out: string[] = [];
  const code = new Map<string, string>([
    ...Object.entries(KOURIER_KEYS).map(([k, v]) => [`config-kourier: ${k}`, v] as [string, string]),
    ...Object.entries(NETWORK_KEYS).map(([k, v]) => [`config-network: ${k}`, v] as [string, string]),
  ]);
  const keyRows = new Map<string, Row>();
  for (const r of rows) {
    if (!STATUSES.has(r.status)) out.push(`${r.subject}: status "${r.status}" is not done / differs / not yet`);
    const key = /^`(config-(?:kourier|network): [a-z0-9-]+)`$/.exec(r.subject)?.[1];
    if (key) {
      if (keyRows.has(key)) out.push(`${key}: two rows`);
      keyRows.set(key, r);
      const impl = code.get(key);
      if (!impl) out.push(`${key}: not a key the code knows`);
      else if ((impl === 'done') !== (r.status === 'done')) out.push(`${key}: the table says ${r.status}, the code says ${impl}`);
    }
    if (r.status === 'done' || r.status === 'differs') {
      const file = /`((?:test|src)\/[^`]+\.test\.ts)`/.exec(r.shownBy)?.[1];
      const fragment = /"([^"]+)"/.exec(r.shownBy)?.[1] ?? key?.split(': ')[1];
      if (!file) out.push(`${r.subject}: names no test`);
      else if (!existsSync(join(root, file))) out.push(`${r.subject}: ${file} does not exist`);
      else if (fragment && !readFileSync(join(root, file), 'utf8').includes(fragment))
        out.push(`${r.subject}: ${file} does not mention "${fragment}"`);
    }
  }
  for (const k of code.keys()) if (!keyRows.has(k)) out.push(`${k}: no row`);
  return out;
}

test('docs/operations.md: the net-kourier compatibility tables say what the code and tests do', () => {
  const root = packageRoot();
  const rows = compatibilityRows(readFileSync(join(root, 'docs', 'operations.md'), 'utf8'));
  assert.ok(rows.length > Object.keys(KOURIER_KEYS).length, `the tables were read (${rows.length} rows)`);
  assert.deepEqual(problems(rows, root), []);
});

test('the table check fails on planted errors', () => {
  const root = packageRoot();
  const planted = [
    '## net-kourier compatibility',
    '',
    '| Config key | Status | Proxima | Shown by |',
    '| --- | --- | --- | --- |',
    '| `config-kourier: enable-proxy-protocol` | not yet | x | — |',
    '| `config-kourier: enable-cryptomb` | done | x | `test/kourier-config.test.ts` |',
    '| `config-kourier: made-up` | not yet | x | — |',
    '| Something | done | x | `test/nope.test.ts` |',
    '| Other | maybe | x | — |',
    '',
  ].join('\n');
  const p = problems(compatibilityRows(`\n${planted}`), root);
  for (const want of [
    'enable-proxy-protocol: the table says not yet, the code says done',
    'enable-cryptomb: the table says done, the code says unsupported',
    'made-up: not a key the code knows',
    'Something: test/nope.test.ts does not exist',
    'Other: status "maybe"',
    'config-kourier: cipher-suites: no row',
  ])
    assert.ok(
      p.some((x) => x.includes(want)),
      `${want} in ${p.join(' | ')}`,
    );
});
