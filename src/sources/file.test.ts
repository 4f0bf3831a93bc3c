import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { ModelStore } from '../model/store.js';
import { silentLogger } from '../log.js';
import { FileTopologySource } from './file.js';

const yaml = (ready: boolean, port = 9001) => `
nodes:
  - { name: edge-1 }
  - { name: edge-2 }
latency:
  - { from: edge-1, to: edge-2, rtt: 20 }
services:
  - name: default/hello
    hosts: [hello.example.com]
    endpoints:
      - { address: 127.0.0.1, port: ${port}, node: edge-1, ready: ${ready} }
`;

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return Number(v?.value ?? 0);
}

test('file source: valid edits apply live, invalid ones keep the last good topology', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'topology.yaml');
  writeFileSync(path, yaml(true));
  const store = new ModelStore();
  const registry = new Registry();
  const source = new FileTopologySource({ path, store, log: silentLogger(), registry, debounceMs: 20, pollIntervalMs: 100 });
  await source.start();
  t.after(() => source.stop());
  assert.equal(store.service('default/hello')?.endpoints[0]?.ready, true);

  // In-place write.
  writeFileSync(path, yaml(false));
  await until(() => store.service('default/hello')?.endpoints[0]?.ready === false);

  // Invalid edit: an endpoint on an unknown node. The last good state stays.
  writeFileSync(path, yaml(true).replace('node: edge-1, ready', 'node: edge-9, ready'));
  await until(() => source.invalid);
  assert.match(
    source.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`).join('\n'),
    /11: services\[0\]\.endpoints\[0\]\.node: unknown node "edge-9"/,
  );
  assert.equal(store.service('default/hello')?.endpoints[0]?.ready, false);
  assert.equal(await metric(registry, 'proxima_topology_reloads_total', { outcome: 'invalid' }), 1);
  assert.equal(await metric(registry, 'proxima_topology_invalid'), 1);

  // Replace by rename (how editors and ConfigMap updates write): applies and clears the error.
  writeFileSync(join(dir, 'next.yaml'), yaml(true, 9002));
  renameSync(join(dir, 'next.yaml'), path);
  await until(() => store.service('default/hello')?.endpoints[0]?.port === 9002);
  assert.equal(source.invalid, false);
  assert.equal(await metric(registry, 'proxima_topology_invalid'), 0);
});

test('file source: an invalid file at start is an error naming the line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-file-'));
  const path = join(dir, 'topology.yaml');
  writeFileSync(path, yaml(true).replace('rtt: 20', 'rtt: -3'));
  const source = new FileTopologySource({ path, store: new ModelStore(), log: silentLogger(), registry: new Registry() });
  await assert.rejects(source.start(), /line 6, column \d+: latency\[0\]\.rtt: -3 is out of range/);
  source.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('file source: a missing file is reported, not thrown, once running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'topology.yaml');
  writeFileSync(path, yaml(true));
  const store = new ModelStore();
  const source = new FileTopologySource({ path, store, log: silentLogger(), registry: new Registry(), debounceMs: 10 });
  await source.start();
  t.after(() => source.stop());
  rmSync(path);
  const r = await source.reload();
  assert.equal(r.ok, false);
  assert.ok(store.service('default/hello'), 'last good state kept');
});

/** A logger that keeps every record (pino writes JSON lines to the stream). */
function capturingLog(): { log: ReturnType<typeof silentLogger>; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records };
}

test('file source: a refused edit is logged once (not at every poll), recovery is logged, and state() says what is in force', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'topology.yaml');
  writeFileSync(path, yaml(true));
  const { log, records } = capturingLog();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const registry = new Registry();
  const source = new FileTopologySource({ path, store: new ModelStore(), log, registry, now: () => now });
  await source.start();
  t.after(() => source.stop());
  const good = source.state();
  assert.equal(good.status, 'ok');
  assert.equal(good.lastGood?.appliedAt, '2026-01-01T00:00:00.000Z');

  now += 5_000;
  writeFileSync(path, yaml(true).replace('rtt: 20', 'rtt: *typo'));
  for (let i = 0; i < 3; i++) assert.equal((await source.reload()).ok, false); // the poll finding the same file again
  const errors = records.filter((r) => r['level'] === 50);
  assert.equal(errors.length, 1, 'the same refused content is logged once');
  assert.match(
    String(errors[0]!['msg']),
    /keeping the last good topology \([0-9a-f]+\):\nline 6, column 38: \(document\): alias \*typo names no anchor/,
  );
  assert.equal(await metric(registry, 'proxima_topology_reloads_total', { outcome: 'invalid' }), 1);
  const bad = source.state();
  assert.equal(bad.status, 'invalid');
  assert.equal(bad.invalidSince, '2026-01-01T00:00:05.000Z');
  assert.equal(bad.lastGood?.hash, good.lastGood?.hash, 'the last good topology is still in force');

  now += 10_000;
  writeFileSync(path, yaml(true)); // back to the content in force
  assert.deepEqual((await source.reload()).ok, true);
  const info = records.filter((r) => r['level'] === 30 && /valid again/.test(String(r['msg'])));
  assert.equal(info.length, 1);
  assert.equal(info[0]!['invalidForSeconds'], 10);
  assert.equal(source.state().status, 'ok');
});

test('file source: a file over the size limit is refused unread; a huge broken file gives a bounded error list', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'topology.yaml');
  writeFileSync(path, yaml(true));
  const store = new ModelStore();
  const source = new FileTopologySource({ path, store, log: silentLogger(), registry: new Registry(), maxBytes: 4096 });
  await source.start();
  t.after(() => source.stop());

  writeFileSync(path, yaml(true) + '#'.repeat(5000));
  const big = await source.reload();
  assert.equal(big.ok, false);
  assert.match(big.ok ? '' : big.errors[0]!.message, /more than the 4096 allowed \(--topology-max-bytes\)/);

  // 3,000 bad endpoints: every error counted, 50 shown, each message short.
  const many = Array.from({ length: 3000 }, (_, i) => `      - { address: 10.0.0.${i % 250}, port: ${i + 1}, node: nowhere }`).join('\n');
  const bounded = new FileTopologySource({ path, store: new ModelStore(), log: silentLogger(), registry: new Registry() });
  writeFileSync(path, yaml(true).replace(/ {6}- \{ address: 127.*\n/, many + '\n'));
  const r = await bounded.reload();
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.errors.length, 50);
    assert.equal(r.moreErrors, 2950);
  }
  assert.ok(store.service('default/hello'), 'the last good topology stays');
});
