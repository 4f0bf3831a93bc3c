/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks Envoy resources as plain objects */
/**
 * config-kourier `extauthz-*` (and net-kourier's KOURIER_EXTAUTHZ_* environment) as net-kourier
 * builds it (pkg/reconciler/ingress/config/ext_authz.go, kourier.go asExternalAuthz;
 * pkg/envoy/api/virtual_host.go NewVirtualHostWithExtAuthz, route.go NewRouteExtAuthzDisabled;
 * pkg/generator/ingress_translator.go, status_vhost.go): the ext_authz filter before the router,
 * the `extAuthz` cluster, check settings with Kourier's context extensions on every virtual host,
 * ACME HTTP-01 paths and the status host unchecked. KIngresses built as the conformance tests build
 * them (test/kourier/conformance-harness.ts). No Envoy runs here: every resource is checked against
 * Envoy's protos (strict decode, unknown fields refused, decode → re-encode byte-exact).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayConfigFrom } from '../src/sources/kubernetes/gateway-config.js';
import { parseOptions } from '../src/config.js';
import { SERVE_SPEC } from '../src/cli/specs.js';
import { serveOptionsFrom } from '../src/cli/serve.js';
import { backend, DOMAIN, gatewayFor, kingress, NS, realRoutes, split } from './kourier/conformance-harness.js';

const config = (kourier: Record<string, string>, env?: Record<string, string>) =>
  gatewayConfigFrom({ kourier, network: undefined, gatewayNamespace: 'kourier-system', ...(env ? { envExtAuthz: env } : {}) });

test('ext_authz config: config-kourier keys with Kourier’s defaults; KOURIER_EXTAUTHZ_* wins when its host is set; bad values reported, ext_authz off', () => {
  assert.deepEqual(config({ 'extauthz-host': 'authz.auth:9000' }).config.extAuthz, {
    host: 'authz.auth',
    port: 9000,
    protocol: 'grpc',
    failureModeAllow: false,
    maxRequestBytes: 8192,
    timeoutMs: 2000,
    pathPrefix: '',
    packAsBytes: false,
  });
  const all = config({
    'extauthz-host': '[fd00::1]:8080',
    'extauthz-protocol': 'http',
    'extauthz-failure-mode-allow': 'true',
    'extauthz-max-request-body-bytes': '1024',
    'extauthz-timeout': '500',
    'extauthz-path-prefix': '/check',
  });
  assert.deepEqual(all.issues, []);
  assert.deepEqual(all.config.extAuthz, {
    host: 'fd00::1',
    port: 8080,
    protocol: 'http',
    failureModeAllow: true,
    maxRequestBytes: 1024,
    timeoutMs: 500,
    pathPrefix: '/check',
    packAsBytes: false,
  });
  const env = config({ 'extauthz-host': 'from-config:1' }, { 'extauthz-host': 'from-env:2', 'extauthz-pack-as-bytes': 'true' });
  assert.deepEqual([env.config.extAuthz?.host, env.config.extAuthz?.port, env.config.extAuthz?.packAsBytes], ['from-env', 2, true]);
  assert.equal(config({}, { 'extauthz-protocol': 'http' }).config.extAuthz, undefined, 'no host anywhere: off');
  for (const [data, key] of [
    [{ 'extauthz-host': 'nohost' }, 'extauthz-host'],
    [{ 'extauthz-host': 'a:70000' }, 'extauthz-host'],
    [{ 'extauthz-host': 'a:1', 'extauthz-protocol': 'tcp' }, 'extauthz-protocol'],
    [{ 'extauthz-host': 'a:1', 'extauthz-protocol': 'http', 'extauthz-pack-as-bytes': 'true' }, 'extauthz-pack-as-bytes'],
    [{ 'extauthz-host': 'a:1', 'extauthz-failure-mode-allow': 'maybe' }, 'extauthz-failure-mode-allow'],
    [{ 'extauthz-host': 'a:1', 'extauthz-timeout': '-5' }, 'extauthz-timeout'],
    [{ 'extauthz-host': 'a:1', 'extauthz-max-request-body-bytes': '1e3' }, 'extauthz-max-request-body-bytes'],
  ] as const) {
    const r = config(data);
    assert.equal(r.config.extAuthz, undefined, JSON.stringify(data));
    assert.deepEqual(
      r.issues.map((i) => i.key),
      [key],
      JSON.stringify(data),
    );
    assert.match(r.issues[0]!.message, /ext_authz stays off/);
  }
});

test('ext_authz flags: KOURIER_EXTAUTHZ_* (net-kourier env) and --extauthz-* reach the source under config-kourier’s key names', () => {
  const parse = (argv: string[], env: Record<string, string>) => serveOptionsFrom(parseOptions(SERVE_SPEC, argv, env)).kourier!;
  assert.deepEqual(
    parse(['--kubernetes'], {
      KOURIER_EXTAUTHZ_HOST: 'authz:9000',
      KOURIER_EXTAUTHZ_PROTOCOL: 'http',
      KOURIER_EXTAUTHZ_TIMEOUT: '300',
      KOURIER_EXTAUTHZ_MAXREQUESTBYTES: '100',
      KOURIER_EXTAUTHZ_FAILUREMODEALLOW: 'true',
      KOURIER_EXTAUTHZ_PATHPREFIX: '/authz',
    }).envExtAuthz,
    {
      'extauthz-host': 'authz:9000',
      'extauthz-protocol': 'http',
      'extauthz-failure-mode-allow': 'true',
      'extauthz-max-request-body-bytes': '100',
      'extauthz-timeout': '300',
      'extauthz-path-prefix': '/authz',
    },
  );
  assert.equal(parse(['--kubernetes'], {}).envExtAuthz, undefined);
});

test('ext_authz resources (grpc): the filter before the router, the extAuthz cluster, context extensions per virtual host, ACME and status host unchecked', () => {
  const b = backend('authz-backend');
  const acme = backend('acme-solver');
  const host = `authz.${NS}.${DOMAIN}`;
  const ing = kingress('authz', {
    httpOption: 'Redirected',
    rules: [
      {
        hosts: [host],
        visibility: 'ExternalIP',
        http: {
          paths: [
            { path: '/.well-known/acme-challenge/token', splits: [split(acme, { percent: 100 })] },
            { splits: [split(b, { percent: 100 })] },
          ],
        },
      },
      { hosts: [`authz-local.${NS}.svc.cluster.local`], visibility: 'ClusterLocal', http: { paths: [{ splits: [split(b)] }] } },
    ],
  });
  ing.metadata.labels = { 'serving.knative.dev/route': 'authz', 'serving.knative.dev/routeNamespace': NS };
  const gw = gatewayFor(
    [...b.objects, ...acme.objects, ing],
    config({ 'extauthz-host': 'authz.auth:9000', 'extauthz-timeout': '750' }).config,
  );

  for (const l of gw.listeners.values())
    for (const chain of l.filter_chains) {
      const filters = chain.filters[0].typed_config.http_filters.map((f: any) => f.name);
      assert.deepEqual(filters, ['envoy.filters.http.ext_authz', 'envoy.filters.http.router'], l.name);
    }
  const filter = gw.listeners.get('listener_8080').filter_chains[0].filters[0].typed_config.http_filters[0];
  assert.deepEqual(filter.typed_config, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
    transport_api_version: 'V3',
    failure_mode_allow: false,
    with_request_body: { max_request_bytes: 8192, allow_partial_message: true, pack_as_bytes: false },
    clear_route_cache: false,
    grpc_service: {
      envoy_grpc: { cluster_name: 'extAuthz' },
      timeout: { seconds: 0, nanos: 750_000_000 },
      initial_metadata: [{ key: 'client', value: 'kourier' }],
    },
  });
  assert.deepEqual(gw.clusters.get('extAuthz'), {
    name: 'extAuthz',
    type: 'STRICT_DNS',
    connect_timeout: { seconds: 5, nanos: 0 },
    load_assignment: {
      cluster_name: 'extAuthz',
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { protocol: 'TCP', address: 'authz.auth', port_value: 9000, ipv4_compat: true } } } },
          ],
        },
      ],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  });

  const perRoute = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';
  const ext = gw.vhost('external_services', host);
  assert.deepEqual(ext.typed_per_filter_config, {
    'envoy.filters.http.ext_authz': {
      '@type': perRoute,
      check_settings: {
        context_extensions: {
          client: 'kourier',
          'serving.knative.dev/route': 'authz',
          'serving.knative.dev/routeNamespace': NS,
          visibility: 'ExternalIP',
        },
      },
    },
  });
  const local = gw.vhost('internal_services', `authz-local.${NS}.svc.cluster.local`);
  assert.equal(local.typed_per_filter_config['envoy.filters.http.ext_authz'].check_settings.context_extensions.visibility, 'ClusterLocal');
  // The ACME path: routed (not redirected although httpOption is Redirected), unchecked; the rest redirects.
  const [acmeRoute, rest] = realRoutes(ext);
  assert.equal(acmeRoute.match.prefix, '/.well-known/acme-challenge/token');
  assert.equal(acmeRoute.route.weighted_clusters.clusters[0].name, `${NS}/acme-solver`);
  assert.deepEqual(acmeRoute.typed_per_filter_config, { 'envoy.filters.http.ext_authz': { '@type': perRoute, disabled: true } });
  assert.deepEqual(rest.redirect, { https_redirect: true });
  assert.equal(rest.typed_per_filter_config, undefined);
  const status = gw.routeConfigs.get('internal_services').virtual_hosts.find((v: any) => v.name === 'internalkourier');
  assert.deepEqual(status.typed_per_filter_config, { 'envoy.filters.http.ext_authz': { '@type': perRoute, disabled: true } });
});

test('ext_authz resources (http): server_uri, path_prefix and the client header; an HTTP/1 cluster; nothing of it without the config', () => {
  const b = backend('authz-http');
  const ing = kingress('authz-http', {
    rules: [{ hosts: [`authz-http.${NS}.${DOMAIN}`], visibility: 'ExternalIP', http: { paths: [{ splits: [split(b)] }] } }],
  });
  const gw = gatewayFor(
    [...b.objects, ing],
    config({ 'extauthz-host': 'authz:8080', 'extauthz-protocol': 'http', 'extauthz-path-prefix': '/check' }).config,
  );
  const filter = gw.listeners.get('listener_8080').filter_chains[0].filters[0].typed_config.http_filters[0].typed_config;
  assert.deepEqual(filter.http_service, {
    server_uri: { uri: 'http://authz:8080', cluster: 'extAuthz', timeout: { seconds: 2, nanos: 0 } },
    path_prefix: '/check',
    authorization_request: { headers_to_add: [{ key: 'client', value: 'kourier' }] },
  });
  assert.equal(filter.grpc_service, undefined);
  assert.deepEqual(
    gw.clusters.get('extAuthz').typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']
      .explicit_http_config,
    {
      http_protocol_options: {},
    },
  );

  const plain = gatewayFor([...b.objects, ing]);
  assert.equal(plain.clusters.get('extAuthz'), undefined);
  assert.deepEqual(
    plain.listeners.get('listener_8080').filter_chains[0].filters[0].typed_config.http_filters.map((f: any) => f.name),
    ['envoy.filters.http.router'],
  );
  assert.equal(plain.vhost('external_services', `authz-http.${NS}.${DOMAIN}`).typed_per_filter_config, undefined);
});
