import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeInfo } from '../../model/types.js';
import { endpointsFromSlices } from './slices.js';

const node = (name: string, zone: string): NodeInfo => ({ name, zone, region: '', ready: true, labels: {} });
const NODES = [node('edge-1', 'edge-a'), node('edge-2', 'edge-b'), node('edge-3', 'edge-b')];
const slice = (name: string, endpoints: unknown[], ports: unknown[] = [{ name: 'http', port: 8080 }]) => ({
  metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'svc' } },
  addressType: 'IPv4',
  endpoints,
  ports,
});

test('slices: terminating-but-serving endpoints are used only when nothing is ready (kube-proxy KEP-1669)', () => {
  const terminating = { addresses: ['10.0.0.2'], nodeName: 'edge-2', conditions: { ready: false, serving: true, terminating: true } };
  const gone = { addresses: ['10.0.0.3'], nodeName: 'edge-2', conditions: { ready: false, serving: false, terminating: true } };
  const ready = { addresses: ['10.0.0.1'], nodeName: 'edge-1', conditions: { ready: true } };
  const withReady = endpointsFromSlices({
    slices: [slice('a', [ready, terminating, gone])],
    port: { portName: 'http' },
    nodes: NODES,
    capacity: 2,
  });
  assert.deepEqual(
    withReady.endpoints.map((e) => [e.address, e.ready]),
    [
      ['10.0.0.1', true],
      ['10.0.0.2', false],
    ],
  );
  const onlyTerminating = endpointsFromSlices({
    slices: [slice('a', [terminating, gone])],
    port: { portName: 'http' },
    nodes: NODES,
    capacity: 2,
  });
  assert.deepEqual(
    onlyTerminating.endpoints.map((e) => [e.address, e.ready]),
    [['10.0.0.2', true]],
  );
});

test('slices: no nodeName → placed by zone only when one node has it; unknown nodes and odd slices are counted', () => {
  const r = endpointsFromSlices({
    slices: [
      slice('a', [
        { addresses: ['10.0.0.1'], zone: 'edge-a' },
        { addresses: ['10.0.0.2'], zone: 'edge-b' },
        { addresses: ['10.0.0.4'], nodeName: 'elsewhere' },
        'garbage',
      ]),
      { ...slice('b', []), addressType: 'FQDN' },
      slice(
        'c',
        [{ addresses: ['10.0.0.5'], nodeName: 'edge-3' }],
        [
          { name: 'metrics', port: 9090 },
          { name: 'other', port: 1 },
        ],
      ),
    ],
    port: { portName: 'http' },
    nodes: NODES,
    capacity: 1,
  });
  assert.deepEqual(
    r.endpoints.map((e) => [e.address, e.node]),
    [['10.0.0.1', 'edge-1']],
  );
  assert.deepEqual(r.stats, { unknownNode: 1, missingNode: 1, skippedSlices: 2 });
});

test('slices: per-slice ports; the same address on two ports is two endpoints; ready wins across slices', () => {
  const r = endpointsFromSlices({
    slices: [
      slice('a', [{ addresses: ['127.0.0.1'], nodeName: 'edge-1', conditions: { ready: false } }], [{ name: 'http', port: 7001 }]),
      slice('b', [{ addresses: ['127.0.0.1'], nodeName: 'edge-2', conditions: { ready: true } }], [{ name: 'http', port: 7002 }]),
      slice('c', [{ addresses: ['127.0.0.1'], nodeName: 'edge-1', conditions: { ready: true } }], [{ name: 'http', port: 7001 }]),
    ],
    port: { portName: 'http' },
    nodes: NODES,
    capacity: 1,
  });
  assert.deepEqual(
    r.endpoints.map((e) => [e.port, e.node, e.ready]),
    [
      [7001, 'edge-1', true],
      [7002, 'edge-2', true],
    ],
  );
});
