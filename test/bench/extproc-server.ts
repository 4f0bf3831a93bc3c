/**
 * ext_proc server process for extproc.bench: serves the bench topology from the build given on the
 * command line (this checkout's dist, or a build of an earlier commit for the side-by-side), so the
 * server's CPU time is its own and both implementations run under the same conditions.
 *
 * argv: DIST_ROOT (a build's dist/ folder) TOPOLOGY_FILE
 * stdout: `{"target": "127.0.0.1:PORT"}` once listening, then one JSON line per `report` command
 * stdin: `start` (reset counters), `report` ({cpuSec, decisions, p50Us, p99Us, loopDelayP99Ms}), `exit`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

interface PeerModule {
  startFixture(
    opts: { onDecision: (s: number) => void; rng: () => number; onDemand: () => void },
    topology: string,
  ): Promise<{ target: string; close(): Promise<void> }>;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(distRoot: string, topologyFile: string): Promise<void> {
  const peer = (await import(pathToFileURL(join(distRoot, 'test', 'peers', 'extproc-peer.js')).href)) as PeerModule;
  let decisionsUs: number[] = [];
  // As `proxima serve` runs it: routed requests counted as demand (an earlier build ignores the option).
  const f = await peer.startFixture(
    { onDecision: (s) => decisionsUs.push(s * 1e6), rng: Math.random, onDemand: () => undefined },
    readFileSync(topologyFile, 'utf8'),
  );
  process.stdout.write(JSON.stringify({ target: f.target }) + '\n');
  let cpu0 = process.cpuUsage();
  // How long a ready stream can wait for this process's event loop (the server's own queueing).
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = line.trim();
    if (cmd === 'start') {
      decisionsUs = [];
      cpu0 = process.cpuUsage();
      loopDelay.reset();
      loopDelay.enable();
    } else if (cmd === 'report') {
      const cpu = process.cpuUsage(cpu0);
      loopDelay.disable();
      const sorted = Float64Array.from(decisionsUs).sort();
      process.stdout.write(
        JSON.stringify({
          cpuSec: (cpu.user + cpu.system) / 1e6,
          decisions: sorted.length,
          p50Us: pct(sorted, 50),
          p99Us: pct(sorted, 99),
          loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        }) + '\n',
      );
    } else if (cmd === 'exit') break;
  }
  await f.close();
  process.exit(0);
}

const [distRoot, topologyFile] = process.argv.slice(2);
// `node --test dist/test` also loads every file under test/: without arguments, do nothing.
if (distRoot && topologyFile) await main(distRoot, topologyFile);
