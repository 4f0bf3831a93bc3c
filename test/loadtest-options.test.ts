import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { importK6Script, k6, LOADTEST_DIR, setK6Env } from './loadtest-k6-shim.js';
import { thresholdErrors, type K6MetricType } from './loadtest-thresholds.js';

/** The k6 scripts, imported unchanged with k6's modules stubbed: their options and per-request logic. */

interface ArrivalScenario {
  executor: string;
  rate: number;
  timeUnit: string;
  duration: string;
  preAllocatedVUs: number;
  maxVUs: number;
  exec: string;
  env?: Record<string, string>;
  tags?: Record<string, string>;
}
interface K6Options {
  scenarios: Record<string, ArrivalScenario>;
  thresholds: Record<string, unknown>;
}

const customTypes = () => new Map<string, K6MetricType>([...k6.metrics.values()].map((m) => [m.name, m.type]));

function assertWellFormed(mod: Record<string, unknown>): K6Options {
  const options = mod['options'] as K6Options;
  assert.ok(options && typeof options === 'object', 'exports options');
  const names = Object.keys(options.scenarios);
  assert.ok(names.length > 0, 'at least one scenario');
  for (const name of names) {
    const s = options.scenarios[name]!;
    assert.match(name, /^[A-Za-z0-9_-]+$/, `scenario name ${name}`);
    assert.equal(s.executor, 'constant-arrival-rate', name);
    assert.ok(Number.isInteger(s.rate) && s.rate > 0, `${name}: rate`);
    assert.equal(s.timeUnit, '1s');
    assert.match(s.duration, /^(\d+(\.\d+)?(ms|s|m|h))+$/);
    assert.ok(s.preAllocatedVUs >= 1 && s.maxVUs >= s.preAllocatedVUs, `${name}: 1 ≤ preAllocatedVUs ≤ maxVUs`);
    assert.equal(typeof mod[s.exec], 'function', `${name}: exec "${s.exec}" is an exported function`);
  }
  assert.deepEqual(thresholdErrors(options.thresholds, customTypes()), []);
  return options;
}

test('threshold validator rejects what k6 rejects (negative control)', () => {
  const custom = new Map<string, K6MetricType>([['my_rate', 'rate']]);
  assert.deepEqual(thresholdErrors({ my_rate: ['rate>0.9'], 'http_req_duration{gateway:edge-1}': ['p(99.9)<300'] }, custom), []);
  const errors = thresholdErrors(
    { my_rate: ['p(95)<10'], nope: ['count<1'], http_req_failed: ['rate<<1'], 'checks{gateway}': ['rate>0.9'] },
    custom,
  );
  assert.equal(errors.length, 4, errors.join('\n'));
});

test('http-gateways: one constant-arrival-rate scenario per gateway, tagged, with per-gateway thresholds', async () => {
  const mod = await importK6Script('http-gateways.ts', {
    GATEWAYS: 'edge-1=10.0.0.5:8080, edge-2=10.0.0.6:8080,[fd00::7]:8081',
    HOST: 'hello.default.example.com',
    RATE: '50',
    DURATION: '2m',
    PRE_ALLOCATED_VUS: '5',
    MAX_VUS: '40',
    P95_MS: '300',
    LOCAL_MIN: '0.99',
  });
  const o = assertWellFormed(mod);
  assert.deepEqual(Object.keys(o.scenarios), ['gw_edge-1', 'gw_edge-2', 'gw_fd00__7_8081']);
  const e1 = o.scenarios['gw_edge-1']!;
  assert.deepEqual(
    { rate: e1.rate, duration: e1.duration, pre: e1.preAllocatedVUs, max: e1.maxVUs, exec: e1.exec },
    { rate: 50, duration: '2m', pre: 5, max: 40, exec: 'gateway' },
  );
  assert.deepEqual(e1.env, { GATEWAY_ADDR: '10.0.0.5:8080', GATEWAY_LABEL: 'edge-1', GATEWAY_NODE: 'edge-1' });
  assert.deepEqual(e1.tags, { gateway: 'edge-1' });
  assert.deepEqual(o.scenarios['gw_fd00__7_8081']!.env, {
    GATEWAY_ADDR: '[fd00::7]:8081',
    GATEWAY_LABEL: 'fd00__7_8081',
    GATEWAY_NODE: '',
  });
  assert.deepEqual(o.thresholds['http_req_failed'], ['rate<0.01']);
  assert.deepEqual(o.thresholds['http_req_duration'], ['p(95)<300']);
  assert.deepEqual(o.thresholds['http_req_duration{gateway:edge-2}'], ['p(95)<300']);
  assert.deepEqual(o.thresholds['http_req_failed{gateway:fd00__7_8081}'], ['rate<0.01']);
  // 1 % of 3 gateways × 50/s × 120 s.
  assert.deepEqual(o.thresholds['dropped_iterations'], ['count<=180']);
  assert.deepEqual(o.thresholds['proxima_served_local'], ['rate>=0.99']);
  // Every tag a threshold selects on is set by the scenarios.
  for (const key of Object.keys(o.thresholds)) {
    const sel = /\{gateway:([^}]+)\}/.exec(key)?.[1];
    if (sel)
      assert.ok(
        Object.values(o.scenarios).some((s) => s.tags?.gateway === sel),
        `${key} matches a scenario tag`,
      );
  }
});

test('http-gateways: defaults are well-formed and bad variables stop the script in the init context', async () => {
  const o = assertWellFormed(await importK6Script('http-gateways.ts', {}));
  assert.deepEqual(Object.keys(o.scenarios), ['gw_127_0_0_1_8080']);
  assert.equal(o.thresholds['proxima_served_local'], undefined, 'no locality threshold unless LOCAL_MIN is set');
  for (const [env, message] of [
    [{ RATE: 'fast' }, /RATE=fast/],
    [{ GATEWAYS: 'edge-1' }, /GATEWAYS: "edge-1" is not host:port/],
    [{ GATEWAYS: '10.0.0.1:8080,10.0.0.1:8080' }, /appears twice/],
    [{ DURATION: '2 minutes' }, /DURATION=2 minutes/],
    [{ PRE_ALLOCATED_VUS: '50', MAX_VUS: '10' }, /MAX_VUS=10 is below PRE_ALLOCATED_VUS=50/],
    [{ LOCAL_MIN: '99' }, /LOCAL_MIN=99/],
  ] as const) {
    await assert.rejects(importK6Script('http-gateways.ts', env), message);
  }
});

test('http-gateways: requests carry the Host header; the served-by header feeds the serving-node metrics', async () => {
  const initEnv = {
    GATEWAYS: 'edge-1=10.0.0.5:8080,edge-2=10.0.0.6:8080,10.0.0.7:8080',
    SERVED_BY_HEADER: 'X-Served-By-Node',
    URL_PATH: '/hello',
  };
  const mod = await importK6Script('http-gateways.ts', initEnv);
  const o = mod['options'] as K6Options;
  const servedBy: Record<string, string | undefined> = {
    '10.0.0.5:8080': 'edge-1',
    '10.0.0.6:8080': 'cloud-1',
    '10.0.0.7:8080': undefined,
  };
  k6.httpResponder = (url) => {
    const addr = /^http:\/\/([^/]+)\//.exec(url)![1]!;
    if (addr === '10.0.0.7:8080' && k6.httpCalls.length > 5) return { status: 503, headers: {} };
    const node = servedBy[addr];
    const headers: Record<string, string> = node ? { 'X-Served-By-Node': node } : {};
    return { status: 200, headers };
  };
  const gateway = mod['gateway'] as () => void;
  for (const s of Object.values(o.scenarios)) {
    setK6Env({ ...initEnv, ...s.env });
    gateway();
    gateway();
  }
  assert.deepEqual(
    k6.httpCalls.map((c) => [c.url, (c.params['headers'] as Record<string, string>)['Host']]),
    [
      ['http://10.0.0.5:8080/hello', 'hello.default.example.com'],
      ['http://10.0.0.5:8080/hello', 'hello.default.example.com'],
      ['http://10.0.0.6:8080/hello', 'hello.default.example.com'],
      ['http://10.0.0.6:8080/hello', 'hello.default.example.com'],
      ['http://10.0.0.7:8080/hello', 'hello.default.example.com'],
      ['http://10.0.0.7:8080/hello', 'hello.default.example.com'],
    ],
  );
  assert.deepEqual(
    k6.samples('proxima_served_requests').map((s) => s.tags['served_by']),
    ['edge-1', 'edge-1', 'cloud-1', 'cloud-1'],
  );
  // Local only where GATEWAYS named the node; the unnamed gateway contributes no locality samples.
  assert.deepEqual(
    k6.samples('proxima_served_local').map((s) => s.value),
    [1, 1, 0, 0],
  );
  // The third gateway's first reply lacks the header; its second is a 503 (a failed check, no sample).
  assert.deepEqual(
    k6.samples('proxima_served_by_missing').map((s) => s.value),
    [0, 0, 0, 0, 1],
  );
  assert.deepEqual(
    k6.checks.map((c) => c.pass),
    [true, true, true, true, true, false],
  );
});

test('extproc-grpc: options and proto import paths (documented PROTO_DIR layout)', async () => {
  const protoDir = join(LOADTEST_DIR, '..', 'node_modules', '@grpc', 'grpc-js-xds', 'deps');
  const mod = await importK6Script('extproc-grpc.ts', { PROTO_DIR: protoDir, RATE: '300', DURATION: '30s', DECISION_P95_MS: '5' });
  const o = assertWellFormed(mod);
  assert.deepEqual(Object.keys(o.scenarios), ['extproc']);
  assert.equal(o.scenarios['extproc']!.rate, 300);
  assert.deepEqual(o.thresholds['proxima_extproc_decision_ms'], ['p(95)<5', 'p(99)<50']);
  assert.deepEqual(o.thresholds['proxima_extproc_routed'], ['rate>0.99']);
  assert.deepEqual(o.thresholds['dropped_iterations'], ['count<=90']);
  assert.equal(k6.protoLoads.length, 1);
  const load = k6.protoLoads[0]!;
  assert.deepEqual(load.files, ['envoy/service/ext_proc/v3/external_processor.proto']);
  for (const p of load.importPaths) assert.ok(existsSync(p), `${p} exists`);
  assert.ok(existsSync(join(load.importPaths[0]!, load.files[0]!)), 'the proto file is under the first import path');

  const failOpen = await importK6Script('extproc-grpc.ts', { PROTO_DIR: protoDir, EXPECT_DESTINATION: 'false' });
  assert.equal((failOpen['options'] as K6Options).thresholds['proxima_extproc_routed'], undefined);
  await assert.rejects(importK6Script('extproc-grpc.ts', { PROTO_DIR: protoDir, HEADER_ENCODING: 'utf8' }), /HEADER_ENCODING=utf8/);
  await assert.rejects(
    importK6Script('extproc-grpc.ts', { PROTO_DIR: '/nonexistent' }),
    /import path \/nonexistent\/envoy-api does not exist/,
  );
});
