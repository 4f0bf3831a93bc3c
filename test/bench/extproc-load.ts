/**
 * Load client for extproc.bench (runs in its own process so the server's CPU time is its own): one
 * ext_proc exchange per request over loopback, as Envoy does with the given processing mode:
 * `headers` (request_headers → reply → end: response_header_mode SKIP, shipped now) or `full`
 * (request_headers → reply → response_headers → reply → end: response_header_mode SEND, as before).
 *
 * argv: TARGET MODE(closed|open) VALUE(concurrency | rate/s) DURATION_MS [PROTOCOL(headers|full), default full]
 * stdout: one JSON line {completed, errors, seconds, latenciesMs: number[] (request_headers round trips),
 *   loopDelayP99Ms (this client's event-loop delay)}
 * The client speaks HTTP/2 directly (src/emulator/extproc-h2.ts), as cheaply as Envoy's C++ client
 * would relative to the server, so that the client is not what saturates first.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { encodeRequest } from '../../src/extproc/codec.js';
import { ExtProcH2Channel } from '../../src/emulator/extproc-h2.js';

const [target, mode, valueArg, durationArg, protocolArg] = process.argv.slice(2);
const full = protocolArg !== 'headers';
const value = Number(valueArg);
const durationMs = Number(durationArg);
const nodes = ['edge-1', 'edge-2', 'cloud-1'];
const reqs = nodes.map((n) =>
  encodeRequest({
    request_headers: {
      headers: {
        headers: Object.entries({
          ':method': 'GET',
          ':path': '/',
          ':authority': 'hello.default.example.com',
          'x-proxima-node': n,
          'user-agent': 'bench',
          'x-request-id': '0b3d6c3e-5d1c-4a57-9bb4-0e8c9f8d1a11',
        }).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })),
      },
      end_of_stream: true,
    },
  }),
);
const resp = encodeRequest({ response_headers: { headers: { headers: [{ key: ':status', raw_value: Buffer.from('200') }] } } });

let channel: ExtProcH2Channel;
/** This client's own event-loop delay: how late it could see a reply that had arrived. */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
const latencies: number[] = [];
let completed = 0;
let errors = 0;
let inflight = 0;
let seq = 0;

function exchange(): Promise<void> {
  inflight++;
  return new Promise<void>((done) => {
    let n = 0;
    const t0 = performance.now();
    const stream = channel.open({
      message() {
        n++;
        if (n === 1) {
          latencies.push(performance.now() - t0);
          if (full) stream.write(resp);
          else stream.end();
        } else if (n === 2) stream.end();
      },
      done(status) {
        inflight--;
        if (status === 0 && n >= 1) completed++;
        else errors++;
        done();
      },
    });
    stream.write(reqs[seq++ % reqs.length]!);
  });
}

async function main(): Promise<void> {
  channel = new ExtProcH2Channel(target!);
  // Connect (and warm this process) before the clock starts.
  await exchange();
  completed = 0;
  errors = 0;
  latencies.length = 0;
  loopDelay.enable();
  const started = performance.now();
  const end = started + durationMs;
  if (mode === 'closed') {
    const worker = async (): Promise<void> => {
      while (performance.now() < end) await exchange();
    };
    await Promise.all(Array.from({ length: value }, worker));
  } else {
    // Open loop: start streams on schedule whatever the replies do (bounded to avoid runaway).
    let startedCount = 0;
    await new Promise<void>((ok) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (now >= end) {
          clearInterval(timer);
          ok();
          return;
        }
        const due = Math.floor(((now - started) / 1000) * value);
        while (startedCount < due && inflight < 2000) {
          startedCount++;
          void exchange();
        }
      }, 1);
    });
    while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  loopDelay.disable();
  const loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
  process.stdout.write(JSON.stringify({ completed, errors, seconds, latenciesMs: latencies, loopDelayP99Ms }) + '\n');
  channel.close();
}

// `node --test dist/test` also loads every file under test/: without arguments, do nothing.
if (target && mode) await main();
