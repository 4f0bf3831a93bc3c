import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { fixture } from '../../src/extender/testing.js';
import { probeProtos } from '../../src/probe/protocol.js';
import { RawClient, TypeUrl, node, sleep, type RawStream } from '../xds-protocol-client.js';
import type { Bench, BenchContext, BenchOutcome } from './types.js';

/**
 * Soak: a real `proxima serve` child process on loopback under mixed honest and abusive traffic,
 * time-compressed 20× (LRS interval and policy tick 100 ms instead of 2 s), so 90 s of wall time
 * is 30 minutes of protocol time. Honest: three gateways (ADS + LRS every interval) and three probe
 * agents. Abusive, every 100 ms: LRS streams from fresh ghost node ids with 64 KB locality names,
 * xDS streams with 1 MB node ids, 20,000-name subscriptions, ghost probe hellos, TCP connection
 * floods past the per-peer cap, and fake /prioritize calls. The serve process's RSS, open file
 * descriptors, open handles and /metrics series are sampled every 2 s; "flat" = the peak of the last
 * third of the run is within the stated margin of the peak of the middle third.
 */

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = resolve(here, '..', '..', 'src', 'cli', 'main.js');
const TOPOLOGY = resolve(here, '..', '..', '..', 'examples', 'topology.yaml');
const COMPRESSION = 20;
const RSS_MARGIN_MIB = 32;
const FD_MARGIN = 16;
/** New label values of bounded labels (e.g. a refusal reason seen for the first time) may still appear. */
const SERIES_MARGIN = 8;

interface Sample {
  readonly tS: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly openFds: number;
  /** libuv handles (sockets, timers, watchers) the serve process holds open. */
  readonly handles: number;
  readonly series: number;
}

async function startServe(): Promise<{ child: ChildProcess; xds: string; admin: string; extender: string }> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--topology',
      TOPOLOGY,
      '--policy',
      'proxima',
      ...[
        '--xds-listen',
        '127.0.0.1:0',
        '--extproc-listen',
        '127.0.0.1:0',
        '--extender-listen',
        '127.0.0.1:0',
        '--admin-listen',
        '127.0.0.1:0',
      ],
      ...['--lrs-interval-ms', String(2000 / COMPRESSION), '--recompute-interval-ms', String(2000 / COMPRESSION)],
      ...['--max-tracked-ids', '500', '--log-level', 'info'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolveUp, reject) => {
    const timer = setTimeout(() => reject(new Error('proxima serve did not come up within 20 s')), 20_000);
    lines.on('line', (line) => {
      if (!line.includes('proxima serve is up')) return;
      clearTimeout(timer);
      const a = (JSON.parse(line) as { addresses: Record<string, string> }).addresses;
      resolveUp({ child, xds: a['xds']!, admin: a['admin']!, extender: a['extender']! });
      lines.on('line', () => undefined); // keep draining the log
    });
    child.once('exit', (code) => reject(new Error(`proxima serve exited with ${code}`)));
  });
}

async function sample(admin: string, t0: number): Promise<Sample> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  const value = (name: string) => Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
  return {
    tS: (Date.now() - t0) / 1000,
    rssMiB: value('proxima_process_process_resident_memory_bytes') / 2 ** 20,
    heapMiB: value('proxima_process_nodejs_heap_size_used_bytes') / 2 ** 20,
    openFds: value('proxima_process_process_open_fds'),
    handles: value('proxima_process_nodejs_active_handles_total'),
    series: lines.length,
  };
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}

const lrsReport = (locality: string, n: number) => ({
  cluster_stats: [
    {
      cluster_name: 'default/hello',
      load_report_interval: { nanos: (2000 / COMPRESSION) * 1e6 },
      upstream_locality_stats: [
        { locality: { sub_zone: locality }, total_successful_requests: n, total_issued_requests: n, total_requests_in_progress: 1 },
      ],
    },
  ],
});

async function run(ctx: BenchContext): Promise<BenchOutcome> {
  // BENCH_SOAK_SECONDS runs a longer soak (e.g. 300 s = 100 min of protocol time) to tell a GC sawtooth from growth.
  const longer = Number(process.env['BENCH_SOAK_SECONDS']);
  const wallS = Number.isFinite(longer) && longer >= 30 ? Math.min(longer, 1800) : ctx.quick ? 30 : 90;
  const serve = await startServe();
  const honest = new RawClient(serve.xds);
  const abuser = new RawClient(serve.xds, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 8 << 20 });
  const probes = new (probeProtos().Client)(serve.xds, grpc.credentials.createInsecure());
  const ghosts = new (probeProtos().Client)(serve.xds, grpc.credentials.createInsecure());
  const gateways = ['edge-1', 'edge-2', 'cloud-1'];
  const keep: Array<RawStream<unknown>> = [];
  const agentCalls: grpc.ClientDuplexStream<unknown, unknown>[] = [];
  const counts = { honestReports: 0, ghostLrs: 0, hugeIds: 0, bigSubscriptions: 0, ghostHellos: 0, tcpFlood: 0, prioritize: 0 };
  const samples: Sample[] = [];
  const prioritizeArgs = JSON.parse(fixture('args-knative-nodenames.json')) as {
    Pod: { metadata: { uid?: string; name?: string; labels: Record<string, string> } };
    NodeNames: string[];
  };
  prioritizeArgs.Pod.metadata.labels['serving.knative.dev/service'] = 'hello';
  prioritizeArgs.NodeNames = gateways;
  try {
    const lrsStreams = gateways.map((g) => {
      const ads = honest.ads();
      ads.send({ node: node(`gw-${g}`, g), type_url: TypeUrl.Cluster });
      keep.push(ads as RawStream<unknown>);
      const lrs = honest.lrs();
      lrs.send({ node: node(`gw-${g}`, g) });
      keep.push(lrs as RawStream<unknown>);
      const agent = probes.Connect();
      agent.on('error', () => undefined);
      agent.resume();
      agent.write({ hello: { node: g, probe_address: `127.0.0.1:${9000 + gateways.indexOf(g)}` } });
      agentCalls.push(agent as unknown as grpc.ClientDuplexStream<unknown, unknown>);
      return lrs;
    });
    const t0 = Date.now();
    let tick = 0;
    let nextSample = 0;
    const port = Number(serve.xds.slice(serve.xds.lastIndexOf(':') + 1));
    while (Date.now() - t0 < wallS * 1000) {
      tick++;
      for (const [i, s] of lrsStreams.entries()) {
        s.send(lrsReport(gateways[(i + 1) % 3]!, 50));
        counts.honestReports++;
      }
      for (const [i, a] of agentCalls.entries()) {
        const now = Date.now();
        a.write({
          report: {
            node: gateways[i],
            sent_at_unix_ms: now,
            rows: gateways
              .filter((_, j) => j !== i)
              .map((peer) => ({ peer, rtt_ms: 20, reachable: true, samples: 3, measured_at_unix_ms: now })),
          },
        });
      }
      // Abuse.
      for (let k = 0; k < 5; k++) {
        const s = abuser.lrs();
        s.send({ node: node(`ghost-${tick}-${k}`), ...lrsReport(`${tick}`.padEnd(64 << 10, 'x'), 1000) });
        setTimeout(() => s.call.end(), 50);
        counts.ghostLrs++;
        const hello = ghosts.Connect();
        hello.on('error', () => undefined);
        hello.resume();
        hello.write({ hello: { node: `ghost-${tick}-${k}`, probe_address: `127.0.0.9:${1 + ((tick * 5 + k) % 60000)}` } });
        setTimeout(() => hello.end(), 50);
        counts.ghostHellos++;
      }
      if (tick % 5 === 0) {
        const huge = abuser.ads();
        huge.send({ node: node('n'.padEnd(1 << 20, 'x')), type_url: TypeUrl.Cluster });
        counts.hugeIds++;
        const big = abuser.ads();
        big.send({
          node: node('gw-big', 'edge-1'),
          type_url: TypeUrl.ClusterLoadAssignment,
          resource_names: Array.from({ length: 20_000 }, (_, i) => `default/x${i}`),
        });
        counts.bigSubscriptions++;
        const flood = Array.from({ length: 40 }, () => connect(port, '127.0.0.1').on('error', () => undefined));
        setTimeout(() => flood.forEach((f) => f.destroy()), 200);
        counts.tcpFlood += flood.length;
        prioritizeArgs.Pod.metadata.uid = `uid-${tick}`;
        prioritizeArgs.Pod.metadata.name = `pod-${tick}`;
        void fetch(`http://${serve.extender}/prioritize`, { method: 'POST', body: JSON.stringify(prioritizeArgs) }).then(
          (r) => r.arrayBuffer(),
          () => undefined,
        );
        counts.prioritize++;
      }
      if (Date.now() - t0 >= nextSample) {
        const s = await sample(serve.admin, t0);
        samples.push(s);
        ctx.progress(
          `t=${s.tS.toFixed(0)} s (${((s.tS * COMPRESSION) / 60).toFixed(1)} min equiv): RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, fds ${s.openFds}, handles ${s.handles}, series ${s.series}`,
        );
        nextSample += 2000;
      }
      await sleep(2000 / COMPRESSION);
    }
    samples.push(await sample(serve.admin, t0));
  } finally {
    for (const s of keep) s.close();
    for (const a of agentCalls) a.cancel();
    honest.close();
    abuser.close();
    probes.close();
    ghosts.close();
    serve.child.kill('SIGTERM');
  }
  // RSS and heap move in a GC sawtooth, so a straight-line fit over a short window reads the phase of
  // the sawtooth; "flat" compares the peaks of the middle and last thirds (after the warm-up third),
  // and the least-squares slope over the last two thirds is reported alongside.
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const peak = (xs: readonly Sample[], f: (s: Sample) => number) => Math.max(...xs.map(f));
  const growth = (f: (s: Sample) => number) => peak(last, f) - peak(middle, f);
  const tail = samples.slice(third);
  const slopePer30Min = (f: (s: Sample) => number) =>
    (slope(
      tail.map((s) => s.tS),
      tail.map(f),
    ) *
      30 *
      60) /
    COMPRESSION;
  const rssGrowth = growth((s) => s.rssMiB);
  const fdGrowth = growth((s) => s.openFds);
  const handleGrowth = growth((s) => s.handles);
  const seriesGrowth = growth((s) => s.series);
  const rssSlope = slopePer30Min((s) => s.rssMiB);
  const verdict = (v: number, margin: number) => (v <= margin ? 'PASS' : 'FAIL');
  const verdicts = [
    `RSS peak, last third vs middle third: ${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)} MiB, margin ${RSS_MARGIN_MIB} MiB: ${verdict(rssGrowth, RSS_MARGIN_MIB)} (least-squares slope over the last two thirds: ${rssSlope.toFixed(1)} MiB per 30 min equivalent)`,
    `open fds peak growth: ${fdGrowth}, margin ${FD_MARGIN}: ${verdict(fdGrowth, FD_MARGIN)}`,
    `open handles peak growth: ${handleGrowth}, margin ${FD_MARGIN}: ${verdict(handleGrowth, FD_MARGIN)}`,
    `/metrics series peak growth: ${seriesGrowth}, margin ${SERIES_MARGIN}: ${verdict(seriesGrowth, SERIES_MARGIN)}`,
  ];
  const table: Array<Array<string | number>> = [['wall s', 'equiv min', 'RSS MiB', 'heap MiB', 'open fds', 'handles', 'series']];
  for (const s of samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || i === samples.length - 1))
    table.push([Math.round(s.tS), Math.round((s.tS * COMPRESSION) / 60), s.rssMiB, s.heapMiB, s.openFds, s.handles, s.series]);
  return {
    results: {
      compression: COMPRESSION,
      wallS,
      counts,
      samples,
      rssGrowthMiB: rssGrowth,
      rssSlopeMiBPer30Min: rssSlope,
      fdGrowth,
      handleGrowth,
      seriesGrowth,
    },
    table,
    verdicts,
  };
}

const bench: Bench = {
  name: 'soak',
  description: `mixed honest + abusive traffic against proxima serve, ${COMPRESSION}× time-compressed (90 s = 30 min of protocol time; BENCH_SOAK_SECONDS for longer)`,
  run,
};
export default bench;
