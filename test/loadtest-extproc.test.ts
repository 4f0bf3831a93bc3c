import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../src/cli/serve.js';
import { silentLogger } from '../src/log.js';
import { importK6Script, k6, LOADTEST_DIR } from './loadtest-k6-shim.js';
import { testServeOptions } from './helpers/serve-options.js';
import { DEBIAN_PEERS, missingPeers } from './helpers/debian-peers.js';

/**
 * loadtest/extproc-grpc.ts run iteration by iteration against a real `proxima serve` ext_proc
 * listener (embedded example topology, nearest policy): k6's gRPC module is replaced by real
 * @grpc/grpc-js streams with strict protojson request decoding (test/loadtest-k6-shim.ts).
 */

const PROTO_DIR = join(LOADTEST_DIR, '..', 'node_modules', '@grpc', 'grpc-js-xds', 'deps');

async function runIterations(decide: () => void, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    k6.execution.scenario.iterationInTest = i;
    decide();
  }
  await k6.idle();
}

const tagged = (name: string, tag: string) => k6.samples(name).map((s) => s.tags[tag]);

for (const encoding of ['raw', 'value'] as const) {
  test(`extproc-grpc against proxima serve (${encoding} header values): destinations checked, decision latency recorded`, async (t) => {
    const handle = await startServe(testServeOptions(), silentLogger());
    t.after(async () => {
      k6.closeChannels();
      await handle.close();
    });
    const mod = await importK6Script('extproc-grpc.ts', {
      EXTPROC_ADDR: handle.addresses.extproc,
      PROTO_DIR,
      NODES: 'edge-1,edge-2',
      HOSTS: 'hello.default.example.com',
      HEADER_ENCODING: encoding,
    });
    await runIterations(mod['decide'] as () => void, 8);

    assert.deepEqual(k6.errors, []);
    assert.deepEqual(
      k6.connects.map((c) => c.address),
      [handle.addresses.extproc],
      'one connection per VU',
    );
    const failed = k6.checks.filter((c) => !c.pass);
    assert.deepEqual(failed, []);
    assert.deepEqual([...new Set(k6.checks.map((c) => c.name))].sort(), [
      'answers request_headers',
      'answers response_headers',
      'route cache cleared',
      'x-proxima-destination is ip:port',
    ]);
    assert.equal(k6.samples('proxima_extproc_decision_ms').length, 8);
    assert.equal(k6.samples('proxima_extproc_response_phase_ms').length, 8);
    assert.ok(k6.samples('proxima_extproc_decision_ms').every((s) => s.value >= 0 && s.value < 1000));
    assert.deepEqual(
      k6.samples('proxima_extproc_routed').map((s) => s.value),
      Array(8).fill(1),
    );
    assert.deepEqual(
      k6.samples('proxima_extproc_stream_failed').map((s) => s.value),
      Array(8).fill(0),
    );
    // nearest: each gateway node's requests go to the pod on its own node (examples/topology.yaml).
    const byNode = new Map<string, Set<string>>();
    for (const s of k6.samples('proxima_extproc_destinations')) {
      const set = byNode.get(s.tags['gateway_node']!) ?? new Set<string>();
      set.add(s.tags['destination']!);
      byNode.set(s.tags['gateway_node']!, set);
    }
    assert.deepEqual(Object.fromEntries([...byNode].map(([n, d]) => [n, [...d]])), {
      'edge-1': ['127.0.0.1:9001'],
      'edge-2': ['127.0.0.1:9002'],
    });
    assert.deepEqual(tagged('proxima_extproc_decision_ms', 'gateway_node'), [
      'edge-1',
      'edge-2',
      'edge-1',
      'edge-2',
      'edge-1',
      'edge-2',
      'edge-1',
      'edge-2',
    ]);
  });
}

test('extproc-grpc fail-open run: unknown hosts get no destination, streams still complete, no failed check', async (t) => {
  const handle = await startServe(testServeOptions(), silentLogger());
  t.after(async () => {
    k6.closeChannels();
    await handle.close();
  });
  const mod = await importK6Script('extproc-grpc.ts', {
    EXTPROC_ADDR: handle.addresses.extproc,
    PROTO_DIR,
    HOSTS: 'unknown.example.com',
    EXPECT_DESTINATION: 'false',
  });
  await runIterations(mod['decide'] as () => void, 4);
  assert.deepEqual(k6.errors, []);
  assert.deepEqual(
    k6.checks.filter((c) => !c.pass),
    [],
  );
  assert.deepEqual(
    k6.samples('proxima_extproc_routed').map((s) => s.value),
    [0, 0, 0, 0],
  );
  assert.deepEqual(
    k6.samples('proxima_extproc_stream_failed').map((s) => s.value),
    [0, 0, 0, 0],
  );
  assert.equal(k6.samples('proxima_extproc_destinations').length, 0);
});

test('extproc-grpc with EXPECT_DESTINATION on an unknown host: the check fails (the script can fail)', async (t) => {
  const handle = await startServe(testServeOptions(), silentLogger());
  t.after(async () => {
    k6.closeChannels();
    await handle.close();
  });
  const mod = await importK6Script('extproc-grpc.ts', { EXTPROC_ADDR: handle.addresses.extproc, PROTO_DIR, HOSTS: 'unknown.example.com' });
  await runIterations(mod['decide'] as () => void, 2);
  assert.deepEqual(
    k6.checks.filter((c) => !c.pass).map((c) => c.name),
    ['x-proxima-destination is ip:port', 'route cache cleared', 'x-proxima-destination is ip:port', 'route cache cleared'],
  );
});

test('extproc-grpc against a dead address: streams fail and are counted, nothing hangs', async () => {
  const mod = await importK6Script('extproc-grpc.ts', { EXTPROC_ADDR: '127.0.0.1:1', PROTO_DIR, STREAM_TIMEOUT_MS: '2000' });
  await runIterations(mod['decide'] as () => void, 2);
  k6.closeChannels();
  assert.deepEqual(
    k6.samples('proxima_extproc_stream_failed').map((s) => s.value),
    [1, 1],
  );
  assert.equal(k6.samples('proxima_extproc_decision_ms').length, 0);
});

test('extproc-grpc with PROTOSET built by the documented protoc command', async (t) => {
  const missing = missingPeers(DEBIAN_PEERS.protoc, DEBIAN_PEERS.protobufIncludes);
  if (missing) {
    if (process.env.CI) throw new Error(`required under CI: ${missing}`);
    return t.skip(missing);
  }
  const dir = mkdtempSync(join(tmpdir(), 'proxima-protoset-'));
  const handle = await startServe(testServeOptions(), silentLogger());
  t.after(async () => {
    k6.closeChannels();
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const protoset = join(dir, 'extproc.protoset');
  const includes = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => `-I${join(PROTO_DIR, d)}`);
  const r = spawnSync('protoc', [...includes, '--include_imports', '-o', protoset, 'envoy/service/ext_proc/v3/external_processor.proto'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const mod = await importK6Script('extproc-grpc.ts', { EXTPROC_ADDR: handle.addresses.extproc, PROTOSET: protoset, NODES: 'edge-2' });
  assert.deepEqual(k6.protoLoads, [{ importPaths: [], files: [protoset] }]);
  await runIterations(mod['decide'] as () => void, 3);
  assert.deepEqual(k6.errors, []);
  assert.deepEqual(
    k6.checks.filter((c) => !c.pass),
    [],
  );
  assert.deepEqual(tagged('proxima_extproc_destinations', 'destination'), ['127.0.0.1:9002', '127.0.0.1:9002', '127.0.0.1:9002']);
});
