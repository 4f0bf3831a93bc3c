import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from '../model/topology.js';
import { faastScenario, podSpecs, runtimeTopologyYaml, withWorkload } from './scenario.js';

test('--workload openfaas: openfaas-fn/hello at /function/hello, served by pods at that path, platform openfaas in the runtime topology', () => {
  const knative = faastScenario('quick', 1);
  assert.equal(withWorkload(knative, 'knative'), knative);
  const s = withWorkload(knative, 'openfaas');
  assert.deepEqual(s.service, {
    name: 'openfaas-fn/hello',
    host: 'hello.openfaas-fn.svc.cluster.local',
    method: '/function/hello',
    platform: 'openfaas',
  });
  assert.deepEqual({ ...s, service: knative.service }, knative, 'nothing else changes: same nodes, links, pods, load');
  assert.ok(podSpecs(s, 'edge-1').every((p) => p.method === '/function/hello'));
  assert.ok(podSpecs(knative, 'edge-1').every((p) => p.method === undefined));
  const parsed = parseTopology(runtimeTopologyYaml(s, [{ node: 'edge-1', address: '127.0.1.1', port: 9000, ready: true, capacity: 2 }]));
  assert.ok(parsed.ok);
  assert.deepEqual(
    parsed.topology.services.map((x) => [x.name, x.platform, x.hosts]),
    [['openfaas-fn/hello', 'openfaas', ['hello.openfaas-fn.svc.cluster.local']]],
  );
  const bad = parseTopology(runtimeTopologyYaml(s, []).replace('platform: openfaas', 'platform: lambda'));
  assert.ok(!bad.ok);
  assert.match(bad.errors.map((e) => `${e.path}: ${e.message}`).join('\n'), /platform: must be one of knative, openfaas, service/);
});
