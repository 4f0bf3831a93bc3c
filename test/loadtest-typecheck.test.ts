import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOADTEST_DIR } from './loadtest-k6-shim.js';

/** `npm run typecheck:loadtest`: the k6 scripts type-check against @types/k6 (k6 is not installable here). */

const ROOT = join(LOADTEST_DIR, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function tsc(project: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [TSC, '-p', project, '--noEmit', '--pretty', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('loadtest/*.ts type-check against @types/k6 with no errors', () => {
  const r = tsc(join(LOADTEST_DIR, 'tsconfig.json'));
  assert.equal(r.status, 0, `tsc -p loadtest/tsconfig.json reported:\n${r.output}`);
});

test('the type-check catches k6 API misuse (negative control)', (t) => {
  const dir = mkdtempSync(join(LOADTEST_DIR, '.typecheck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['bad.ts'] }));
  writeFileSync(
    join(dir, 'bad.ts'),
    [
      "import http from 'k6/http';",
      "import { Trend } from 'k6/metrics';",
      'export const options = { scenarios: {} };',
      'export default function (): void {',
      '  http.get(42);',
      "  new Trend('x').add('slow');",
      '}',
      '',
    ].join('\n'),
  );
  const r = tsc(join(dir, 'tsconfig.json'));
  assert.notEqual(r.status, 0);
  assert.match(r.output, /bad\.ts\(5,\d+\): error TS2345/);
  assert.match(r.output, /bad\.ts\(6,\d+\): error TS2345/);
});
