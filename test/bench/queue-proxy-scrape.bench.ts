import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueProxyScraper, type ScrapeTarget } from '../../src/probe/queue-proxy/scraper.js';
import type { Bench, BenchContext } from './types.js';

/**
 * The node agent's queue-proxy job on a node with 200 pods: one scrape round (both metric ports of
 * every pod, 16 at a time, over kept-alive loopback connections, parse, per-pod deltas, per-revision
 * aggregates). The pods run in a child process, so process.cpuUsage() here is the scraper's alone.
 */

const here = dirname(fileURLToPath(import.meta.url));

function startPods(n: number): Promise<{ targets: ScrapeTarget[]; stop(): void }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(here, 'queue-proxy-pods.js'), String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error('pods did not start within 60 s'));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      const ports = JSON.parse(out) as Array<{ pod: string; service: string; autometricPort: number; usermetricPort: number }>;
      ok({
        targets: ports.map((p) => ({ ...p, host: '127.0.0.1' })),
        stop: () => child.stdin.end(),
      });
    });
    child.on('exit', (code) => code !== 0 && code !== null && fail(new Error(`pods exited ${code}`)));
  });
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const bench: Bench = {
  name: 'queue-proxy-scrape',
  description: 'node agent scraping the queue-proxies of 200 pods (9090 protobuf + 9091 text): CPU, bytes and time per round',
  async run(ctx: BenchContext) {
    const pods = ctx.quick ? 50 : 200;
    const rounds = ctx.quick ? 5 : 20;
    const { targets, stop } = await startPods(pods);
    const scraper = new QueueProxyScraper({ timeoutMs: 1000, concurrency: 16 });
    try {
      await scraper.round(targets); // baseline scrape: connections opened, first deltas
      const cpuMs: number[] = [];
      const wallMs: number[] = [];
      const bytes: number[] = [];
      let failed = 0;
      for (let r = 0; r < rounds; r++) {
        await new Promise((res) => setTimeout(res, 100));
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const signals = await scraper.round(targets);
        wallMs.push(performance.now() - t0);
        const cpu = process.cpuUsage(cpu0);
        cpuMs.push((cpu.user + cpu.system) / 1000);
        bytes.push(scraper.lastRound.bytes);
        failed += scraper.lastRound.podsFailed;
        if (signals.length !== 20) throw new Error(`expected 20 revisions, got ${signals.length}`);
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      ctx.progress(
        `${pods} pods, ${rounds} rounds: CPU ${mean(cpuMs).toFixed(1)} ms, ${Math.round(mean(bytes))} bytes, wall ${mean(wallMs).toFixed(1)} ms per round`,
      );
      const results = {
        pods,
        rounds,
        concurrency: 16,
        failedScrapes: failed,
        cpuMsPerRound: { mean: mean(cpuMs), p50: pct(cpuMs, 50), max: Math.max(...cpuMs) },
        wallMsPerRound: { mean: mean(wallMs), p50: pct(wallMs, 50), max: Math.max(...wallMs) },
        bytesPerRound: { mean: mean(bytes), perPod: mean(bytes) / pods },
        cpuMsPerPod: mean(cpuMs) / pods,
      };
      return {
        results,
        table: [
          ['pods', 'rounds', 'CPU ms / round (mean, max)', 'wall ms / round (p50, max)', 'bytes / round', 'bytes / pod', 'failed'],
          [
            pods,
            rounds,
            `${mean(cpuMs).toFixed(1)}, ${Math.max(...cpuMs).toFixed(1)}`,
            `${pct(wallMs, 50).toFixed(1)}, ${Math.max(...wallMs).toFixed(1)}`,
            Math.round(mean(bytes)),
            Math.round(mean(bytes) / pods),
            failed,
          ],
        ],
        verdicts: [`CPU per round at a 2 s interval: ${((mean(cpuMs) / 2000) * 100).toFixed(2)} % of one core`],
      };
    } finally {
      scraper.close();
      stop();
    }
  },
};

export default bench;
