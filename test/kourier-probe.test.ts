/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON and decoded protos */
/**
 * Knative's readiness probe against a gateway pod: `proxima serve --kubernetes` (stand-in
 * apiserver, no kube-apiserver here) probes every ready endpoint of `kourier-internal` the way
 * knative/networking pkg/status does. The gateway pod is an Envoy STAND-IN (no Envoy here) that
 * answers HTTP with the route configurations Proxima sent it over ADS (test/kube/kourier-gateway.ts):
 * Host → virtual host, first route whose prefix and exact header matchers match, its
 * request_headers_to_add applied, and a backend that echoes K-Network-Hash for probe requests, as
 * Knative's queue-proxy does. The route configuration it serves can be frozen, as an Envoy that has
 * not applied the new version yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { conditionOf, serveKubernetes, until } from './kube/e2e-cluster.js';
import { startStandIn } from './kube/harness.js';
import { KourierLikeGateway } from './kube/kourier-gateway.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { ingressHash } from '../src/sources/kubernetes/ingress-hash.js';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { IngressProber, probeTargets } from '../src/sources/kubernetes/readiness-probe.js';
import type { IngressTranslation } from '../src/sources/kubernetes/ingress.js';
import { silentLogger } from '../src/log.js';
import { makeCa, requireOpenssl } from './helpers/certs.js';

/** Envoy's route matching on the decoded RouteConfiguration: the request headers the backend sees, or undefined (404). */
function route(rc: any, req: IncomingMessage): Record<string, string> | undefined {
  const host = String(req.headers.host ?? '');
  const vh = rc?.virtual_hosts?.find((v: any) => v.domains.includes(host));
  const path = req.url ?? '/';
  const r = vh?.routes.find(
    (x: any) =>
      path.startsWith(x.match.prefix ?? '\u0000') &&
      (x.match.headers ?? []).every((h: any) => req.headers[h.name.toLowerCase()] === h.string_match.exact),
  );
  if (!r?.route) return undefined;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  for (const h of r.request_headers_to_add ?? []) headers[h.header.key.toLowerCase()] = h.header.value;
  return headers;
}

test('readiness probe: Ready only once the gateway pod answers /healthz with the KIngress hash; headers as Knative sends them', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  const xdsGateway = { gw: undefined as KourierLikeGateway | undefined, frozen: undefined as Record<string, any> | undefined };
  const seen: Array<{ path: string; headers: IncomingMessage['headers']; port: number }> = [];
  const pod = (routeConfig: string): Server =>
    createServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers, port: (req.socket.address() as AddressInfo).port });
      const rc = xdsGateway.frozen?.[routeConfig] ?? xdsGateway.gw?.resource(TypeUrl.RouteConfiguration, routeConfig);
      const h = route(rc, req);
      if (!h) return res.writeHead(404).end();
      // queue-proxy answers Knative's probe itself and echoes the hash it received.
      res.writeHead(200, h['k-network-probe'] === 'probe' && h['k-network-hash'] ? { 'K-Network-Hash': h['k-network-hash'] } : {}).end();
    });
  const external = pod('external_services');
  const internal = pod('internal_services');
  for (const s of [external, internal]) {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => s.close(() => r())));
  }
  const port = (s: Server) => (s.address() as AddressInfo).port;
  api.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kourier-internal-x', namespace: 'kourier-system', labels: { 'kubernetes.io/service-name': 'kourier-internal' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, nodeName: 'edge-1' }],
    ports: [{ name: 'http2', port: 8081, protocol: 'TCP' }],
  });

  // The gateway pod serves an old route configuration (no hello yet) although its xDS stream ACKs.
  xdsGateway.frozen = { external_services: { virtual_hosts: [] }, internal_services: { virtual_hosts: [] } };
  const serve = await serveKubernetes(url, {
    kourier: {
      readinessProbe: { ports: { external: port(external), externalTls: 1, internal: port(internal) }, timeoutMs: 500, retryMs: 100 },
    },
  });
  t.after(() => serve.close());
  xdsGateway.gw = new KourierLikeGateway(serve.addresses.xds, 'edge-1');
  t.after(() => xdsGateway.gw!.close());
  await until(
    'the gateway ACKed hello’s routes',
    () => xdsGateway.gw!.resource(TypeUrl.RouteConfiguration, 'external_services') !== undefined,
  );
  await until('probes reached the pod', () => seen.length >= 2);
  await new Promise((r) => setTimeout(r, 1200)); // > a status refresh period
  const ready = () => conditionOf(api.get('Ingress', 'hello', 'default'), 'Ready')?.['status'];
  assert.notEqual(ready(), 'True', 'ACKed but not serving it: not Ready');

  xdsGateway.frozen = undefined; // the gateway applies its config
  await until('Ready once the probe sees the hash', () => ready() === 'True');

  const ing = api.get('Ingress', 'hello', 'default')!;
  const want = ingressHash(ing['spec'], 'default', 'hello');
  const probe = seen.at(-1)!;
  assert.equal(probe.path, '/healthz');
  assert.equal(probe.headers['user-agent'], 'Knative-Ingress-Probe');
  assert.equal(probe.headers['k-network-probe'], 'probe');
  assert.equal(probe.headers['k-network-hash'], 'override');
  const ports = new Set(
    seen.map((s) => [s.port, s.headers.host]).map(([p, h]) => `${p === port(external) ? 'external' : 'internal'} ${h}`),
  );
  assert.ok(ports.has('external hello.default.example.com'), [...ports].join(', '));
  assert.ok(
    [...ports].some((p) => p.startsWith('internal hello.default')),
    [...ports].join(', '),
  );
  assert.match(want, /^[0-9a-f]{64}$/);
});

test('readiness probe: an ingress with spec.tls is probed over HTTPS on 9443 (SNI = host, no certificate check, as Knative)', async (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  t.after(() => ca.cleanup());
  const cert = ca.issue('probe', { dns: ['secure.example.com'] });
  let sni: string | undefined;
  const server = createTlsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    sni = (req.socket as TLSSocket & { servername?: string }).servername;
    res.writeHead(200, { 'K-Network-Hash': String(req.headers['k-network-hash'] === 'override' ? 'the-hash' : '') }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const tlsPort = (server.address() as AddressInfo).port;
  const ingress = {
    key: 'ns/secure',
    routes: [
      {
        name: 'ns/secure#0',
        hosts: ['secure.example.com'],
        visibility: ['external', 'internal'],
        rules: [],
        tls: [{ hosts: ['secure.example.com'], secret: 'ns/cert' }],
        httpsRedirect: true,
      },
    ],
  } as unknown as IngressTranslation;
  const targets = probeTargets(ingress, ['127.0.0.1'], { external: 8090, externalTls: tlsPort, internal: 8081 });
  assert.deepEqual(targets, [{ ip: '127.0.0.1', port: tlsPort, host: 'secure.example.com', tls: true }]);
  let ready = 0;
  const prober = new IngressProber({ log: silentLogger(), timeoutMs: 1000, retryMs: 0, onReady: () => ready++ });
  prober.isReady('ns/secure', 'the-hash', targets);
  await until('probed over TLS', () => ready === 1);
  assert.equal(prober.isReady('ns/secure', 'the-hash', targets), true);
  assert.equal(sni, 'secure.example.com');
});
