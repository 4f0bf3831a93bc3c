import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openfaasOptions } from './openfaas.js';

test('openfaas options: validated once and frozen; bad values are described', () => {
  const ok = openfaasOptions('openfaas-fn', 'openfaas/gateway');
  assert.deepEqual(ok, { namespace: 'openfaas-fn', gateway: 'openfaas/gateway' });
  assert.ok(Object.isFrozen(ok));
  assert.deepEqual(openfaasOptions('fn', ''), { namespace: 'fn', gateway: '' }, "'' = no OpenFaaS gateway");
  assert.match(String(openfaasOptions('Bad_NS', 'openfaas/gateway')), /--openfaas-namespace "Bad_NS" is not a namespace name/);
  assert.match(String(openfaasOptions('openfaas-fn', 'gateway')), /--openfaas-gateway "gateway" is not NAMESPACE\/NAME/);
  assert.match(String(openfaasOptions('openfaas-fn', 'a/b/c')), /is not NAMESPACE\/NAME/);
});
