/**
 * The pods' own signals reach the picker (`proxima serve` wires the model's queue-proxy rows into
 * ExtProcServer's `podLoad`): a pod whose queue-proxy reports a 5× service time, or a deep queue,
 * is avoided from the first request, before the picker has seen a single slow answer of its own;
 * a stale row (the node agent stopped reporting) is not used. Real gRPC on loopback (grpc-js
 * client speaking raw ext_proc messages); the rows go in through ModelStore.setPodSignal, as the
 * probe collector puts them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { endpointKey } from '../src/extproc/picker.js';
import { modelPodLoad, type PodLoadSource } from '../src/extproc/pod-signals.js';
import { RawExtProcClient, requestHeaders, setHeader, startFixture, type Fixture } from './peers/extproc-peer.js';

const HOST = 'hello.default.example.com';
const SERVICE = 'default/hello';
const TOPOLOGY = `
defaults: { rttMs: 50, localRttMs: 0, capacity: 2, serviceTimeMs: 20 }
nodes: [{ name: edge-1 }, { name: edge-2 }]
latency: [{ from: edge-1, to: edge-2, rtt: 20 }]
services:
  - name: ${SERVICE}
    hosts: [${HOST}]
    endpoints:
      - { address: 10.0.1.1, port: 8012, node: edge-1, capacity: 2 }
      - { address: 10.0.2.1, port: 8012, node: edge-2, capacity: 2 }
`;
const LOCAL = '10.0.1.1:8012';
const REMOTE = '10.0.2.1:8012';

let f: Fixture;
let client: RawExtProcClient;
before(async () => {
  const late: { source?: PodLoadSource } = {};
  f = await startFixture({ podLoad: { load: (key, nowMs) => late.source?.load(key, nowMs) } }, TOPOLOGY);
  late.source = modelPodLoad(f.store, endpointKey);
  client = new RawExtProcClient(f.target);
});
after(async () => {
  client.close();
  await f.close();
});

/** One request from edge-1's gateway, completed at once (no latency sample worth the name is left behind). */
async function pickFromEdge1(): Promise<string | undefined> {
  const open = f.extproc.snapshot().streams;
  const stream = client.open();
  stream.send(requestHeaders({ ':method': 'GET', ':path': '/', ':authority': HOST, 'x-proxima-node': 'edge-1' }));
  const destination = setHeader(await stream.recv(), 'x-proxima-destination');
  stream.call.cancel();
  // The server has freed its slot before the next pick (a pod we still feed is counted by us alone),
  // and the slot of the fallback it counts for a stream ended this soon (see settled()).
  const end = Date.now() + 5000;
  while (f.extproc.snapshot().streams > open && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await settled();
  return destination;
}

/**
 * A stream ended before any answer could have come back is read as the gateway giving up (its
 * request then goes by the EDS weights) and is counted on an endpoint for its expected time:
 * wait until no slot is held.
 */
async function settled(): Promise<void> {
  const end = Date.now() + 5000;
  while (f.extproc.snapshot().inflightTotal > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

function report(node: string, row: { queueDepth: number; appLatencyMs?: number; ageMs?: number }): void {
  const atMs = Date.now() - (row.ageMs ?? 0);
  f.store.setPodSignal(SERVICE, node, {
    pods: 1,
    podsFailed: 0,
    requestRps: 10,
    concurrency: 1,
    queueDepth: row.queueDepth,
    ...(row.appLatencyMs !== undefined ? { appLatencyMs: row.appLatencyMs, requestLatencyMs: row.appLatencyMs } : {}),
    atMs,
  });
}

test('without pod signals the local pod with room is picked', async () => {
  assert.equal(await pickFromEdge1(), LOCAL);
});

test('a local pod whose queue-proxy reports 5x its service time is avoided on the first request', async () => {
  report('edge-1', { queueDepth: 0, appLatencyMs: 100 });
  report('edge-2', { queueDepth: 0, appLatencyMs: 20 });
  assert.equal(await pickFromEdge1(), REMOTE);
  report('edge-1', { queueDepth: 0, appLatencyMs: 20 });
  assert.equal(await pickFromEdge1(), LOCAL, 'back when the pod reports its normal time');
});

test('a deep queue at the local pod sends the request to the idle remote pod', async () => {
  report('edge-1', { queueDepth: 8, appLatencyMs: 20 });
  assert.equal(await pickFromEdge1(), REMOTE);
});

test('a stale row (older than the pod-signal TTL) is not used', async () => {
  report('edge-1', { queueDepth: 8, appLatencyMs: 100, ageMs: f.store.podSignals.ttlMs + 5000 });
  assert.equal(await pickFromEdge1(), LOCAL);
});

test("the pod's own fresh service time wins over the picker's inflated estimate (stream ends arriving late on busy cores)", async () => {
  // The picker's samples run to the end of the Process stream: on busy cores they read 131 ms for a
  // pod whose queue-proxy says 20 ms (seen in the demo). With the old max(own, pod) the idle entry
  // pod looked slower than the trip to edge-2 plus its 20 ms, and picks left it.
  const now = Date.now();
  for (let i = 0; i < 30; i++) f.extproc.tracker.observe(LOCAL, 131, now);
  f.extproc.tracker.observe(REMOTE, 20, now);
  report('edge-1', { queueDepth: 0, appLatencyMs: 20 });
  report('edge-2', { queueDepth: 0, appLatencyMs: 20 });
  assert.equal(await pickFromEdge1(), LOCAL);
  // Without a fresh row the own estimate is all there is: the entry pod then looks slow and is left.
  report('edge-1', { queueDepth: 0, ageMs: f.store.podSignals.ttlMs + 5000 });
  assert.equal(await pickFromEdge1(), REMOTE);
});

test('a deep queue reported for a pod the picker itself feeds is not a floor on its own count (the row is seconds old and holds its own requests)', async () => {
  report('edge-1', { queueDepth: 0, appLatencyMs: 20 });
  report('edge-2', { queueDepth: 0, appLatencyMs: 20 });
  const held = client.open();
  held.send(requestHeaders({ ':method': 'GET', ':path': '/', ':authority': HOST, 'x-proxima-node': 'edge-1' }));
  assert.equal(setHeader(await held.recv(), 'x-proxima-destination'), LOCAL);
  try {
    // One request of ours at the 2-slot entry pod; its last scrape says 8 queued (a queue we have since drained).
    report('edge-1', { queueDepth: 8, appLatencyMs: 20 });
    assert.equal(await pickFromEdge1(), LOCAL, 'our own count (1 of 2 slots) decides for a pod we feed');
  } finally {
    held.call.cancel();
  }
  const end = Date.now() + 5000;
  while (f.extproc.snapshot().streams > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  await settled();
  assert.equal(await pickFromEdge1(), REMOTE, 'once we feed it no more, the row is the floor again');
});
