import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildExtprocClusters,
  extprocOptedIn,
  parseExtprocAddress,
  withExtprocListener,
  withPickedRoute,
  withPickingSkipped,
  EXT_PROC_PER_ROUTE_TYPE_URL,
  EXTPROC_FILTER_NAME,
  PICKED_ROUTE,
} from './extproc.js';
import { buildGatewayListeners } from './listeners.js';
import { buildGatewayRouteConfigs } from './routes.js';
import { service, storeWith, strictErrors } from './fixtures.js';

test('opt-in: Struct string/bool values and plain JSON; anything else is no', () => {
  const table: Array<[unknown, boolean]> = [
    [{ fields: { PROXIMA_EXTPROC: { string_value: 'true' } } }, true],
    [{ fields: { PROXIMA_EXTPROC: { string_value: ' True ' } } }, true],
    [{ fields: { PROXIMA_EXTPROC: { bool_value: true } } }, true],
    [{ fields: { PROXIMA_EXTPROC: { stringValue: 'true' } } }, true],
    [{ fields: { PROXIMA_EXTPROC: { boolValue: true } } }, true],
    [{ fields: { PROXIMA_EXTPROC: { kind: 'bool_value', bool_value: true } } }, true],
    [{ PROXIMA_EXTPROC: 'true' }, true],
    [{ PROXIMA_EXTPROC: true }, true],
    [{ fields: { PROXIMA_EXTPROC: { string_value: 'false' } } }, false],
    [{ fields: { PROXIMA_EXTPROC: { string_value: 'yes please' } } }, false],
    [{ fields: { PROXIMA_EXTPROC: { bool_value: false } } }, false],
    [{ fields: { PROXIMA_EXTPROC: { number_value: 1 } } }, false],
    [{ fields: { OTHER: { string_value: 'true' } } }, false],
    [{ PROXIMA_EXTPROC: 1 }, false],
    [undefined, false],
    [null, false],
    ['PROXIMA_EXTPROC', false],
  ];
  for (const [metadata, want] of table) assert.equal(extprocOptedIn(metadata), want, JSON.stringify(metadata));
});

test('ext_proc address: host:port and [v6]:port; bad input names itself', () => {
  assert.deepEqual(parseExtprocAddress('proxima-extproc.proxima-system.svc:18001'), {
    host: 'proxima-extproc.proxima-system.svc',
    port: 18001,
  });
  assert.deepEqual(parseExtprocAddress('[fd00::1]:18001'), { host: 'fd00::1', port: 18001 });
  for (const bad of ['proxima:0', 'proxima', ':18001', 'a:b:1', 'host:99999'])
    assert.throws(() => parseExtprocAddress(bad), new RegExp(bad.replace(/[[\]]/g, '\\$&')));
});

test('ext_proc cluster: STATIC for IP literals, STRICT_DNS for names', () => {
  const type = (a: string): unknown => buildExtprocClusters(parseExtprocAddress(a))[0]!.value['type'];
  assert.equal(type('10.0.0.1:18001'), 'STATIC');
  assert.equal(type('[fd00::1]:18001'), 'STATIC');
  assert.equal(type('proxima-extproc.proxima-system.svc:18001'), 'STRICT_DNS');
});

/** Two services with hosts: gives both route configurations virtual hosts. */
function fixtureRoutes() {
  return storeWith([], [service('default/a', [], 'http', ['a.example.com']), service('default/b', [], 'grpc', ['b.example.com'])]).routes();
}

test('every variant resource decodes strictly; a misspelt field would be caught', () => {
  const resources = [
    ...buildGatewayListeners().map((l) => withExtprocListener(l, 'edge-1')),
    ...buildGatewayRouteConfigs(fixtureRoutes()).map(withPickedRoute),
    ...buildExtprocClusters(parseExtprocAddress('proxima:18001')),
  ];
  for (const r of resources) assert.deepEqual(strictErrors(r), [], r.name);
  const bad = structuredClone(resources[0]!.value) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  bad['filter_chains'][0].filters[0].typed_config.http_filters[0].typed_config['failure_mode_alow'] = true;
  assert.match(strictErrors({ ...resources[0]!, value: bad }).join('\n'), /failure_mode_alow/);
});

test('transforms leave the plain resources untouched and keep the router last', () => {
  const [plain] = buildGatewayListeners();
  const before = JSON.stringify(plain!.value);
  const v = withExtprocListener(plain!, 'edge%1');
  assert.equal(JSON.stringify(plain!.value), before);
  const hcm = (v.value as any).filter_chains[0].filters[0].typed_config; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(
    hcm.http_filters.map((f: { name: string }) => f.name),
    ['envoy.filters.http.ext_proc', 'envoy.filters.http.router'],
  );
  const muts = hcm.early_header_mutation_extensions[0].typed_config.mutations;
  assert.equal(muts[muts.length - 1].append.header.value, 'edge%%1', 'a literal % is escaped from Envoy formatting');

  const [rc] = buildGatewayRouteConfigs(fixtureRoutes());
  const rcBefore = JSON.stringify(rc!.value);
  const picked = withPickedRoute(rc!);
  assert.equal(JSON.stringify(rc!.value), rcBefore);
  for (const vh of (picked.value as any).virtual_hosts) assert.equal(vh.routes[0].name, PICKED_ROUTE); // eslint-disable-line @typescript-eslint/no-explicit-any
});

test('picking skipped: a route whose services are all skipped disables ext_proc, strictly valid; the rest and the input untouched', () => {
  type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const [external] = buildGatewayRouteConfigs(fixtureRoutes()).map(withPickedRoute);
  const value = structuredClone(external!.value) as Json;
  // A third host splitting between a and b, and a redirect: neither is wholly skipped when only a is.
  value['virtual_hosts'].push({
    name: 'split',
    domains: ['split.example.com'],
    routes: [
      {
        name: 'split/0',
        match: { prefix: '/' },
        route: {
          weighted_clusters: {
            clusters: [
              { name: 'default/a', weight: { value: 50 } },
              { name: 'default/b', weight: { value: 50 } },
            ],
          },
        },
      },
      { name: 'split/1', match: { prefix: '/old' }, redirect: { https_redirect: true } },
    ],
  });
  // An existing per-filter config (ext_authz) is kept beside the new one.
  const hostA = (value['virtual_hosts'] as Json[]).find((vh) => vh['domains'].includes('a.example.com'))!;
  const authz = {
    'envoy.filters.http.ext_authz': {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute',
      disabled: true,
    },
  };
  hostA['routes'][1].typed_per_filter_config = authz;
  const input = { ...external!, value };
  const before = JSON.stringify(value);

  const out = withPickingSkipped(input, (s) => s === 'default/a');
  assert.equal(JSON.stringify(value), before, 'input not modified');
  assert.deepEqual(strictErrors(out), []);
  const disabled = (r: Json): boolean => r['typed_per_filter_config']?.[EXTPROC_FILTER_NAME]?.disabled === true;
  const byHost = new Map<string, Json[]>((out.value as Json)['virtual_hosts'].map((vh: Json) => [vh['name'], vh['routes'] as Json[]]));
  const a = byHost.get(hostA['name'])!;
  assert.equal(a[0]!['name'], PICKED_ROUTE);
  assert.equal(disabled(a[0]!), false, 'the picked route is never touched');
  assert.equal(disabled(a[1]!), true);
  assert.equal(a[1]!['typed_per_filter_config'][EXTPROC_FILTER_NAME]['@type'], EXT_PROC_PER_ROUTE_TYPE_URL);
  assert.deepEqual(a[1]!['typed_per_filter_config']['envoy.filters.http.ext_authz'], authz['envoy.filters.http.ext_authz']);
  const b = [...byHost.entries()].find(([name]) => name !== hostA['name'] && name !== 'split')![1];
  assert.ok(
    b.every((r) => !disabled(r)),
    'b is not skipped',
  );
  assert.ok(
    byHost.get('split')!.every((r) => !disabled(r)),
    'a split with an unskipped service and a redirect keep ext_proc',
  );

  assert.equal(
    withPickingSkipped(input, () => false),
    input,
    'nothing skipped: the same object',
  );
  const both = withPickingSkipped(input, () => true);
  assert.equal(disabled(((both.value as Json)['virtual_hosts'] as Json[]).find((vh) => vh['name'] === 'split')!['routes'][0]), true);
});
