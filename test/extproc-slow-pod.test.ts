/**
 * A pod on the entry node gets 5× slower (20 → 100 ms): the ext_proc picker stops sending to it
 * within a second, while the EDS weights (the assignment the gateways get) still send all of the
 * entry node's traffic there. Real gRPC on loopback for ext_proc (grpc-js client speaking raw
 * ext_proc messages, streams closed at the end of each request as Envoy does with
 * response_header_mode SKIP); the pods and the network are simulated in this process (a FIFO queue
 * per pod in front of its concurrency limit, half the RTT each way), with constant service times so
 * the outcome does not hang on a draw.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawExtProcClient, requestHeaders, setHeader, startFixture, type Fixture } from './peers/extproc-peer.js';

const HOST = 'hello.default.example.com';
const WORKERS = 2;
const THINK_MS = 10;
const BEFORE_MS = 1500;
const AFTER_MS = 2000;
const SLOW_FACTOR = 5;
const TOPOLOGY = `
defaults: { rttMs: 50, localRttMs: 0, capacity: 2, serviceTimeMs: 20 }
nodes: [{ name: edge-1 }, { name: edge-2 }, { name: cloud-1 }]
latency:
  - { from: edge-1, to: edge-2, rtt: 20 }
  - { from: edge-1, to: cloud-1, rtt: 50 }
  - { from: edge-2, to: cloud-1, rtt: 100 }
services:
  - name: default/hello
    hosts: [${HOST}]
    endpoints:
      - { address: 10.0.1.1, port: 8012, node: edge-1, capacity: 2 }
      - { address: 10.0.2.1, port: 8012, node: edge-2, capacity: 2 }
      - { address: 10.0.3.1, port: 8012, node: cloud-1, capacity: 2 }
      - { address: 10.0.3.2, port: 8012, node: cloud-1, capacity: 2 }
`;
const LOCAL = '10.0.1.1:8012';
const RTT_MS: Record<string, number> = { '10.0.1.1:8012': 0, '10.0.2.1:8012': 20, '10.0.3.1:8012': 50, '10.0.3.2:8012': 50 };

/** A pod: `slots` requests served at a time, the rest wait in FIFO order. */
class SimPod {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    public serviceMs: number,
    private readonly slots = 2,
  ) {}
  serve(): Promise<void> {
    return new Promise((done) => {
      const run = (): void => {
        this.busy++;
        setTimeout(() => {
          this.busy--;
          this.waiting.shift()?.();
          done();
        }, this.serviceMs);
      };
      if (this.busy < this.slots) run();
      else this.waiting.push(run);
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let f: Fixture;
let client: RawExtProcClient;
before(async () => {
  f = await startFixture({}, TOPOLOGY);
  client = new RawExtProcClient(f.target);
});
after(async () => {
  client.close();
  await f.close();
});

test(`a pod on the entry node ${SLOW_FACTOR}x slower is avoided by ext_proc within 1 s; the EDS weights still send there`, async () => {
  const pods = new Map(Object.keys(RTT_MS).map((k) => [k, new SimPod(20)]));
  const picks: Array<{ atMs: number; destination: string }> = [];
  const requests: Promise<void>[] = [];
  const one = async (): Promise<void> => {
    const stream = client.open();
    stream.send(requestHeaders({ ':method': 'POST', ':path': '/', ':authority': HOST, 'x-proxima-node': 'edge-1' }));
    const destination = setHeader(await stream.recv(), 'x-proxima-destination') ?? '';
    picks.push({ atMs: performance.now(), destination });
    const rtt = RTT_MS[destination] ?? 0;
    await sleep(rtt / 2);
    await pods.get(destination)!.serve();
    await sleep(rtt / 2);
    stream.call.end();
  };
  // Closed loop (WORKERS requests at a time, THINK_MS apart): a busy machine slows it down but
  // never bunches requests up, so the pods see the same load whatever the timer lag.
  // Connect first, with a host no route knows (no pick, so no latency sample from the connection setup).
  const warm = client.open();
  warm.send(requestHeaders({ ':method': 'POST', ':path': '/', ':authority': 'nobody.example.com', 'x-proxima-node': 'edge-1' }));
  await warm.recv();
  warm.call.end();
  const start = performance.now();
  const slowAt = start + BEFORE_MS;
  const end = slowAt + AFTER_MS;
  const slowdown = setTimeout(() => (pods.get(LOCAL)!.serviceMs = 20 * SLOW_FACTOR), BEFORE_MS);
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await one();
      await sleep(THINK_MS);
    }
  };
  for (let w = 0; w < WORKERS; w++) requests.push(worker());
  await Promise.all(requests);
  clearTimeout(slowdown);

  const share = (fromMs: number, toMs: number): { local: number; n: number } => {
    const w = picks.filter((p) => p.atMs >= fromMs && p.atMs < toMs);
    return { local: w.filter((p) => p.destination === LOCAL).length / Math.max(1, w.length), n: w.length };
  };
  const beforeSlow = share(start + 500, slowAt);
  assert.ok(beforeSlow.local >= 0.6, `before: ${JSON.stringify(beforeSlow)} of picks stay on the entry node`);
  // From 1 s after the slowdown on, the slow pod gets at most an occasional probe (a fifth: timer
  // lag on a busy machine adds the same few ms to every sample, which narrows the gap).
  const afterSlow = share(slowAt + 1000, slowAt + AFTER_MS);
  assert.ok(afterSlow.n >= 5, `enough requests after the slowdown: ${afterSlow.n}`);
  assert.ok(afterSlow.local <= 0.2, `after 1 s: ${JSON.stringify(afterSlow)} of picks still on the slow pod`);
  const snapshot = f.extproc.snapshot();
  assert.ok(snapshot.leftLocalWithRoom > 0, 'picks that left the entry node with a free slot are counted');
  const why = snapshot.leftLocalRecent.at(-1)!;
  assert.equal(why.local.endpoint, LOCAL);
  assert.ok(why.local.serviceMs > 2 * 20, `the reason is the local pod's service time: ${JSON.stringify(why)}`);
  assert.ok(
    why.local.choiceMs > why.chosen.choiceMs + why.chosenPremiumMs,
    `and the rule compared, with the locality premium: ${JSON.stringify(why)}`,
  );
  assert.ok(why.chosenPremiumMs > 0, `leaving the entry node paid a premium: ${JSON.stringify(why)}`);

  // The EDS weights for edge-1's gateway: still all of priority 0 on edge-1 (they follow the
  // model's service time, which the picker's samples do not change).
  const eds = f.engine.get('default/hello', 'edge-1');
  const top = eds?.localities.filter((l) => l.priority === 0) ?? [];
  assert.deepEqual(
    top.map((l) => l.node),
    ['edge-1'],
    JSON.stringify(eds),
  );
});
