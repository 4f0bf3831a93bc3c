/**
 * ext_proc picking over xDS: Envoy gateways that opt in through their Node metadata
 * (PROXIMA_EXTPROC) receive listeners, route configurations and clusters wired like
 * envoy/gateway-extproc.yaml; everyone else receives exactly the plain resources. A real control
 * plane on loopback and a raw ADS client (no xDS client logic) that sees every response.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { AssignmentEngine } from '../src/engine/assignments.js';
import { HEADER_DESTINATION, HEADER_FALLBACK, HEADER_NODE, LB_METADATA_NAMESPACE } from '../src/extproc/codec.js';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { nearestPolicy } from '../src/policy/nearest.js';
import type { Policy } from '../src/policy/types.js';
import { envoyProtos } from '../src/protos/envoy.js';
import { decodeStrict } from '../src/protos/strict-json.js';
import { encodeResource } from '../src/xds/snapshot/encoded.js';
import { XdsControlPlane } from '../src/xds/control-plane.js';
import {
  buildExtprocClusters,
  buildShared,
  DEFAULT_BUILD_OPTIONS,
  EXT_PROC_PER_ROUTE_TYPE_URL,
  EXTPROC_CLUSTER,
  EXTPROC_FILTER_NAME,
  ORIGINAL_DST_CLUSTER,
  parseExtprocAddress,
  withExtprocListener,
  withPickedRoute,
  type BuildOptions,
  type ProtoResource,
} from '../src/xds/resources/index.js';
import { messageNameOf } from '../src/xds/resources/types.js';
import {
  BASE_TOPOLOGY,
  node,
  RawClient,
  topology,
  TypeUrl,
  withService,
  type Any,
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
  type RawStream,
} from './xds-protocol-client.js';
import { bindLoopback } from './helpers/grpc.js';
import { ExtProcRouteWatch } from '../src/emulator/extproc-route-watch.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CDS = TypeUrl.Cluster;
const LDS = TypeUrl.Listener;
const RDS = TypeUrl.RouteConfiguration;
const GATEWAY_ROUTES = ['external_services', 'internal_services'];

const here = dirname(fileURLToPath(import.meta.url));
const STATIC = parse(readFileSync(resolve(here, '..', '..', 'envoy', 'gateway-extproc.yaml'), 'utf8')) as Json;
const staticHcm = (): Json => STATIC['static_resources'].listeners[0].filter_chains[0].filters[0].typed_config;

interface Plane {
  readonly target: string;
  readonly store: ModelStore;
  readonly plane: XdsControlPlane;
  readonly client: RawClient;
  close(): Promise<void>;
}

async function startPlane(
  buildOptions: BuildOptions = DEFAULT_BUILD_OPTIONS,
  text = BASE_TOPOLOGY,
  policy: Policy = nearestPolicy,
): Promise<Plane> {
  const store = new ModelStore();
  store.replaceTopology(topology(text));
  const engine = new AssignmentEngine({ store, policy });
  engine.start();
  const plane = new XdsControlPlane({ store, engine, log: silentLogger(), registry: new Registry(), buildOptions });
  const server = new grpc.Server();
  plane.register(server);
  const port = await bindLoopback(server);
  const client = new RawClient(`127.0.0.1:${port}`);
  return {
    target: `127.0.0.1:${port}`,
    store,
    plane,
    client,
    async close() {
      client.close();
      plane.close();
      engine.stop();
      await new Promise<void>((done) => server.tryShutdown(() => done()));
      server.forceShutdown();
    },
  };
}

/**
 * A Node that opts in, with the metadata as a proto Struct (what Envoy sends). protobufjs defines
 * google.protobuf.Value itself, with camelCase field names, so those are the names to encode with.
 */
function optedNode(id: string, subZone: string | undefined, value: { stringValue: string } | { boolValue: boolean }): Json {
  return { ...node(id, subZone), metadata: { fields: { PROXIMA_EXTPROC: value } } };
}

/** Wire Any → plain object with nested Anys expanded as {'@type', ...} (strict-json's object form). */
function decodeWire(any: Any): Json {
  const t = envoyProtos().type(messageNameOf(any.type_url));
  return t.toObject(t.decode(any.value), { longs: String, enums: String, defaults: false, json: true }) as Json;
}

function byName(r: { resources?: Any[] }): Map<string, Any> {
  const out = new Map<string, Any>();
  for (const a of r.resources ?? []) {
    const o = decodeWire(a);
    out.set(String(o['name']), a);
  }
  return out;
}

function ack(s: RawStream<DiscoveryResponse>, r: DiscoveryResponse, names: string[] = []): void {
  s.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names });
}

/** Wildcard CDS + LDS, then RDS for the gateway route configurations: what Envoy asks for. */
async function gatewaySession(s: RawStream<DiscoveryResponse>, nodeMsg: Json): Promise<Record<'cds' | 'lds' | 'rds', DiscoveryResponse>> {
  s.send({ node: nodeMsg, type_url: CDS });
  const cds = await s.next();
  ack(s, cds);
  s.send({ type_url: LDS });
  const lds = await s.next();
  ack(s, lds);
  s.send({ type_url: RDS, resource_names: GATEWAY_ROUTES });
  const rds = await s.next();
  ack(s, rds, GATEWAY_ROUTES);
  assert.deepEqual([cds.type_url, lds.type_url, rds.type_url], [CDS, LDS, RDS]);
  return { cds, lds, rds };
}

function hcmOf(listener: Json): Json {
  return listener['filter_chains'][0].filters[0].typed_config;
}

/** The plain resources of `store` encoded as the builders make them: what every gateway got before ext_proc. */
function plainEncodings(store: ModelStore): Map<string, Buffer> {
  const shared = buildShared(store, DEFAULT_BUILD_OPTIONS);
  const out = new Map<string, Buffer>();
  for (const r of [...shared.listeners, ...shared.routes, ...shared.clusters]) out.set(`${r.typeUrl} ${r.name}`, encodeResource(r).any);
  return out;
}

function assertStrict(r: ProtoResource): void {
  const result = decodeStrict(messageNameOf(r.typeUrl), r.value, { form: 'object' });
  assert.deepEqual(result.ok ? [] : result.errors, [], `${r.name} decodes strictly`);
}

describe('xDS: ext_proc picking for gateways that opt in', () => {
  let p: Plane;
  before(async () => {
    p = await startPlane({ ...DEFAULT_BUILD_OPTIONS, extprocAddress: '10.96.0.42:18001' });
  });
  after(async () => {
    await p.close();
  });

  test('an opted-in gateway gets the ext_proc listeners, routes and clusters; every resource is strict and exactly the builder output', async () => {
    const s = p.client.ads();
    const { cds, lds, rds } = await gatewaySession(s, optedNode('gw-opt', 'edge-1', { stringValue: 'true' }));
    const clusters = byName(cds);
    assert.deepEqual([...clusters.keys()].sort(), ['default/echo', 'default/hello', EXTPROC_CLUSTER, ORIGINAL_DST_CLUSTER]);
    const listeners = byName(lds);
    assert.deepEqual([...listeners.keys()].sort(), ['listener_8080', 'listener_8081', 'listener_8090']);
    const routes = byName(rds);
    assert.deepEqual([...routes.keys()].sort(), GATEWAY_ROUTES);

    // What the builders say the gateway on edge-1 must get, strict-checked (protobufjs alone drops
    // unknown fields silently), and byte-for-byte what arrived.
    const shared = buildShared(p.store, DEFAULT_BUILD_OPTIONS);
    const expected: ProtoResource[] = [
      ...shared.listeners.map((l) => withExtprocListener(l, 'edge-1')),
      ...shared.routes.filter((r) => GATEWAY_ROUTES.includes(r.name)).map(withPickedRoute),
      ...buildExtprocClusters(parseExtprocAddress('10.96.0.42:18001')),
      ...shared.clusters,
    ];
    const received = new Map([...listeners, ...routes, ...clusters]);
    for (const r of expected) {
      assertStrict(r);
      const wire = received.get(r.name);
      assert.ok(wire, `${r.name} received`);
      assert.deepEqual(wire.value, encodeResource(r).any.subarray(encodeResource(r).any.length - wire.value.length), `${r.name} bytes`);
      // And what arrived decodes strictly too (nested Anys resolvable, enums known).
      const back = decodeStrict(messageNameOf(wire.type_url), decodeWire(wire), { form: 'object' });
      assert.deepEqual(back.ok ? [] : back.errors, [], `${r.name} wire form decodes strictly`);
    }
    s.close();
  });

  test('listeners match envoy/gateway-extproc.yaml: header mutation first, ext_proc before the router, fail-open, envoy.lb', async () => {
    const s = p.client.ads();
    const { lds } = await gatewaySession(s, optedNode('gw-opt2', 'edge-2', { stringValue: 'true' }));
    s.close();
    for (const any of lds.resources ?? []) {
      const hcm = hcmOf(decodeWire(any));
      const early = hcm['early_header_mutation_extensions'] as Json[];
      assert.equal(early.length, 1);
      const muts = early[0]!['typed_config'].mutations as Json[];
      assert.deepEqual(
        muts.filter((m) => m['remove']).map((m) => m['remove']),
        [HEADER_DESTINATION, HEADER_FALLBACK, HEADER_NODE],
      );
      const last = muts[muts.length - 1]!;
      assert.deepEqual(last['append'], { header: { key: HEADER_NODE, value: 'edge-2' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
      assert.deepEqual(
        (hcm['http_filters'] as Json[]).map((f) => f['name']),
        (staticHcm()['http_filters'] as Json[]).map((f) => f['name']),
      );
      const ours = hcm['http_filters'][0].typed_config as Json;
      const theirs = staticHcm()['http_filters'][0].typed_config as Json;
      assert.deepEqual(ours['processing_mode'], theirs['processing_mode']);
      assert.deepEqual(ours['metadata_options'], theirs['metadata_options']);
      assert.deepEqual(ours['metadata_options'].receiving_namespaces.untyped, [LB_METADATA_NAMESPACE]);
      assert.equal(ours['failure_mode_allow'], true);
      assert.equal(ours['grpc_service'].envoy_grpc.cluster_name, EXTPROC_CLUSTER);
      assert.deepEqual(ours['grpc_service'].initial_metadata, [{ key: HEADER_NODE, value: 'edge-2' }]);
      assert.deepEqual(ours['message_timeout'], { seconds: '0', nanos: 25_000_000 });
      // The rest of the HCM is the plain Kourier one (same RDS name, codec, websocket upgrade).
      assert.equal(hcm['codec_type'], 'AUTO');
      assert.deepEqual(hcm['upgrade_configs'], [{ upgrade_type: 'websocket' }]);
    }
  });

  test('every virtual host first routes picked requests to the original-dst cluster, then the normal routes', async () => {
    const s = p.client.ads();
    const { rds, cds } = await gatewaySession(s, optedNode('gw-opt3', 'edge-1', { boolValue: true }));
    s.close();
    const plain = new Map(buildShared(p.store, DEFAULT_BUILD_OPTIONS).routes.map((r) => [r.name, r.value as Json]));
    let hosts = 0;
    for (const any of rds.resources ?? []) {
      const rc = decodeWire(any);
      const plainVhosts = plain.get(rc['name'])!['virtual_hosts'] as Json[];
      assert.equal(rc['virtual_hosts'].length, plainVhosts.length);
      for (const [i, vh] of (rc['virtual_hosts'] as Json[]).entries()) {
        hosts++;
        const [first, ...rest] = vh['routes'] as Json[];
        assert.deepEqual(first!['match'], { prefix: '/', headers: [{ name: HEADER_DESTINATION, present_match: true }] });
        assert.equal(first!['route'].cluster, ORIGINAL_DST_CLUSTER);
        assert.deepEqual(
          rest.map((r) => r['name']),
          (plainVhosts[i]!['routes'] as Json[]).map((r) => r['name']),
        );
      }
    }
    assert.ok(hosts >= 3, 'hello, echo and internalkourier virtual hosts checked');

    const clusters = [...byName(cds).values()].map(decodeWire);
    const odst = clusters.find((c) => c['name'] === ORIGINAL_DST_CLUSTER)!;
    const staticOdst = (STATIC['static_resources'].clusters as Json[]).find((c) => c['type'] === 'ORIGINAL_DST')!;
    assert.equal(odst['type'], 'ORIGINAL_DST');
    assert.equal(odst['lb_policy'], staticOdst['lb_policy']);
    assert.deepEqual(odst['original_dst_lb_config'], staticOdst['original_dst_lb_config']);
    assert.deepEqual(odst['original_dst_lb_config'], { use_http_header: true, http_header_name: HEADER_DESTINATION });
    const ep = clusters.find((c) => c['name'] === EXTPROC_CLUSTER)!;
    assert.equal(ep['type'], 'STATIC', 'an IP address needs no DNS');
    assert.deepEqual(ep['load_assignment'].endpoints[0].lb_endpoints[0].endpoint.address.socket_address, {
      address: '10.96.0.42',
      port_value: 18001,
    });
    const http2 = ep['typed_extension_protocol_options']['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    assert.ok(http2.explicit_http_config.http2_protocol_options, 'gRPC to the ext_proc server needs HTTP/2');
  });

  test('x-proxima-node is the gateway node (sub_zone, else id); gateways of one node share one encoding', async () => {
    const seen: string[] = [];
    const versions: string[] = [];
    for (const n of [
      optedNode('gw-a', 'edge-1', { stringValue: 'true' }),
      optedNode('gw-b', 'edge-1', { stringValue: 'TRUE' }),
      optedNode('cloud-1', undefined, { boolValue: true }),
    ]) {
      const s = p.client.ads();
      s.send({ node: n, type_url: LDS });
      const lds = await s.next();
      const hcm = hcmOf(decodeWire(lds.resources![0]!));
      const muts = hcm['early_header_mutation_extensions'][0].typed_config.mutations as Json[];
      seen.push(muts[muts.length - 1]!['append'].header.value);
      versions.push(lds.version_info);
      s.close();
    }
    assert.deepEqual(seen, ['edge-1', 'edge-1', 'cloud-1']);
    assert.equal(versions[0], versions[1]);
    assert.notEqual(versions[0], versions[2]);
    const info = p.plane.clients();
    assert.ok(info.every((c) => c.variant === null || c.variant.startsWith('extproc:')));
  });

  test('the shared encoding is one object per node, and a node variant is dropped with its last stream', async () => {
    const s1 = p.client.ads();
    const s2 = p.client.ads();
    s1.send({ node: optedNode('gw-s1', 'edge-2', { stringValue: 'true' }), type_url: LDS });
    s2.send({ node: optedNode('gw-s2', 'edge-2', { stringValue: 'true' }), type_url: LDS });
    await s1.next();
    await s2.next();
    const a = p.plane.cache.view(LDS, 'edge-2', 'extproc:edge-2').get('listener_8080');
    const plainView = p.plane.cache.view(LDS, 'edge-2').get('listener_8080');
    assert.ok(a && plainView && a !== plainView);
    assert.ok(p.plane.cache.watchedVariants().includes('extproc:edge-2'));
    s1.close();
    s2.close();
    const deadline = Date.now() + 2000;
    while (p.plane.cache.watchedVariants().includes('extproc:edge-2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(p.plane.cache.watchedVariants().includes('extproc:edge-2'), false);
    assert.equal(p.plane.cache.snapshot().heldVariants().includes('extproc:edge-2'), false, 'its overlay is no longer held');
  });
});

describe('xDS: gateways that do not opt in see exactly the plain resources', () => {
  let withOptIn: Plane;
  let baseline: Plane;
  before(async () => {
    withOptIn = await startPlane();
    baseline = await startPlane();
  });
  after(async () => {
    await withOptIn.close();
    await baseline.close();
  });

  test('same bytes and versions as the plain builders and as a plane nobody opted into, while an opted-in gateway is connected', async () => {
    const opted = withOptIn.client.ads();
    await gatewaySession(opted, optedNode('gw-opt', 'edge-1', { stringValue: 'true' }));
    const expected = plainEncodings(withOptIn.store);
    for (const n of [
      node('gw-plain', 'edge-1'),
      { ...node('gw-false', 'edge-1'), metadata: { fields: { PROXIMA_EXTPROC: { stringValue: 'false' } } } },
      { ...node('gw-other', 'edge-1'), metadata: { fields: { OTHER: { stringValue: 'true' } } } },
    ]) {
      const s = withOptIn.client.ads();
      const got = await gatewaySession(s, n);
      const b = baseline.client.ads();
      const ref = await gatewaySession(b, n);
      for (const kind of ['cds', 'lds', 'rds'] as const) {
        assert.equal(got[kind].version_info, ref[kind].version_info, `${kind} version`);
        assert.deepEqual(
          (got[kind].resources ?? []).map((a) => a.value),
          (ref[kind].resources ?? []).map((a) => a.value),
          `${kind} bytes equal the baseline plane's`,
        );
        for (const a of got[kind].resources ?? []) {
          const name = String(decodeWire(a)['name']);
          const plain = expected.get(`${a.type_url} ${name}`);
          assert.ok(plain, `${name} is a plain resource`);
          assert.ok(plain.subarray(plain.length - a.value.length).equals(a.value), `${name} bytes equal the plain builder's`);
        }
      }
      assert.deepEqual([...byName(got.cds).keys()].sort(), ['default/echo', 'default/hello']);
      s.close();
      b.close();
    }
    opted.close();
  });

  test('a gRPC proxyless client (named API listener) is unaffected by opting in', async () => {
    const s = withOptIn.client.ads();
    s.send({
      node: optedNode('grpc-client', 'edge-1', { stringValue: 'true' }),
      type_url: LDS,
      resource_names: ['hello.default.svc.cluster.local'],
    });
    const r = await s.next();
    const b = baseline.client.ads();
    b.send({ node: node('grpc-client', 'edge-1'), type_url: LDS, resource_names: ['hello.default.svc.cluster.local'] });
    const ref = await b.next();
    assert.deepEqual(
      (r.resources ?? []).map((a) => a.value),
      (ref.resources ?? []).map((a) => a.value),
    );
    s.send({ type_url: RDS, resource_names: ['hello.default.svc.cluster.local'] });
    b.send({ type_url: RDS, resource_names: ['hello.default.svc.cluster.local'] });
    assert.deepEqual(
      (await s.next()).resources?.map((a) => a.value),
      (await b.next()).resources?.map((a) => a.value),
    );
    s.close();
    b.close();
  });
});

describe('xDS: a model change reaches both kinds of gateway', () => {
  let p: Plane;
  before(async () => {
    p = await startPlane();
  });
  after(async () => {
    await p.close();
  });

  test('a new service: CDS and RDS pushed to the opted-in and the plain gateway, each in its own form', async () => {
    const opted = p.client.ads();
    const plain = p.client.ads();
    await gatewaySession(opted, optedNode('gw-opt', 'edge-1', { stringValue: 'true' }));
    await gatewaySession(plain, node('gw-plain', 'edge-1'));
    const delta = p.client.delta();
    delta.send({
      node: { ...node('gw-delta', 'edge-2'), metadata: { fields: { PROXIMA_EXTPROC: { boolValue: true } } } },
      type_url: RDS,
      resource_names_subscribe: ['external_services'],
    });
    const d0 = await delta.next();
    delta.send({ type_url: RDS, response_nonce: d0.nonce });

    p.store.replaceTopology(topology(withService('fresh')));

    const pushes = async (s: RawStream<DiscoveryResponse>): Promise<Map<string, DiscoveryResponse>> => {
      const out = new Map<string, DiscoveryResponse>();
      while (!out.has(CDS) || !out.has(RDS)) {
        const r = await s.next();
        out.set(r.type_url, r);
        ack(s, r, r.type_url === RDS ? GATEWAY_ROUTES : []);
      }
      return out;
    };
    const [o, n] = await Promise.all([pushes(opted), pushes(plain)]);
    assert.ok(byName(o.get(CDS)!).has('default/fresh'));
    assert.ok(byName(n.get(CDS)!).has('default/fresh'));
    assert.ok(byName(o.get(CDS)!).has(EXTPROC_CLUSTER));
    assert.ok(!byName(n.get(CDS)!).has(EXTPROC_CLUSTER));

    const freshHost = (r: DiscoveryResponse): Json => {
      const ext = decodeWire(byName(r).get('external_services')!);
      return (ext['virtual_hosts'] as Json[]).find((vh) => vh['name'] === 'fresh.default.svc.cluster.local')!;
    };
    assert.equal(freshHost(o.get(RDS)!)['routes'][0].route.cluster, ORIGINAL_DST_CLUSTER);
    assert.equal(freshHost(n.get(RDS)!)['routes'][0].route.weighted_clusters.clusters[0].name, 'default/fresh');
    assert.equal(freshHost(n.get(RDS)!)['routes'].length, 1);

    const d1: DeltaDiscoveryResponse = await delta.next();
    assert.equal(d1.type_url, RDS);
    const vh = (decodeWire(d1.resources![0]!.resource!)['virtual_hosts'] as Json[]).find(
      (v) => v['name'] === 'fresh.default.svc.cluster.local',
    )!;
    assert.equal(vh['routes'][0].route.cluster, ORIGINAL_DST_CLUSTER, 'Delta clients get the variant too');

    // No extra pushes once both ACKed (the variant does not churn).
    await Promise.all([opted.none(200), plain.none(200)]);
    opted.close();
    plain.close();
    delta.close();
  });
});

/**
 * `nearest`'s rows under a policy that reads the demand: a row that keeps a gateway on its own node
 * is then one the policy chose with the load in view (proxima), so the gateway skips the picker there.
 */
const localPlanningPolicy: Policy = { ...nearestPolicy, reads: ['rtt', 'demand'] };

/** Per route config and virtual host, whether the service routes of it disable the ext_proc filter. */
function extprocDisabledByHost(rds: DiscoveryResponse): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const any of rds.resources ?? []) {
    for (const vh of decodeWire(any)['virtual_hosts'] as Json[]) {
      const routes = (vh['routes'] as Json[]).filter((r) => r['route']?.cluster !== ORIGINAL_DST_CLUSTER && r['route']);
      if (routes.length === 0) continue;
      const flags = routes.map((r) => {
        const c = r['typed_per_filter_config']?.[EXTPROC_FILTER_NAME];
        if (c) assert.equal(c['@type'], EXT_PROC_PER_ROUTE_TYPE_URL);
        return c?.disabled === true;
      });
      assert.ok(
        flags.every((f) => f === flags[0]),
        'every route of one service host alike',
      );
      out.set(`${decodeWire(any)['name']} ${vh['name']}`, flags[0]!);
    }
  }
  return out;
}

describe('xDS: ext_proc skipped on the routes whose EDS weights keep the gateway on its node', () => {
  test('with a policy that plans for load: skipped per gateway node and service, strict, pushed again when the row leaves the node', async () => {
    const p = await startPlane(DEFAULT_BUILD_OPTIONS, BASE_TOPOLOGY, localPlanningPolicy);
    try {
      // edge-1: hello has a pod on edge-1 (row all-local) while echo runs only on cloud-1.
      const edge1 = p.client.ads();
      const { rds } = await gatewaySession(edge1, optedNode('gw-e1', 'edge-1', { stringValue: 'true' }));
      const flags = extprocDisabledByHost(rds);
      assert.equal(flags.get('external_services hello.default.svc.cluster.local'), true);
      assert.equal(flags.get('external_services echo.default.svc.cluster.local'), false);
      for (const any of rds.resources ?? []) assertStrict({ name: 'served', typeUrl: RDS, value: decodeWire(any) });
      // cloud-1's rows keep both services local, but the edge gateways pick onto cloud-1's echo pod:
      // a skipping cloud-1 gateway would load it unseen by the picker, so cloud-1 asks for echo too.
      const cloud = p.client.ads();
      const c = extprocDisabledByHost((await gatewaySession(cloud, optedNode('gw-c1', 'cloud-1', { boolValue: true }))).rds);
      assert.equal(c.get('external_services hello.default.svc.cluster.local'), true);
      assert.equal(c.get('external_services echo.default.svc.cluster.local'), false);
      cloud.close();

      // hello's edge-1 pod stops being ready: edge-1's row leaves the node, its gateway asks the picker again.
      const t = topology();
      p.store.replaceTopology({
        ...t,
        services: t.services.map((s) =>
          s.name !== 'default/hello' ? s : { ...s, endpoints: s.endpoints.map((e) => (e.node === 'edge-1' ? { ...e, ready: false } : e)) },
        ),
      });
      let pushed: DiscoveryResponse | undefined;
      while (!pushed) {
        const r = await edge1.next();
        ack(edge1, r, r.type_url === RDS ? GATEWAY_ROUTES : []);
        if (r.type_url === RDS) pushed = r;
      }
      assert.equal(extprocDisabledByHost(pushed).get('external_services hello.default.svc.cluster.local'), false);
      edge1.close();
    } finally {
      await p.close();
    }
  });

  test("the demo's emulated Envoy filter (ExtProcRouteWatch) reads the skip from RDS as an opted-in gateway of its node, and follows a push", async () => {
    const p = await startPlane(DEFAULT_BUILD_OPTIONS, BASE_TOPOLOGY, localPlanningPolicy);
    const bootstrap = {
      xds_servers: [{ server_uri: p.target }],
      node: { id: 'gateway-edge-1', cluster: 'demo', locality: { sub_zone: 'edge-1' } },
    };
    const watch = ExtProcRouteWatch.fromBootstrap(JSON.stringify(bootstrap));
    try {
      assert.equal(watch.skips('hello.default.svc.cluster.local'), false, 'nothing skipped before the first response');
      assert.equal(await watch.ready(5000), true);
      assert.equal(watch.skips('hello.default.svc.cluster.local'), true);
      assert.equal(watch.skips('HELLO.default.svc.cluster.local'), true, 'authorities compare case-insensitively');
      assert.equal(watch.skips('echo.default.svc.cluster.local'), false, 'echo runs on cloud-1 only: edge-1 asks the picker');
      assert.ok(
        p.plane.clients().some((c) => c.variant === 'extproc:edge-1'),
        'the watch is served the ext_proc variant of its node',
      );
      const t = topology();
      p.store.replaceTopology({
        ...t,
        services: t.services.map((s) =>
          s.name !== 'default/hello' ? s : { ...s, endpoints: s.endpoints.map((e) => (e.node === 'edge-1' ? { ...e, ready: false } : e)) },
        ),
      });
      const deadline = Date.now() + 5000;
      while (watch.skips('hello.default.svc.cluster.local') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(watch.skips('hello.default.svc.cluster.local'), false, 'the row left edge-1: ask the picker again');
    } finally {
      watch.close();
      await p.close();
    }
  });

  test("a slow or queueing pod on the gateway's node asks the picker again (the pods' own signals), though the row stays local", async () => {
    const p = await startPlane(DEFAULT_BUILD_OPTIONS, BASE_TOPOLOGY, localPlanningPolicy);
    const s = p.client.ads();
    try {
      const { rds } = await gatewaySession(s, optedNode('gw-slow', 'edge-1', { stringValue: 'true' }));
      assert.equal(extprocDisabledByHost(rds).get('external_services hello.default.svc.cluster.local'), true);
      const signal = (appLatencyMs: number, requestLatencyMs = appLatencyMs) => ({
        pods: 1,
        podsFailed: 0,
        requestRps: 5,
        concurrency: 0.5,
        queueDepth: 0,
        appLatencyMs,
        requestLatencyMs,
        atMs: Date.now(),
      });
      const nextRds = async (): Promise<DiscoveryResponse> => {
        for (;;) {
          const r = await s.next();
          ack(s, r, r.type_url === RDS ? GATEWAY_ROUTES : []);
          if (r.type_url === RDS) return r;
        }
      };
      const hello = 'external_services hello.default.svc.cluster.local';
      p.store.setPodSignal('default/hello', 'edge-2', signal(20));
      p.store.setPodSignal('default/hello', 'cloud-1', signal(20));
      p.store.setPodSignal('default/hello', 'edge-1', signal(20));
      await s.none(300);
      const slowAt = Date.now();
      p.store.setPodSignal('default/hello', 'edge-1', signal(100));
      assert.equal(extprocDisabledByHost(await nextRds()).get(hello), false, 'service time × 5: ask the picker');
      const reopenedMs = Date.now() - slowAt;
      assert.ok(reopenedMs < 1000, `pushed ${reopenedMs} ms after the signal`);
      p.store.setPodSignal('default/hello', 'edge-1', signal(20));
      assert.equal(extprocDisabledByHost(await nextRds()).get(hello), true, 'well again: skip');
      p.store.setPodSignal('default/hello', 'edge-1', signal(20, 60));
      assert.equal(extprocDisabledByHost(await nextRds()).get(hello), false, 'queueing 40 ms for a 20 ms service: ask');
      const edge2 = p.client.ads();
      const other = extprocDisabledByHost((await gatewaySession(edge2, optedNode('gw-e2', 'edge-2', { stringValue: 'true' }))).rds);
      edge2.close();
      assert.equal(other.get(hello), false, "edge-1's gateway asks the picker, which may send it to edge-2's pod: edge-2 asks too");
      p.store.setPodSignal('default/hello', 'edge-1', signal(20));
      assert.equal(extprocDisabledByHost(await nextRds()).get(hello), true, 'edge-1 well again: skip');
    } finally {
      s.close();
      await p.close();
    }
  });

  test('with a policy blind to load (nearest) no route skips the picker, though its rows are local', async () => {
    const p = await startPlane();
    try {
      const s = p.client.ads();
      const flags = extprocDisabledByHost((await gatewaySession(s, optedNode('gw-n1', 'cloud-1', { stringValue: 'true' }))).rds);
      s.close();
      assert.ok(flags.size >= 2);
      assert.deepEqual([...flags.values()].filter(Boolean), []);
    } finally {
      await p.close();
    }
  });
});
