import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFixture } from '../peers/extproc-peer.js';
import type { Bench, BenchContext } from './types.js';

/**
 * ext_proc decision throughput and latency: the server runs here, the load client in a child
 * process (so process.cpuUsage() is the server's alone). Closed loop finds the max rate; an open
 * loop at half that rate measures latency without queueing from saturation.
 */

const here = dirname(fileURLToPath(import.meta.url));
const TOPOLOGY = `
nodes: [{ name: edge-1 }, { name: edge-2 }, { name: cloud-1 }]
latency: [{ from: edge-1, to: edge-2, rtt: 20 }, { from: edge-1, to: cloud-1, rtt: 50 }, { from: edge-2, to: cloud-1, rtt: 100 }]
services:
  - name: default/hello
    hosts: [hello.default.example.com]
    endpoints:
${[1, 2, 3, 4, 5, 6]
  .map((i) => `      - { address: 10.0.${i}.1, port: 8012, node: ${['edge-1', 'edge-2', 'cloud-1'][i % 3]}, capacity: 100000 }`)
  .join('\n')}
`;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface ClientOut {
  completed: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

function runClient(target: string, mode: 'closed' | 'open', value: number, durationMs: number): Promise<ClientOut> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(here, 'extproc-load.js'), target, mode, String(value), String(durationMs)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), durationMs + 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return fail(new Error(`load client exited ${code}`));
      try {
        ok(JSON.parse(out) as ClientOut);
      } catch (e) {
        fail(e as Error);
      }
    });
  });
}

interface Row {
  phase: string;
  offeredRps: number | string;
  decisions: number;
  decisionsPerSec: number;
  serverCpuSec: number;
  decisionsPerCpuSec: number;
  serverP50Us: number;
  serverP99Us: number;
  clientP50Ms: number;
  clientP99Ms: number;
  errors: number;
}

const bench: Bench = {
  name: 'extproc',
  description: 'ext_proc Process streams over loopback: decisions/s per server core, server and client latency at max and half rate',
  async run(ctx: BenchContext) {
    const durationMs = ctx.quick ? 2000 : 8000;
    const concurrency = ctx.quick ? 32 : 64;
    const server: number[] = [];
    const f = await startFixture({ onDecision: (s) => server.push(s * 1e6), rng: Math.random }, TOPOLOGY);
    try {
      const measure = async (phase: string, mode: 'closed' | 'open', value: number): Promise<Row> => {
        server.length = 0;
        const cpu0 = process.cpuUsage();
        // Two client processes for the closed loop: one grpc-js client saturates before the server does.
        const parts = await Promise.all(
          mode === 'closed'
            ? [runClient(f.target, mode, value, durationMs), runClient(f.target, mode, value, durationMs)]
            : [runClient(f.target, mode, value, durationMs)],
        );
        const c: ClientOut = { completed: 0, errors: 0, seconds: 0, latenciesMs: [] };
        for (const p of parts) {
          c.completed += p.completed;
          c.errors += p.errors;
          c.seconds = Math.max(c.seconds, p.seconds);
          for (const x of p.latenciesMs) c.latenciesMs.push(x);
        }
        const cpu = process.cpuUsage(cpu0);
        const cpuSec = (cpu.user + cpu.system) / 1e6;
        const row: Row = {
          phase,
          offeredRps: mode === 'open' ? value : `closed 2x${value}`,
          decisions: c.completed,
          decisionsPerSec: c.completed / c.seconds,
          serverCpuSec: cpuSec,
          decisionsPerCpuSec: c.completed / cpuSec,
          serverP50Us: pct(server, 50),
          serverP99Us: pct(server, 99),
          clientP50Ms: pct(c.latenciesMs, 50),
          clientP99Ms: pct(c.latenciesMs, 99),
          errors: c.errors,
        };
        ctx.progress(
          `${phase}: ${row.decisionsPerSec.toFixed(0)} decisions/s, ${row.decisionsPerCpuSec.toFixed(0)} per server CPU-s, client p99 ${row.clientP99Ms.toFixed(2)} ms`,
        );
        return row;
      };
      await runClient(f.target, 'closed', 8, 500); // warm up JIT and connections
      const max = await measure('max (closed loop)', 'closed', concurrency);
      const half = await measure('half of max (open loop)', 'open', Math.max(100, Math.round(max.decisionsPerSec / 2)));
      const rows = [max, half];
      const verdicts = [
        `decisions per server CPU-second ${max.decisionsPerCpuSec.toFixed(0)} >= 10000: ${max.decisionsPerCpuSec >= 10_000 ? 'PASS' : 'FAIL'}`,
        `client p99 at half rate ${half.clientP99Ms.toFixed(2)} ms < 2 ms: ${half.clientP99Ms < 2 ? 'PASS' : 'FAIL'} (2 shared cores: noisy)`,
      ];
      return {
        results: { durationMs, concurrency, rows },
        table: [
          [
            'phase',
            'offered rps',
            'decisions/s',
            'server CPU s',
            'decisions/CPU-s',
            'server p50 us',
            'server p99 us',
            'client p50 ms',
            'client p99 ms',
            'errors',
          ],
          ...rows.map((r) => [
            r.phase,
            r.offeredRps,
            r.decisionsPerSec,
            r.serverCpuSec,
            r.decisionsPerCpuSec,
            r.serverP50Us,
            r.serverP99Us,
            r.clientP50Ms,
            r.clientP99Ms,
            r.errors,
          ]),
        ],
        verdicts,
      };
    } finally {
      await f.close();
    }
  },
};

export default bench;
