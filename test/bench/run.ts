import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchOutcome } from './types.js';

/**
 * `npm run bench [-- --quick] [-- name ...]`: runs every `*.bench.js` module in this folder (or the
 * named ones) one after another, writes reports/bench/<name>.json and prints a table per benchmark.
 */
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env['BENCH_QUICK'] === '1';
const only = args.filter((a) => !a.startsWith('--'));
const outDir = resolve(process.cwd(), 'reports', 'bench');

export function formatTable(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : c)));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
  const [head, ...body] = cells;
  if (!head) return '';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

/**
 * Each benchmark runs in a process of its own, so one benchmark's heap and garbage (1,000-node
 * models) cannot show up as another's tail latency.
 */
function runIsolated(files: readonly string[]): void {
  let failed = 0;
  for (const file of files) {
    const name = file.replace(/\.bench\.js$/, '');
    if (only.length > 0 && !only.includes(name)) continue;
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args, `--child=${file}`], {
      stdio: 'inherit',
    });
    if (r.status !== 0) failed++;
  }
  process.stdout.write(`\nreports written to ${outDir}\n`);
  if (failed > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const child = args.find((a) => a.startsWith('--child='))?.slice('--child='.length);
  const all = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .sort();
  if (!child) return runIsolated(all);
  const files = [child];
  mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
    const bench = mod.default;
    process.stderr.write(`\n== ${bench.name}: ${bench.description}${quick ? ' (quick)' : ''}\n`);
    const started = Date.now();
    let outcome: BenchOutcome;
    try {
      outcome = await bench.run({ quick, progress: (m) => process.stderr.write(`   ${bench.name}: ${m}\n`) });
    } catch (err) {
      failed++;
      process.stderr.write(`   ${bench.name} FAILED: ${(err as Error).stack ?? String(err)}\n`);
      continue;
    }
    const seconds = (Date.now() - started) / 1000;
    const report = {
      name: bench.name,
      description: bench.description,
      quick,
      seconds,
      node: process.version,
      date: new Date().toISOString(),
      results: outcome.results,
      verdicts: outcome.verdicts ?? [],
    };
    writeFileSync(join(outDir, `${bench.name}.json`), JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`\n### ${bench.name} (${seconds.toFixed(1)} s)\n\n${formatTable(outcome.table)}\n`);
    for (const v of outcome.verdicts ?? []) process.stdout.write(`- ${v}\n`);
  }
  if (failed > 0) process.exitCode = 1;
}

await main();
