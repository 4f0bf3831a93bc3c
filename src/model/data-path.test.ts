import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActivatorChoice, revisionDataPath } from './data-path.js';
import type { Endpoint } from './types.js';

const ep = (address: string, node: string, ready = true): Endpoint => ({ address, port: 8012, node, ready, capacity: 2 });
const pods = [ep('10.1.1.5', 'edge-1'), ep('10.1.2.5', 'edge-2')];
const activator = [ep('10.1.3.200', 'cloud-1')];
const otherActivator = [ep('10.1.3.201', 'cloud-1')];

test('data path: bypass routes to the pods in either mode; the activator stays as the last priority', () => {
  const proxy = revisionDataPath({
    mode: 'Proxy',
    choice: 'bypass',
    publicEndpoints: activator,
    pods,
    activatorService: [...activator, ...otherActivator],
  });
  assert.deepEqual(proxy.endpoints, pods);
  // In Proxy mode the activators Knative assigned to the revision (the public endpoints) are the fallback.
  assert.deepEqual(proxy.activators, activator);
  assert.equal(proxy.path, 'pods');
  assert.equal(proxy.effectiveMode, 'Proxy');
  const serve = revisionDataPath({ mode: 'Serve', choice: 'bypass', publicEndpoints: pods, pods, activatorService: otherActivator });
  assert.deepEqual(serve.endpoints, pods);
  assert.deepEqual(serve.activators, otherActivator);
  assert.equal(serve.effectiveMode, 'Serve');
});

test('data path: keep routes to the public endpoints, as Kourier does', () => {
  const proxy = revisionDataPath({ mode: 'Proxy', choice: 'keep', publicEndpoints: activator, pods, activatorService: activator });
  assert.deepEqual(proxy.endpoints, activator);
  assert.deepEqual(proxy.activators, []);
  assert.equal(proxy.path, 'activator');
  const serve = revisionDataPath({ mode: 'Serve', choice: 'keep', publicEndpoints: pods, pods, activatorService: activator });
  assert.equal(serve.path, 'pods');
});

test('data path: no ready pod → the activator; no SKS → the public endpoints unchanged', () => {
  const down = pods.map((p) => ({ ...p, ready: false }));
  const zero = revisionDataPath({ mode: 'Proxy', choice: 'bypass', publicEndpoints: activator, pods: down, activatorService: activator });
  assert.equal(zero.path, 'activator');
  assert.equal(zero.readyPods, 0);
  assert.deepEqual(zero.activators, activator);
  const plain = revisionDataPath({
    mode: undefined,
    choice: 'bypass',
    publicEndpoints: pods,
    pods: undefined,
    activatorService: activator,
  });
  assert.deepEqual(plain.endpoints, pods);
  assert.deepEqual(plain.activators, []);
  // An SKS in Proxy mode whose private slices have not been seen yet: the public endpoints, said to be the activator.
  const early = revisionDataPath({
    mode: 'Proxy',
    choice: 'bypass',
    publicEndpoints: activator,
    pods: undefined,
    activatorService: activator,
  });
  assert.deepEqual(early.endpoints, activator);
  assert.equal(early.path, 'activator');
});

test('data path: the annotation values', () => {
  assert.equal(parseActivatorChoice('keep'), 'keep');
  assert.equal(parseActivatorChoice(' Bypass '), 'bypass');
  assert.equal(parseActivatorChoice('always'), undefined);
  assert.equal(parseActivatorChoice(undefined), undefined);
});

test('data path: an activator sharing an address with pods (another port) is still told apart', () => {
  const samePodIp = [{ ...pods[0]!, port: 9000 }];
  const keep = revisionDataPath({ mode: 'Proxy', choice: 'keep', publicEndpoints: samePodIp, pods, activatorService: samePodIp });
  assert.equal(keep.path, 'activator');
  assert.equal(keep.effectiveMode, 'Proxy');
});
