/**
 * A gateway played by a real @grpc/grpc-js-xds client in its own process (its own xDS node identity
 * from GRPC_XDS_BOOTSTRAP_CONFIG), generating load at an exact average rate so the LRS test knows
 * the demand it created. Protocol on stdin/stdout, one JSON object a line:
 *   (start)                                   ->  {"ready":true}   once one RPC succeeded
 *   {"cmd":"load","rps":40,"durationMs":4000} ->  {"sent":160,"ok":160,"errors":0,"elapsedMs":4001,"meanLatencyMs":50.6}
 *   {"cmd":"exit"}
 * Usage: node lrs-xds-client.js xds:///host
 */
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import { createInterface } from 'node:readline';
import { rawBytes } from '../src/util/grpc-raw.js';

const METHOD = '/proxima.test.Echo/Who';
const target = process.argv[2];
// `node --test dist/test` may run every file under test/; without a target do nothing.
if (!target) process.exit(0);
xds.register();
const Client = grpc.makeGenericClientConstructor({}, 'Echo');
const client = new Client(target, grpc.credentials.createInsecure());

function once(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      METHOD,
      rawBytes,
      rawBytes,
      Buffer.alloc(0),
      new grpc.Metadata({ waitForReady: true }),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null) => (err ? reject(err) : resolve()),
    );
  });
}

/** Open loop: at every tick, start as many calls as the schedule says are due (exact average rate). */
function load(
  rps: number,
  durationMs: number,
): Promise<{ sent: number; ok: number; errors: number; elapsedMs: number; meanLatencyMs: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    let sent = 0;
    let ok = 0;
    let errors = 0;
    let okLatencyMs = 0;
    const total = Math.round((rps * durationMs) / 1000);
    const finish = () => {
      if (ok + errors === total) resolve({ sent, ok, errors, elapsedMs: Date.now() - start, meanLatencyMs: ok ? okLatencyMs / ok : 0 });
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - start) * rps) / 1000));
      while (sent < due) {
        sent++;
        const sentAt = performance.now();
        once(5000).then(
          () => ((okLatencyMs += performance.now() - sentAt), ok++, finish()),
          () => (errors++, finish()),
        );
      }
      if (sent >= total) clearInterval(timer);
    }, 5);
  });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const msg = JSON.parse(line) as { cmd: string; rps?: number; durationMs?: number };
  if (msg.cmd === 'exit') {
    client.close();
    process.exit(0);
  }
  if (msg.cmd === 'load') void load(msg.rps ?? 10, msg.durationMs ?? 1000).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
});
rl.on('close', () => process.exit(0));
void once(15_000).then(
  () => process.stdout.write(JSON.stringify({ ready: true }) + '\n'),
  (err: Error) => {
    process.stderr.write(`warm-up failed: ${err.message}\n`);
    process.exit(1);
  },
);
