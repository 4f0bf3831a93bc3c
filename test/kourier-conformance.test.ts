/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks Envoy resources as plain objects */
/**
 * Knative's ingress conformance suite (knative/networking test/conformance/ingress/run.go; Kourier
 * runs it with alpha and beta features on), one test per upstream test: each builds the KIngress
 * and Services the upstream test builds and asserts, field by field, the Envoy resources a Kourier
 * gateway gets for it from Proxima — what net-kourier's pkg/generator and pkg/envoy/api produce,
 * except that certificates arrive over SDS instead of being inlined in LDS. No Envoy runs here:
 * every resource passes strict decoding against Envoy's protos and a decode → re-encode round trip
 * (conformance-harness.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingressHash } from '../src/sources/kubernetes/ingress-hash.js';
import { DEFAULT_GATEWAY_CONFIG } from '../src/model/types.js';
import { makeCa, requireOpenssl } from './helpers/certs.js';
import {
  backend,
  DOMAIN,
  externalNameService,
  gatewayFor,
  headerPairs,
  kingress,
  NS,
  probeRoutes,
  realRoutes,
  split,
  tlsSecret,
  type Backend,
} from './kourier/conformance-harness.js';

const ZERO = { seconds: 0, nanos: 0 };
const OVERWRITE = 'OVERWRITE_IF_EXISTS_OR_ADD';
const H2_OPTIONS = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicit_http_config: { http2_protocol_options: {} },
  },
};

/** One ExternalIP rule for `host` with the given paths (the shape most conformance tests use). */
function externalRule(host: string, paths: object[]): object {
  return { hosts: [host], visibility: 'ExternalIP', http: { paths } };
}

/** A Kourier route (pkg/envoy/api/route.go NewRoute): prefix match, weighted clusters, timeout 0, websocket on. */
function assertKourierRoute(r: any, want: { prefix: string; clusters: [Backend, number, [string, string][]?][] }): void {
  assert.deepEqual(r.match.prefix, want.prefix);
  assert.deepEqual(
    r.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value, headerPairs(c.request_headers_to_add)]),
    want.clusters.map(([b, w, h]) => [`${NS}/${b.name}`, w, h ?? []]),
  );
  assert.deepEqual(r.route.timeout, ZERO, 'timeout 0: no upstream timeout (Kourier)');
  assert.deepEqual(r.route.upgrade_configs, [{ upgrade_type: 'websocket', enabled: { value: true } }]);
  assert.equal(r.route.retry_policy, undefined, 'no retries (retry.go expects the first 503 to reach the client)');
  for (const c of r.route.weighted_clusters.clusters)
    for (const h of c.request_headers_to_add ?? []) assert.equal(h.append_action, OVERWRITE);
}

/** An EDS cluster `namespace/name` (Kourier names clusters the same way). */
function assertCluster(gw: ReturnType<typeof gatewayFor>, b: Backend, http2: boolean): void {
  const c = gw.clusters.get(`${NS}/${b.name}`);
  assert.ok(c, `cluster ${NS}/${b.name}`);
  assert.equal(c.type, 'EDS');
  assert.equal(c.eds_cluster_config.service_name, `${NS}/${b.name}`);
  assert.deepEqual(c.typed_extension_protocol_options, http2 ? H2_OPTIONS : undefined);
  const svc = gw.translation.services.find((s) => s.name === `${NS}/${b.name}`)!;
  assert.deepEqual(
    svc.endpoints.map((e) => [e.address, e.port]),
    [[b.podIp, b.containerPort]],
    'the pod at its targetPort',
  );
}

test('basics (basic.go TestBasics): one host, one split, on 8080 and 8081 with domains host and host:*', () => {
  const b = backend('basics');
  const host = `basics.${DOMAIN}`;
  const gw = gatewayFor([...b.objects, kingress('basics', { rules: [externalRule(host, [{ splits: [split(b)] }])] })]);
  assert.deepEqual([...gw.listeners.keys()], ['listener_8080', 'listener_8081', 'listener_8090'], 'no TLS listener without TLS');
  for (const rc of ['external_services', 'internal_services']) {
    const vh = gw.vhost(rc, host);
    assert.deepEqual(vh.domains, [host, `${host}:*`]);
    const [r] = realRoutes(vh);
    assertKourierRoute(r, { prefix: '/', clusters: [[b, 100]] });
  }
  assertCluster(gw, b, false);
  for (const rc of ['external_services', 'internal_services'])
    assert.deepEqual(gw.routeConfigs.get(rc).validate_clusters, { value: true }, 'Kourier: validate_clusters');
  assert.equal(gw.listeners.get('listener_8090').filter_chains[0].filters[0].typed_config.rds.route_config_name, 'external_services');
});

test('basics/http2 (basic.go TestBasicsHTTP2): a port named h2c makes the cluster speak HTTP/2', () => {
  const b = backend('basics-h2', 'h2c', 'kubernetes.io/h2c');
  const gw = gatewayFor([...b.objects, kingress('basics-h2', { rules: [externalRule(`basics-h2.${DOMAIN}`, [{ splits: [split(b)] }])] })]);
  assertCluster(gw, b, true);
});

test('grpc and grpc/split (grpc.go TestGRPC, TestGRPCSplit): h2c clusters, 50/50 weighted clusters', () => {
  const b = backend('grpc', 'h2c', 'kubernetes.io/h2c');
  const blue = backend('grpc-blue', 'h2c', 'kubernetes.io/h2c');
  const green = backend('grpc-green', 'h2c', 'kubernetes.io/h2c');
  const gw = gatewayFor([
    ...b.objects,
    ...blue.objects,
    ...green.objects,
    kingress('grpc', { rules: [externalRule(`grpc.${DOMAIN}`, [{ splits: [split(b)] }])] }),
    kingress('grpc-split', {
      rules: [externalRule(`grpc-split.${DOMAIN}`, [{ splits: [split(blue, { percent: 50 }), split(green, { percent: 50 })] }])],
    }),
  ]);
  for (const x of [b, blue, green]) assertCluster(gw, x, true);
  assertKourierRoute(realRoutes(gw.vhost('external_services', `grpc-split.${DOMAIN}`))[0], {
    prefix: '/',
    clusters: [
      [blue, 50],
      [green, 50],
    ],
  });
});

test('headers/pre-split and headers/post-split (headers.go): path headers on the route, split headers per cluster, overwritten', () => {
  const b = backend('hdr');
  const gw = gatewayFor([
    ...b.objects,
    kingress('pre', { rules: [externalRule(`pre.${DOMAIN}`, [{ appendHeaders: { 'Foo-Bar-Baz': 'hdr' }, splits: [split(b)] }])] }),
    kingress('post', { rules: [externalRule(`post.${DOMAIN}`, [{ splits: [split(b, { appendHeaders: { 'Foo-Bar-Baz': 'hdr' } })] }])] }),
  ]);
  const pre = realRoutes(gw.vhost('external_services', `pre.${DOMAIN}`))[0];
  assert.deepEqual(pre.request_headers_to_add, [{ header: { key: 'Foo-Bar-Baz', value: 'hdr' }, append_action: OVERWRITE }]);
  const post = realRoutes(gw.vhost('external_services', `post.${DOMAIN}`))[0];
  assert.equal(post.request_headers_to_add, undefined);
  assertKourierRoute(post, { prefix: '/', clusters: [[b, 100, [['Foo-Bar-Baz', 'hdr']]]] });
});

test('headers/probe (headers.go TestProbeHeaders): K-Network-Hash: override → the ingress hash; any other value passes through', () => {
  const b = backend('probe');
  const ing = kingress('probe', { rules: [externalRule(`probe.${DOMAIN}`, [{ splits: [split(b)] }])] });
  const gw = gatewayFor([...b.objects, ing]);
  const want = ingressHash(ing.spec, NS, 'probe');
  for (const rc of ['external_services', 'internal_services']) {
    const vh = gw.vhost(rc, `probe.${DOMAIN}`);
    assert.deepEqual(
      vh.routes.map((r: any) => r.name),
      [`${NS}/probe#0/0/probe`, `${NS}/probe#0/0`],
      'the probe copy first',
    );
    const [p] = probeRoutes(vh);
    assert.deepEqual(p.match, { prefix: '/', headers: [{ name: 'K-Network-Hash', string_match: { exact: 'override' } }] });
    assert.deepEqual(headerPairs(p.request_headers_to_add), [['K-Network-Hash', want]]);
    assertKourierRoute(p, { prefix: '/', clusters: [[b, 100]] });
    // "request overrides hash": a request with another hash matches the plain route, which leaves it alone.
    assert.equal(realRoutes(vh)[0].match.headers, undefined);
  }
});

test('headers/tags (headers.go TestTagHeaders): the tag-matching path before the default path', () => {
  const b = backend('tags');
  const gw = gatewayFor([
    ...b.objects,
    kingress('tags', {
      rules: [
        externalRule(`tags.${DOMAIN}`, [
          { headers: { 'Knative-Serving-Tag': { exact: 'the-tag' } }, appendHeaders: { 'Which-Backend': 'tag' }, splits: [split(b)] },
          { appendHeaders: { 'Which-Backend': 'no-tag' }, splits: [split(b)] },
        ]),
      ],
    }),
  ]);
  const [tagged, plain] = realRoutes(gw.vhost('external_services', `tags.${DOMAIN}`));
  assert.deepEqual(tagged.match.headers, [{ name: 'Knative-Serving-Tag', string_match: { exact: 'the-tag' } }]);
  assert.deepEqual(headerPairs(tagged.request_headers_to_add), [['Which-Backend', 'tag']]);
  assert.equal(plain.match.headers, undefined);
  assert.deepEqual(headerPairs(plain.request_headers_to_add), [['Which-Backend', 'no-tag']]);
});

test('hosts/multiple (hosts.go TestMultipleHosts): every host answered, each with its :* twin', () => {
  const b = backend('multi');
  const hosts = ['foo.com', 'www.foo.com', 'a-b-1.something-really-really-long.knative.dev', 'add.your.interesting.domain.here.io'].map(
    (h) => `multi.${h}`,
  );
  const gw = gatewayFor([
    ...b.objects,
    kingress('multi', { rules: [{ hosts, visibility: 'ExternalIP', http: { paths: [{ splits: [split(b)] }] } }] }),
  ]);
  for (const h of hosts) assert.deepEqual(gw.vhost('external_services', h).domains, [h, `${h}:*`]);
});

test('dispatch/path and dispatch/path_and_percentage (path.go): longer prefixes first, / last, 50/50 on /foo', () => {
  const [foo, bar, baz, main] = ['path-foo', 'path-bar', 'path-baz', 'path-main'].map((n) => backend(n)) as [
    Backend,
    Backend,
    Backend,
    Backend,
  ];
  const tag = (x: Backend) => split(x, { percent: 100, appendHeaders: { 'Which-Backend': x.name } });
  const gw = gatewayFor([
    ...[foo, bar, baz, main].flatMap((x) => x.objects),
    kingress('path', {
      rules: [
        externalRule(`path.${DOMAIN}`, [
          { path: '/foo', splits: [tag(foo)] },
          { path: '/bar', splits: [tag(bar)] },
          { path: '/baz', splits: [tag(baz)] },
          { splits: [tag(main)] },
        ]),
      ],
    }),
    kingress('pap', {
      rules: [
        externalRule(`pap.${DOMAIN}`, [
          {
            path: '/foo',
            splits: [
              split(foo, { percent: 50, appendHeaders: { 'Which-Backend': foo.name } }),
              split(bar, { percent: 50, appendHeaders: { 'Which-Backend': bar.name } }),
            ],
          },
          { splits: [tag(main)] },
        ]),
      ],
    }),
  ]);
  const routes = realRoutes(gw.vhost('external_services', `path.${DOMAIN}`));
  assert.deepEqual(
    routes.map((r: any) => r.match.prefix),
    ['/foo', '/bar', '/baz', '/'],
  );
  routes.forEach((r: any, i: number) => {
    const x = [foo, bar, baz, main][i]!;
    assertKourierRoute(r, { prefix: r.match.prefix, clusters: [[x, 100, [['Which-Backend', x.name]]]] });
  });
  const [fooSplit] = realRoutes(gw.vhost('external_services', `pap.${DOMAIN}`));
  assertKourierRoute(fooSplit, {
    prefix: '/foo',
    clusters: [
      [foo, 50, [['Which-Backend', foo.name]]],
      [bar, 50, [['Which-Backend', bar.name]]],
    ],
  });
});

test('dispatch/percentage (percentage.go TestPercentage): 1,2,4,…,37,0,0,0 kept as weights, zero weights included', () => {
  const backends = Array.from({ length: 10 }, (_, i) => backend(`pct-${i}`));
  const percents: number[] = [];
  let percent = 1;
  let total = 0;
  for (let i = 0; i < 10; i++) {
    percents.push(percent);
    total += percent;
    percent *= 2;
    if (total + percent > 100) percent = 100 - total;
  }
  assert.deepEqual(percents, [1, 2, 4, 8, 16, 32, 37, 0, 0, 0]);
  const gw = gatewayFor([
    ...backends.flatMap((b) => b.objects),
    kingress('pct', {
      rules: [
        externalRule(`pct.${DOMAIN}`, [
          { splits: backends.map((b, i) => split(b, { percent: percents[i], appendHeaders: { 'Foo-Bar-Baz': b.name } })) },
        ]),
      ],
    }),
  ]);
  assertKourierRoute(realRoutes(gw.vhost('external_services', `pct.${DOMAIN}`))[0], {
    prefix: '/',
    clusters: backends.map((b, i) => [b, percents[i]!, [['Foo-Bar-Baz', b.name]]]),
  });
});

test('dispatch/rule (rule.go TestRule): two rules, two virtual hosts, each with its own pre-split header', () => {
  const foo = backend('rule-foo');
  const bar = backend('rule-bar');
  const gw = gatewayFor([
    ...foo.objects,
    ...bar.objects,
    kingress('rule', {
      rules: [
        externalRule(`rule-foo.${DOMAIN}`, [{ splits: [split(foo)], appendHeaders: { 'Foo-Bar-Baz': foo.name } }]),
        externalRule(`rule-bar.${DOMAIN}`, [{ splits: [split(bar)], appendHeaders: { 'Foo-Bar-Baz': bar.name } }]),
      ],
    }),
  ]);
  for (const x of [foo, bar]) {
    const [r] = realRoutes(gw.vhost('external_services', `${x.name}.${DOMAIN}`));
    assertKourierRoute(r, { prefix: '/', clusters: [[x, 100]] });
    assert.deepEqual(headerPairs(r.request_headers_to_add), [['Foo-Bar-Baz', x.name]]);
  }
});

test('retry and timeout (retry.go, timeout.go): no retry policy, timeout 0 so long responses are not cut', () => {
  const r = backend('retry', 'h2c');
  const t = backend('timeout');
  const gw = gatewayFor([
    ...r.objects,
    ...t.objects,
    kingress('retry', { rules: [externalRule(`retry.${DOMAIN}`, [{ splits: [split(r)] }])] }),
    kingress('timeout', { rules: [externalRule(`timeout.${DOMAIN}`, [{ splits: [split(t)] }])] }),
  ]);
  assertKourierRoute(realRoutes(gw.vhost('external_services', `retry.${DOMAIN}`))[0], { prefix: '/', clusters: [[r, 100]] });
  assertKourierRoute(realRoutes(gw.vhost('external_services', `timeout.${DOMAIN}`))[0], { prefix: '/', clusters: [[t, 100]] });
  const hcm = gw.listeners.get('listener_8080').filter_chains[0].filters[0].typed_config;
  assert.deepEqual(hcm.stream_idle_timeout, ZERO, 'config-kourier stream-idle-timeout default 0s');
});

test('tls (tls.go TestIngressTLS): listener 8443 with one SNI chain per spec.tls, the certificate over SDS, HTTP still served', (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  try {
    const b = backend('tls');
    const host = `tls.${DOMAIN}`;
    const cert = ca.issue('tls', { dns: [host] });
    const gw = gatewayFor([
      ...b.objects,
      tlsSecret('tls-secret', cert.cert, cert.key),
      kingress('tls', {
        rules: [externalRule(host, [{ splits: [split(b)] }])],
        tls: [{ hosts: [host], secretName: 'tls-secret', secretNamespace: NS }],
      }),
    ]);
    assert.deepEqual([...gw.listeners.keys()], ['listener_8080', 'listener_8081', 'listener_8090', 'listener_8443', 'listener_9443']);
    const l = gw.listeners.get('listener_8443');
    assert.deepEqual(l.address, { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 8443 } });
    assert.deepEqual(l.listener_filters, [
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
      },
    ]);
    assert.equal(l.filter_chains.length, 1);
    const chain = l.filter_chains[0];
    assert.deepEqual(chain.filter_chain_match, { server_names: [host] });
    assert.equal(chain.filters[0].typed_config.rds.route_config_name, 'external_tls_services');
    assert.deepEqual(chain.transport_socket, {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: {
          alpn_protocols: ['h2', 'http/1.1'],
          tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
          tls_certificate_sds_secret_configs: [{ name: `${NS}/tls-secret`, sds_config: { ads: {}, resource_api_version: 'V3' } }],
        },
      },
    });
    assert.ok(
      !JSON.stringify(l).includes('PRIVATE KEY') && !JSON.stringify(l).includes(cert.key.toString('base64').slice(0, 40)),
      'no key in LDS',
    );
    const sds = gw.secrets.get(`${NS}/tls-secret`);
    assert.equal(Buffer.from(sds.tls_certificate.certificate_chain.inline_bytes).toString(), cert.cert.toString());
    assert.equal(Buffer.from(sds.tls_certificate.private_key.inline_bytes).toString(), cert.key.toString());
    assertKourierRoute(realRoutes(gw.vhost('external_tls_services', host))[0], { prefix: '/', clusters: [[b, 100]] });
    assertKourierRoute(realRoutes(gw.vhost('external_services', host))[0], { prefix: '/', clusters: [[b, 100]] });
    assert.deepEqual(gw.listeners.get('listener_9443').filter_chains, l.filter_chains, 'the HTTPS probe listener mirrors 8443');
    // A missing Secret: the ingress waits (Kourier fails its translation) instead of serving without a certificate.
    const missing = gatewayFor([
      ...b.objects,
      kingress('tls', {
        rules: [externalRule(host, [{ splits: [split(b)] }])],
        tls: [{ hosts: [host], secretName: 'nope', secretNamespace: NS }],
      }),
    ]);
    assert.deepEqual(missing.translation.ingresses[0]!.outcome, {
      kind: 'pending',
      reason: 'SecretNotFound',
      message: `Secret ${NS}/nope does not exist yet`,
    });
    assert.equal(missing.listeners.has('listener_8443'), false);
  } finally {
    ca.cleanup();
  }
});

test('tls: the default certificate (certs-secret-*) is the fallback chain after the SNI chains; cipher suites from config', (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  try {
    const b = backend('tlsdef');
    const host = `tlsdef.${DOMAIN}`;
    const c1 = ca.issue('tlsdef', { dns: [host] });
    const c2 = ca.issue('wild', { dns: [`*.${DOMAIN}`] });
    const gateway = {
      ...DEFAULT_GATEWAY_CONFIG,
      defaultCertificate: `${NS}/default-cert`,
      clusterCertificate: `${NS}/internal-cert`,
      cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256'],
    };
    const objects = [
      ...b.objects,
      tlsSecret('tlsdef', c1.cert, c1.key),
      tlsSecret('default-cert', c2.cert, c2.key),
      tlsSecret('internal-cert', c2.cert, c2.key),
      kingress('tlsdef', {
        rules: [externalRule(host, [{ splits: [split(b)] }])],
        tls: [{ hosts: [host], secretName: 'tlsdef', secretNamespace: NS }],
      }),
    ];
    const gw = gatewayFor(objects, gateway);
    const chains = gw.listeners.get('listener_8443').filter_chains;
    assert.deepEqual(
      chains.map((c: any) => [
        c.filter_chain_match?.server_names,
        c.transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name,
      ]),
      [
        [[host], `${NS}/tlsdef`],
        [undefined, `${NS}/default-cert`],
      ],
    );
    assert.deepEqual(chains[1].transport_socket.typed_config.common_tls_context.tls_params, {
      tls_minimum_protocol_version: 'TLSv1_2',
      cipher_suites: ['ECDHE-ECDSA-AES128-GCM-SHA256'],
    });
    assert.deepEqual([...gw.secrets.keys()].sort(), [`${NS}/default-cert`, `${NS}/internal-cert`, `${NS}/tlsdef`]);
    // cluster-cert-secret: listener_8444, one chain, internal_tls_services with the cluster-local routes.
    const l8444 = gw.listeners.get('listener_8444');
    assert.equal(l8444.filter_chains.length, 1);
    assert.equal(l8444.filter_chains[0].filter_chain_match, undefined);
    assert.equal(l8444.filter_chains[0].filters[0].typed_config.rds.route_config_name, 'internal_tls_services');
    assert.equal(
      l8444.filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name,
      `${NS}/internal-cert`,
    );
    assert.ok(realRoutes(gw.vhost('internal_tls_services', host))[0].route);
  } finally {
    ca.cleanup();
  }
});

test('httpoption (httpoption.go TestHTTPOption): Redirected → 301 https_redirect on 8080, real routes on 8443; Enabled → served on both', (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  try {
    const objects: object[] = [];
    for (const option of ['Enabled', 'Redirected']) {
      const name = `opt-${option.toLowerCase()}`;
      const b = backend(name);
      const host = `${name}.${DOMAIN}`;
      const c = ca.issue(name, { dns: [host] });
      objects.push(
        ...b.objects,
        tlsSecret(name, c.cert, c.key),
        kingress(name, {
          httpOption: option,
          rules: [externalRule(host, [{ splits: [split(b)] }])],
          tls: [{ hosts: [host], secretName: name, secretNamespace: NS }],
        }),
      );
    }
    const gw = gatewayFor(objects);
    const redirected = gw.vhost('external_services', `opt-redirected.${DOMAIN}`);
    assert.deepEqual(
      redirected.routes.map((r: any) => [r.name, r.redirect, r.route]),
      [
        [`${NS}/opt-redirected#0/0/probe`, { https_redirect: true }, undefined],
        [`${NS}/opt-redirected#0/0`, { https_redirect: true }, undefined],
      ],
      'every path (probe paths too) answers 301 (RedirectAction response_code default MOVED_PERMANENTLY)',
    );
    assert.ok(realRoutes(gw.vhost('external_tls_services', `opt-redirected.${DOMAIN}`))[0].route, 'routed over HTTPS');
    assert.ok(realRoutes(gw.vhost('internal_services', `opt-redirected.${DOMAIN}`))[0].route, 'cluster-local HTTP is not redirected');
    assert.ok(realRoutes(gw.vhost('external_services', `opt-enabled.${DOMAIN}`))[0].route, 'Enabled: plain HTTP served');
    assert.equal(gw.listeners.get('listener_8443').filter_chains.length, 2, 'one SNI chain per host');
  } finally {
    ca.cleanup();
  }
});

test('update (update.go TestUpdate): the new backend replaces the old one, and the probe hash changes with the spec', () => {
  const first = backend('upd-first');
  const next = backend('upd-next');
  const host = `upd.${DOMAIN}`;
  const spec = (b: Backend) => ({ rules: [externalRule(host, [{ splits: [split(b, { appendHeaders: { 'Who-Are-You': b.name } })] }])] });
  const v1 = gatewayFor([...first.objects, ...next.objects, kingress('upd', spec(first))]);
  const v2 = gatewayFor([...first.objects, ...next.objects, kingress('upd', spec(next))]);
  assertKourierRoute(realRoutes(v1.vhost('external_services', host))[0], {
    prefix: '/',
    clusters: [[first, 100, [['Who-Are-You', first.name]]]],
  });
  assertKourierRoute(realRoutes(v2.vhost('external_services', host))[0], {
    prefix: '/',
    clusters: [[next, 100, [['Who-Are-You', next.name]]]],
  });
  const hashOf = (g: typeof v1) => headerPairs(probeRoutes(g.vhost('external_services', host))[0].request_headers_to_add)[0]![1];
  assert.notEqual(hashOf(v1), hashOf(v2), 'the prober sees the new version only once the gateway has it');
});

test('visibility, visibility/split, visibility/path (visibility.go): ClusterLocal only on 8081, the public proxy on both', () => {
  const b = backend('vis');
  const proxy = backend('vis-proxy');
  const privateHosts = [`vis.${NS}.svc.cluster.local`, `vis.${NS}.svc`, `vis.${NS}`];
  const gw = gatewayFor([
    ...b.objects,
    ...proxy.objects,
    kingress('vis-private', {
      rules: [
        {
          hosts: privateHosts,
          visibility: 'ClusterLocal',
          http: { paths: [{ path: '/foo', splits: [split(b)] }, { splits: [split(b)] }] },
        },
      ],
    }),
    kingress('vis-public', { rules: [externalRule(`vis.${DOMAIN}`, [{ splits: [split(proxy)] }])] }),
  ]);
  for (const h of privateHosts) {
    assert.equal(gw.vhost('external_services', h), undefined, `${h} not exposed externally`);
    assert.deepEqual(
      realRoutes(gw.vhost('internal_services', h)).map((r: any) => r.match.prefix),
      ['/foo', '/'],
    );
  }
  assert.ok(gw.vhost('external_services', `vis.${DOMAIN}`));
  assert.ok(gw.vhost('internal_services', `vis.${DOMAIN}`));
  const status = gw.vhost('internal_services', 'internalkourier');
  assert.deepEqual(status.routes, [{ name: 'gateway_ready', match: { prefix: '/ready' }, direct_response: { status: 200 } }]);

  // visibility/split: a ClusterLocal rule splitting over several backends with post-split headers.
  const parts = [backend('vs-a'), backend('vs-b'), backend('vs-c')];
  const percents = [34, 33, 33];
  const split3 = gatewayFor([
    ...parts.flatMap((x) => x.objects),
    kingress('vis-split', {
      rules: [
        {
          hosts: [`vis-split.${NS}.svc.cluster.local`],
          visibility: 'ClusterLocal',
          http: { paths: [{ splits: parts.map((x, i) => split(x, { percent: percents[i], appendHeaders: { 'Foo-Bar-Baz': x.name } })) }] },
        },
      ],
    }),
  ]);
  assert.equal(split3.vhost('external_services', `vis-split.${NS}.svc.cluster.local`), undefined);
  assertKourierRoute(realRoutes(split3.vhost('internal_services', `vis-split.${NS}.svc.cluster.local`))[0], {
    prefix: '/',
    clusters: parts.map((x, i) => [x, percents[i]!, [['Foo-Bar-Baz', x.name]]]),
  });
});

test('ingressclass (class.go TestIngressClass): an incorrect or empty ingress.class is not picked up', () => {
  const b = backend('cls');
  const gw = gatewayFor([
    ...b.objects,
    kingress(
      'cls-wrong',
      { rules: [externalRule(`cls.${DOMAIN}`, [{ splits: [split(b)] }])] },
      { 'networking.knative.dev/ingress.class': 'incorrect' },
    ),
    kingress(
      'cls-empty',
      { rules: [externalRule(`cls2.${DOMAIN}`, [{ splits: [split(b)] }])] },
      { 'networking.knative.dev/ingress.class': '' },
    ),
  ]);
  assert.equal(gw.translation.ingresses.length, 0);
  assert.equal(gw.translation.ignoredIngresses, 2);
  assert.deepEqual(gw.routeConfigs.get('external_services').virtual_hosts, []);
});

test('websocket and websocket/split (websocket.go): upgrades enabled on the connection manager and on every route', () => {
  const b = backend('ws');
  const blue = backend('ws-blue');
  const green = backend('ws-green');
  const gw = gatewayFor([
    ...b.objects,
    ...blue.objects,
    ...green.objects,
    kingress('ws', { rules: [externalRule(`ws.${DOMAIN}`, [{ splits: [split(b)] }])] }),
    kingress('ws-split', {
      rules: [externalRule(`ws-split.${DOMAIN}`, [{ splits: [split(blue, { percent: 50 }), split(green, { percent: 50 })] }])],
    }),
  ]);
  for (const l of ['listener_8080', 'listener_8081'])
    assert.deepEqual(gw.listeners.get(l).filter_chains[0].filters[0].typed_config.upgrade_configs, [{ upgrade_type: 'websocket' }]);
  assertKourierRoute(realRoutes(gw.vhost('external_services', `ws.${DOMAIN}`))[0], { prefix: '/', clusters: [[b, 100]] });
  assertKourierRoute(realRoutes(gw.vhost('external_services', `ws-split.${DOMAIN}`))[0], {
    prefix: '/',
    clusters: [
      [blue, 50],
      [green, 50],
    ],
  });
});

test('host-rewrite (rewrite.go TestRewriteHost): host_rewrite_literal, and the ExternalName Service as a LOGICAL_DNS cluster', () => {
  const b = backend('rw');
  const privateHost = `rw-private.${NS}.svc.cluster.local`;
  const lb = 'kourier-internal.kourier-system.svc.cluster.local';
  const hosts = [`rw.vanity.ismy.name`, `rw.vanity.isalsomy.number`];
  const gw = gatewayFor([
    ...b.objects,
    externalNameService('rw-private', lb),
    kingress('rw-private', { rules: [{ hosts: [privateHost], visibility: 'ClusterLocal', http: { paths: [{ splits: [split(b)] }] } }] }),
    kingress('rw', {
      rules: [
        {
          hosts,
          visibility: 'ExternalIP',
          http: { paths: [{ rewriteHost: privateHost, splits: [{ serviceName: 'rw-private', serviceNamespace: NS, servicePort: 80 }] }] },
        },
      ],
    }),
  ]);
  for (const h of hosts) {
    const [r] = realRoutes(gw.vhost('external_services', h));
    assert.equal(r.route.host_rewrite_literal, privateHost);
    assert.deepEqual(
      r.route.weighted_clusters.clusters.map((c: any) => c.name),
      [`${NS}/rw-private`],
    );
  }
  assert.deepEqual(gw.clusters.get(`${NS}/rw-private`), {
    name: `${NS}/rw-private`,
    type: 'LOGICAL_DNS',
    connect_timeout: { seconds: 5, nanos: 0 },
    load_assignment: {
      cluster_name: `${NS}/rw-private`,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { protocol: 'TCP', address: lb, port_value: 80 } } } }] }],
    },
  });
});
