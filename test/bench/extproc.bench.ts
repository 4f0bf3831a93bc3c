import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchContext } from './types.js';

/**
 * ext_proc decision throughput and latency, this implementation beside an earlier one in the same
 * run: the server runs in a child process built from this checkout or from `--extproc-baseline=REF`
 * (default: the last grpc-js-served implementation, built into a temp dir), or loaded from a build
 * made beforehand (`PROXIMA_EXTPROC_BASELINE_DIST=/path/to/dist`, named by
 * `PROXIMA_EXTPROC_BASELINE_LABEL`), the load clients in
 * two more, so each server's CPU time is its own. Closed loop finds the max rate; an open loop at
 * half that rate measures latency without queueing from saturation. Both are driven as Envoy drives
 * them with the shipped filter (response_headers SKIP: `headers`); this one also with `full`
 * (response_headers SEND). Where the client's p99 goes: beside it, the server's decision p99 and
 * the event-loop delay p99 of the server and of the client processes (a reply that is ready waits
 * that long for its process to run); the rest is HTTP/2 and the kernel on both sides.
 */

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '..', '..', '..');
/** The last implementation on grpc-js's server (its shipped filter already skips response_headers). */
const DEFAULT_BASELINE = 'e69c76b';
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

type Protocol = 'headers' | 'full';

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
  loopDelayP99Ms: number;
}

function runClient(target: string, mode: 'closed' | 'open', value: number, durationMs: number, protocol: Protocol): Promise<ClientOut> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(here, 'extproc-load.js'), target, mode, String(value), String(durationMs), protocol], {
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

interface ServerReport {
  cpuSec: number;
  decisions: number;
  p50Us: number;
  p99Us: number;
  loopDelayP99Ms: number;
}

class ServerProcess {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  static async start(distRoot: string, topologyFile: string): Promise<{ server: ServerProcess; target: string }> {
    const child = spawn(process.execPath, [join(here, 'extproc-server.js'), distRoot, topologyFile], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const server = new ServerProcess(child);
    const { target } = JSON.parse(await server.next()) as { target: string };
    return { server, target };
  }
  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error('ext_proc server process exited');
    return r.value;
  }
  start(): void {
    this.child.stdin.write('start\n');
  }
  async report(): Promise<ServerReport> {
    this.child.stdin.write('report\n');
    return JSON.parse(await this.next()) as ServerReport;
  }
  stop(): void {
    this.child.stdin.write('exit\n');
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
  }
}

/** `git archive REF` built into a temp dir with this checkout's node_modules; undefined (and why) when impossible. */
function buildBaseline(ref: string, progress: (m: string) => void): { dir?: string; why?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-extproc-baseline-'));
  const archive = spawnSync('sh', ['-c', `git -C "${REPO}" archive "${ref}" | tar -x -C "${dir}"`], { encoding: 'utf8' });
  if (archive.status !== 0) return { why: `git archive ${ref} failed: ${archive.stderr.trim()}` };
  symlinkSync(realpathSync(join(REPO, 'node_modules')), join(dir, 'node_modules'));
  progress(`building the baseline ${ref} in ${dir}`);
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0 || !existsSync(join(dir, 'dist', 'test', 'peers', 'extproc-peer.js')))
    return { why: `building ${ref} failed: ${tsc.stdout.slice(0, 400)}` };
  return { dir };
}

/** A baseline's dist/ folder built beforehand (its `test/peers/extproc-peer.js` is the server loaded). */
const BASELINE_DIST_ENV = 'PROXIMA_EXTPROC_BASELINE_DIST';
/** How the table names that baseline (default: the path), e.g. its commit. */
const BASELINE_LABEL_ENV = 'PROXIMA_EXTPROC_BASELINE_LABEL';

function prebuiltBaseline(dist: string): { dir?: string; why?: string; keep: boolean } {
  const dir = resolve(dist);
  return existsSync(join(dir, 'test', 'peers', 'extproc-peer.js'))
    ? { dir, keep: true }
    : { why: `${BASELINE_DIST_ENV}=${dist} has no test/peers/extproc-peer.js (give a build's dist/ folder)`, keep: true };
}

interface Row {
  implementation: string;
  protocol: Protocol;
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
  /** Server-side decision p99 as a share of the client-observed p99. */
  serverShareOfP99: number;
  /** Event-loop delay p99 of the server process and of the (slowest) client process. */
  serverLoopDelayP99Ms: number;
  clientLoopDelayP99Ms: number;
  errors: number;
}

async function measureImplementation(
  name: string,
  distRoot: string,
  protocol: Protocol,
  topologyFile: string,
  durationMs: number,
  concurrency: number,
  progress: (m: string) => void,
): Promise<Row[]> {
  const { server, target } = await ServerProcess.start(distRoot, topologyFile);
  try {
    const measure = async (phase: string, mode: 'closed' | 'open', value: number): Promise<Row> => {
      server.start();
      // Two client processes for the closed loop: one grpc-js client saturates before the server does.
      const parts = await Promise.all(
        mode === 'closed'
          ? [runClient(target, mode, value, durationMs, protocol), runClient(target, mode, value, durationMs, protocol)]
          : [runClient(target, mode, value, durationMs, protocol)],
      );
      const s = await server.report();
      const c: ClientOut = { completed: 0, errors: 0, seconds: 0, latenciesMs: [], loopDelayP99Ms: 0 };
      for (const p of parts) {
        c.completed += p.completed;
        c.errors += p.errors;
        c.seconds = Math.max(c.seconds, p.seconds);
        c.loopDelayP99Ms = Math.max(c.loopDelayP99Ms, p.loopDelayP99Ms);
        for (const x of p.latenciesMs) c.latenciesMs.push(x);
      }
      const clientP99Ms = pct(c.latenciesMs, 99);
      const row: Row = {
        implementation: name,
        protocol,
        phase,
        offeredRps: mode === 'open' ? value : `closed 2x${value}`,
        decisions: c.completed,
        decisionsPerSec: c.completed / c.seconds,
        serverCpuSec: s.cpuSec,
        decisionsPerCpuSec: c.completed / s.cpuSec,
        serverP50Us: s.p50Us,
        serverP99Us: s.p99Us,
        clientP50Ms: pct(c.latenciesMs, 50),
        clientP99Ms,
        serverShareOfP99: s.p99Us / 1000 / clientP99Ms,
        serverLoopDelayP99Ms: s.loopDelayP99Ms,
        clientLoopDelayP99Ms: c.loopDelayP99Ms,
        errors: c.errors,
      };
      progress(
        `${name} (${protocol}) ${phase}: ${row.decisionsPerSec.toFixed(0)} decisions/s, ${row.decisionsPerCpuSec.toFixed(0)} per server CPU-s, ` +
          `client p99 ${row.clientP99Ms.toFixed(2)} ms, server p99 ${(row.serverP99Us / 1000).toFixed(3)} ms, ` +
          `event-loop delay p99 server ${row.serverLoopDelayP99Ms.toFixed(2)} ms, client ${row.clientLoopDelayP99Ms.toFixed(2)} ms`,
      );
      return row;
    };
    await runClient(target, 'closed', 8, 500, protocol); // warm up JIT and connections
    const max = await measure('max (closed loop)', 'closed', concurrency);
    const half = await measure('half of max (open loop)', 'open', Math.max(100, Math.round(max.decisionsPerSec / 2)));
    return [max, half];
  } finally {
    server.stop();
  }
}

/** The client p99 beside the p99 of each part that can delay a reply (p99s do not add up: each is its own share). */
function p99Split(r: Row): string {
  const share = (ms: number) => `${ms.toFixed(3)} ms = ${((ms / r.clientP99Ms) * 100).toFixed(1)} %`;
  const server = r.serverP99Us / 1000;
  const rest = Math.max(0, r.clientP99Ms - server - r.serverLoopDelayP99Ms - r.clientLoopDelayP99Ms);
  return (
    `client ${r.clientP99Ms.toFixed(3)} ms: server decision ${share(server)}, server event-loop delay ${share(r.serverLoopDelayP99Ms)}, ` +
    `client event-loop delay ${share(r.clientLoopDelayP99Ms)}, rest (HTTP/2 + kernel, both sides) ${share(rest)}`
  );
}

const bench: Bench = {
  name: 'extproc',
  description:
    'ext_proc Process streams over loopback: decisions/s per server core, server and client latency at max and half rate, beside an earlier implementation',
  async run(ctx: BenchContext) {
    const durationMs = ctx.quick ? 2000 : 8000;
    const concurrency = ctx.quick ? 32 : 64;
    const refArg = process.argv.find((a) => a.startsWith('--extproc-baseline='))?.slice('--extproc-baseline='.length);
    // A build made beforehand (e.g. `git worktree add /tmp/extproc-prev REF` and `npm run build`
    // there): its dist/ is loaded by path, nothing is built here. Optional: CI sets nothing.
    const prebuilt = process.env[BASELINE_DIST_ENV];
    const baselineRef = prebuilt ? (process.env[BASELINE_LABEL_ENV] ?? prebuilt) : (refArg ?? DEFAULT_BASELINE);
    const work = mkdtempSync(join(tmpdir(), 'proxima-extproc-bench-'));
    const topologyFile = join(work, 'topology.yaml');
    writeFileSync(topologyFile, TOPOLOGY);
    const baseline: { dir?: string; why?: string; keep?: boolean } = prebuilt
      ? prebuiltBaseline(prebuilt)
      : baselineRef === 'none'
        ? { why: 'disabled (--extproc-baseline=none)' }
        : buildBaseline(baselineRef, ctx.progress);
    try {
      const rows: Row[] = [];
      if (baseline.dir)
        rows.push(
          ...(await measureImplementation(
            `baseline ${baselineRef}`,
            baseline.keep ? baseline.dir : join(baseline.dir, 'dist'),
            'headers',
            topologyFile,
            durationMs,
            concurrency,
            ctx.progress,
          )),
        );
      const distRoot = resolve(here, '..', '..');
      rows.push(...(await measureImplementation('this', distRoot, 'full', topologyFile, durationMs, concurrency, ctx.progress)));
      rows.push(...(await measureImplementation('this', distRoot, 'headers', topologyFile, durationMs, concurrency, ctx.progress)));
      const shipped = rows.filter((r) => r.implementation === 'this' && r.protocol === 'headers');
      const [max, half] = [shipped[0]!, shipped[1]!];
      const verdicts = [
        `decisions per server CPU-second ${max.decisionsPerCpuSec.toFixed(0)} >= 10000 (this, shipped filter settings): ${max.decisionsPerCpuSec >= 10_000 ? 'PASS' : 'FAIL'}`,
        `client p99 at half rate ${half.clientP99Ms.toFixed(2)} ms < 2 ms: ${half.clientP99Ms < 2 ? 'PASS' : 'FAIL'} (2 shared cores: noisy)`,
        `where the client p99 goes (each part's own p99, share of the client p99): ${p99Split(half)}`,
        ...(baseline.why ? [`baseline ${baselineRef} not measured: ${baseline.why}`] : []),
      ];
      return {
        results: { durationMs, concurrency, baselineRef, rows },
        table: [
          [
            'implementation',
            'filter',
            'phase',
            'offered rps',
            'decisions/s',
            'server CPU s',
            'decisions/CPU-s',
            'server p50 us',
            'server p99 us',
            'client p50 ms',
            'client p99 ms',
            'server share of p99',
            'server loop delay p99 ms',
            'client loop delay p99 ms',
            'errors',
          ],
          ...rows.map((r) => [
            r.implementation,
            r.protocol === 'headers' ? 'req headers only' : 'req+resp headers',
            r.phase,
            r.offeredRps,
            r.decisionsPerSec,
            r.serverCpuSec,
            r.decisionsPerCpuSec,
            r.serverP50Us,
            r.serverP99Us,
            r.clientP50Ms,
            r.clientP99Ms,
            `${(r.serverShareOfP99 * 100).toFixed(1)} %`,
            r.serverLoopDelayP99Ms,
            r.clientLoopDelayP99Ms,
            r.errors,
          ]),
        ],
        verdicts,
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
      if (baseline.dir && !baseline.keep) rmSync(baseline.dir, { recursive: true, force: true });
    }
  },
};

export default bench;
