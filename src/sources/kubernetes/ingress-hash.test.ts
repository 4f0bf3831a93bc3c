import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonOfIngressSpec, ingressHash } from './ingress-hash.js';

// The expected hashes are upstream's own test vectors: knative/networking pkg/ingress/ingress_test.go TestInsertProbe.
test('ingressHash equals knative/networking ComputeHash on upstream test vectors', () => {
  const plain = { rules: [{ hosts: ['example.com'], http: { paths: [{ splits: [{ serviceName: 'blah' }] }] } }] };
  assert.equal(ingressHash(plain, '', ''), 'a25000a350642c8abef53078b329bd043e18758f6063c1172d53b04e14fcf5c1');
  const withHeader = {
    rules: [{ hosts: ['example.com'], http: { paths: [{ splits: [{ serviceName: 'blah', appendHeaders: { Foo: 'bar' } }] }] } }],
  };
  assert.equal(ingressHash(withHeader, '', ''), '6b652c7abed871354affd4a9cb699d33816f24541fac942149b91ad872fe63ca');
});

test('Go json.Marshal details: field order, omitempty, inlined backend, sorted maps, HTML escaping', () => {
  const spec = {
    httpOption: 'Redirected',
    rules: [
      {
        visibility: 'ExternalIP',
        hosts: ['a<b>&'],
        http: {
          paths: [
            {
              splits: [{ percent: 0, servicePort: 'http', serviceName: 's', serviceNamespace: 'ns', appendHeaders: { b: '2', a: '1' } }],
              headers: { Z: { exact: 'z' }, A: { exact: 'a' } },
              path: '/p',
            },
          ],
        },
      },
    ],
    tls: [],
  };
  assert.equal(
    goJsonOfIngressSpec(spec),
    '{"rules":[{"hosts":["a\\u003cb\\u003e\\u0026"],"visibility":"ExternalIP","http":{"paths":[{"path":"/p","headers":{"A":{"exact":"a"},"Z":{"exact":"z"}},' +
      '"splits":[{"serviceNamespace":"ns","serviceName":"s","servicePort":"http","appendHeaders":{"a":"1","b":"2"}}]}]}}],"httpOption":"Redirected"}',
  );
});
