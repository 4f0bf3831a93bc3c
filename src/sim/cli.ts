#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FULL_OPTIONS, QUICK_OPTIONS, runBenchmark, verdicts } from './benchmark.js';
import { cdfSvg, markdownReport } from './report.js';
import { parseToolArgs } from '../util/tool-args.js';

/** `npm run bench:policy [-- --quick] [-- --seed N] [-- --out DIR]`: the policy simulator. */
const HELP = `proxima policy simulator (npm run bench:policy -- [options])

Simulates the FaaSt experiment (3 edge nodes + 1 cloud node, edge↔cloud 50 ± 10 and 100 ± 20 ms,
users 5..50 × 10 req/s at the edge, Poisson) and compares the routing policies even, nearest, faast,
proxima and oracle. Deterministic for a given seed.

Options:
  --seed N        random seed (default 1)
  --quick         one scenario, 4 load levels, 30 s simulated per run (~seconds)
  --out DIR       report directory (default reports/policy-sim); writes results.json,
                  results.md and cdf-<scenario>.svg
  --strict        exit with status 1 when a target is missed
  -h, --help      this text
`;

function main(): number {
  const values = parseToolArgs(
    {
      seed: { type: 'string', default: '1' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'reports/policy-sim' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    HELP,
  );
  if (typeof values === 'number') return values;
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) {
    process.stderr.write(`--seed must be an integer, got "${values.seed}"\n`);
    return 2;
  }
  const started = Date.now();
  const base = values.quick ? QUICK_OPTIONS : FULL_OPTIONS;
  const reports = runBenchmark({ ...base, seed, progress: (m) => process.stderr.write(`policy-sim: ${m}\n`) });
  const checks = verdicts(reports);
  const seconds = (Date.now() - started) / 1000;
  const outDir = resolve(process.cwd(), values.out!);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'results.json'),
    JSON.stringify(
      { seed, quick: values.quick, seconds, date: new Date().toISOString(), node: process.version, scenarios: reports, verdicts: checks },
      null,
      1,
    ) + '\n',
  );
  const md = markdownReport(reports, checks, { seed, quick: Boolean(values.quick), seconds });
  writeFileSync(join(outDir, 'results.md'), md);
  const panels =
    base.users.length > 3
      ? [base.users[0]!, base.users[Math.floor(base.users.length / 2)]!, base.users[base.users.length - 1]!]
      : base.users;
  for (const r of reports) writeFileSync(join(outDir, `cdf-${r.scenario}.svg`), cdfSvg(r, panels));
  process.stdout.write(md);
  process.stdout.write(`\nreports written to ${outDir}\n`);
  return values.strict && checks.some((c) => !c.pass) ? 1 : 0;
}

process.exitCode = main();
