/**
 * A gateway played by a real @grpc/grpc-js-xds client in its own process (own xDS node identity
 * from GRPC_XDS_BOOTSTRAP_CONFIG). Unlike test/peers/grpcjs-client.ts it can also send at a steady
 * rate without wait-for-ready, so a control-plane outage that broke the data path would show up
 * as failed RPCs. One JSON object a line on stdin, one answer a line on stdout:
 *   {"cmd":"run","n":50,"timeoutMs":5000}        sequential, wait-for-ready -> Window
 *   {"cmd":"start","intervalMs":10,"timeoutMs":2000}  steady sending starts -> {"ok":true}
 *   {"cmd":"take"}                               -> Window of outcomes completed since the last take
 *   {"cmd":"stop"}                               stops, waits for RPCs in flight -> last Window
 *   {"cmd":"exit"}
 * Window = {"counts":{"id":n},"errors":{"code: message":n}}. Usage: node gateway-child.js xds:///host
 */
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import { createInterface } from 'node:readline';
import { rawBytes } from '../../src/util/grpc-raw.js';

const WHO_METHOD = '/proxima.test.Echo/Who';
const target = process.argv[2];
// `node --test` over a directory may load this file without a target: do nothing then.
if (!target) process.exit(0);
xds.register();
const Client = grpc.makeGenericClientConstructor({}, 'Echo');
const client = new Client(target, grpc.credentials.createInsecure());

interface Window {
  counts: Record<string, number>;
  errors: Record<string, number>;
}
const fresh = (): Window => ({ counts: {}, errors: {} });

function once(timeoutMs: number, waitForReady: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      WHO_METHOD,
      rawBytes,
      rawBytes,
      Buffer.alloc(0),
      new grpc.Metadata({ waitForReady }),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, value?: Buffer) => (err ? reject(err) : resolve(value!.toString('utf8'))),
    );
  });
}

function record(w: Window, p: Promise<string>): Promise<void> {
  return p.then(
    (who) => {
      w.counts[who] = (w.counts[who] ?? 0) + 1;
    },
    (err: grpc.ServiceError) => {
      const k = `${String(err.code ?? 'unknown')}: ${err.details ?? err.message}`.slice(0, 200);
      w.errors[k] = (w.errors[k] ?? 0) + 1;
    },
  );
}

let steady: NodeJS.Timeout | undefined;
let window = fresh();
const inflight = new Set<Promise<void>>();
const reply = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n');

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const msg = JSON.parse(line) as { cmd: string; n?: number; timeoutMs?: number; intervalMs?: number };
  switch (msg.cmd) {
    case 'run': {
      const w = fresh();
      void (async () => {
        for (let i = 0; i < (msg.n ?? 1); i++) await record(w, once(msg.timeoutMs ?? 5000, true));
        reply(w);
      })();
      break;
    }
    case 'start': {
      if (steady) clearInterval(steady);
      steady = setInterval(() => {
        const p = record(window, once(msg.timeoutMs ?? 2000, false)).finally(() => inflight.delete(p));
        inflight.add(p);
      }, msg.intervalMs ?? 10);
      reply({ ok: true });
      break;
    }
    case 'take': {
      reply(window);
      window = fresh();
      break;
    }
    case 'stop': {
      if (steady) clearInterval(steady);
      steady = undefined;
      void Promise.all([...inflight]).then(() => {
        reply(window);
        window = fresh();
      });
      break;
    }
    case 'exit':
      client.close();
      process.exit(0);
  }
});
rl.on('close', () => process.exit(0));
