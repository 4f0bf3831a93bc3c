import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../log.js';
import { gatewayPodIps, IngressProber, probeSucceeded, type ProbeTarget } from './readiness-probe.js';

test('gateway pods: ready addresses of kourier-internal in the gateway namespace only', () => {
  const slice = (ns: string, svc: string, ready: boolean, ip: string) => ({
    metadata: { name: `${svc}-${ip}`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: [{ addresses: [ip], conditions: { ready } }],
  });
  assert.deepEqual(
    gatewayPodIps(
      [
        slice('kourier-system', 'kourier-internal', true, '10.0.0.2'),
        slice('kourier-system', 'kourier-internal', false, '10.0.0.3'),
        slice('kourier-system', 'kourier', true, '10.0.0.4'),
        slice('default', 'kourier-internal', true, '10.0.0.5'),
        slice('kourier-system', 'kourier-internal', true, '10.0.0.1'),
      ],
      'kourier-system',
    ),
    ['10.0.0.1', '10.0.0.2'],
  );
  assert.equal(probeSucceeded(200, 'h', 'h'), true);
  assert.equal(probeSucceeded(200, 'other', 'h'), false);
  assert.equal(probeSucceeded(503, 'h', 'h'), false);
});

test('prober: bounded concurrency; ready only when every target echoes the hash; a new hash probes again', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'K-Network-Hash': req.headers.host === 'good' ? 'h1' : 'nope' }).end();
    }, 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  let readyCalls = 0;
  const prober = new IngressProber({ log: silentLogger(), timeoutMs: 1000, retryMs: 0, maxConcurrent: 3, onReady: () => readyCalls++ });
  const targets = (host: string): ProbeTarget[] => Array.from({ length: 10 }, () => ({ ip: '127.0.0.1', port, host }));
  assert.equal(prober.isReady('a', 'h1', targets('good')), false, 'not before the probes answered');
  assert.equal(prober.isReady('b', 'h1', targets('bad')), false);
  for (let i = 0; i < 100 && readyCalls === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(prober.isReady('a', 'h1', targets('good')), true);
  assert.equal(prober.isReady('b', 'h1', targets('bad')), false, 'a wrong hash is not ready');
  assert.equal(readyCalls, 1);
  assert.ok(peak <= 3, `at most 3 probes in flight (saw ${peak})`);
  assert.equal(prober.isReady('a', 'h2', targets('good')), false, 'a new version is probed again');
  assert.equal(prober.isReady('c', 'h1', []), false, 'no gateway pod: never ready');
});
