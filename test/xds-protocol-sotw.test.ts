import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  BASE_TOPOLOGY,
  decodeAny,
  metricValue,
  namesOf,
  node,
  RawClient,
  startFixture,
  topology,
  TypeUrl,
  withService,
  type DiscoveryResponse,
  type Fixture,
  type RawStream,
} from './xds-protocol-client.js';

const CDS = TypeUrl.Cluster;
const EDS = TypeUrl.ClusterLoadAssignment;
const LDS = TypeUrl.Listener;
const RDS = TypeUrl.RouteConfiguration;

function ack(s: RawStream<DiscoveryResponse>, r: DiscoveryResponse, names: string[] = []): void {
  s.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names });
}

/** Sub-zones (nodes) of the priority-0 localities in a ClusterLoadAssignment. */
function priorityZeroNodes(r: DiscoveryResponse): string[] {
  const cla = decodeAny(r.resources![0]!) as { endpoints?: Array<{ locality?: { sub_zone?: string }; priority?: number }> };
  return (cla.endpoints ?? []).filter((l) => !l.priority).map((l) => l.locality?.sub_zone ?? '');
}

describe('xDS SotW over ADS (raw client, loopback)', () => {
  let fx: Fixture;
  let client: RawClient;
  before(async () => {
    fx = await startFixture();
    client = new RawClient(fx.address);
  });
  after(async () => {
    client.close();
    await fx.close();
  });

  test('wildcard CDS returns every cluster; an ACK gets no response', async () => {
    const s = client.ads();
    s.send({ node: node('gw-a', 'edge-1'), type_url: CDS });
    const r = await s.next();
    assert.equal(r.type_url, CDS);
    assert.deepEqual(namesOf(r), ['default/echo', 'default/hello']);
    assert.match(r.version_info, /^\w+-[0-9a-f]{16}$/);
    ack(s, r);
    await s.none();
    const info = fx.plane.clients().find((c) => c.nodeId === 'gw-a')!;
    assert.equal(info.gatewayNode, 'edge-1');
    const cds = info.types.find((t) => t.type === 'cds')!;
    assert.equal(cds.wildcard, true);
    assert.equal(cds.versionAcked, r.version_info);
    s.close();
  });

  test('EDS is per gateway node: sub_zone picks the node, else node.id', async () => {
    const a = client.ads();
    const b = client.ads();
    a.send({ node: node('whatever', 'edge-1'), type_url: EDS, resource_names: ['default/hello'] });
    b.send({ node: node('edge-2'), type_url: EDS, resource_names: ['default/hello'] });
    const ra = await a.next();
    const rb = await b.next();
    assert.deepEqual(priorityZeroNodes(ra), ['edge-1']);
    assert.deepEqual(priorityZeroNodes(rb), ['edge-2']);
    assert.notEqual(ra.version_info, rb.version_info);
    a.close();
    b.close();
  });

  test('unknown gateway node gets the unknown-node (even) EDS and a warning metric', async () => {
    const before = await metricValue(fx.registry, 'proxima_xds_unknown_node_streams_total');
    const s = client.ads();
    s.send({ node: node('stranger', 'no-such-node'), type_url: EDS, resource_names: ['default/hello'] });
    const r = await s.next();
    const cla = decodeAny(r.resources![0]!) as { endpoints: Array<{ priority?: number; load_balancing_weight: { value: number } }> };
    // even: every node with endpoints in priority 0
    assert.equal(cla.endpoints.filter((l) => !l.priority).length, 3);
    assert.equal((await metricValue(fx.registry, 'proxima_xds_unknown_node_streams_total')) - before, 1);
    assert.equal(fx.plane.clients().find((c) => c.nodeId === 'stranger')!.unknownNode, true);
    s.close();
  });

  test('NACK is recorded and not resent until the content changes', async () => {
    const s = client.ads();
    s.send({ node: node('gw-nack', 'edge-2'), type_url: EDS, resource_names: ['default/hello'] });
    const r1 = await s.next();
    ack(s, r1, ['default/hello']);
    await s.none(50);
    // The model changes, the client rejects the new config.
    const changed = BASE_TOPOLOGY.replace('10.0.0.2, port: 8012', '10.0.0.22, port: 8012');
    fx.store.replaceTopology(topology(changed));
    const r2 = await s.next();
    assert.notEqual(r2.version_info, r1.version_info);
    s.send({
      type_url: EDS,
      version_info: r1.version_info,
      response_nonce: r2.nonce,
      resource_names: ['default/hello'],
      error_detail: { code: 3, message: 'bad endpoint' },
    });
    await s.none(200);
    // An unrelated change (another service) must not resend the rejected EDS either.
    fx.store.replaceTopology(topology(changed.replace('10.0.1.1', '10.0.1.9')));
    await s.none(200);
    const info = fx.plane
      .clients()
      .find((c) => c.nodeId === 'gw-nack')!
      .types.find((t) => t.type === 'eds')!;
    assert.equal(info.lastNack?.version, r2.version_info);
    assert.equal(info.lastNack?.message, 'bad endpoint');
    assert.equal(info.versionAcked, r1.version_info);
    assert.equal(info.responses, 2);
    assert.ok((await metricValue(fx.registry, 'proxima_xds_nacks_total', { type: 'eds' })) >= 1);
    // Content changes again: the new version goes out.
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    const r3 = await s.next();
    assert.equal(r3.version_info, r1.version_info, 'versions are content hashes: back to the first content, back to its version');
    s.close();
  });

  test('stale and bogus nonces are ignored', async () => {
    const s = client.ads();
    s.send({ node: node('gw-stale', 'edge-1'), type_url: EDS, resource_names: ['default/hello'] });
    const r1 = await s.next();
    ack(s, r1, ['default/hello']);
    s.send({ type_url: EDS, version_info: r1.version_info, response_nonce: r1.nonce, resource_names: ['default/hello', 'default/echo'] });
    const r2 = await s.next();
    assert.deepEqual(namesOf(r2), ['default/echo'], 'SotW EDS sends only what changed for the stream');
    // Re-using r1's nonce (stale) to unsubscribe must be ignored, as must a nonce never issued.
    const staleBefore = await metricValue(fx.registry, 'proxima_xds_malformed_requests_total', { reason: 'stale_nonce' });
    s.send({ type_url: EDS, version_info: r1.version_info, response_nonce: r1.nonce, resource_names: ['default/hello'] });
    s.send({ type_url: EDS, version_info: r1.version_info, response_nonce: 'zzzzzzzz-bogus', resource_names: [] });
    await s.none();
    assert.equal((await metricValue(fx.registry, 'proxima_xds_malformed_requests_total', { reason: 'stale_nonce' })) - staleBefore, 1);
    assert.ok((await metricValue(fx.registry, 'proxima_xds_malformed_requests_total', { reason: 'unknown_nonce' })) >= 1);
    const eds = fx.plane
      .clients()
      .find((c) => c.nodeId === 'gw-stale')!
      .types.find((t) => t.type === 'eds')!;
    assert.deepEqual(eds.names, ['default/echo', 'default/hello']);
    s.close();
  });

  test('wildcard LDS is the gateway listeners only; API listeners are served by name', async () => {
    const s = client.ads();
    s.send({ node: node('gw-lds', 'edge-1'), type_url: LDS });
    const r = await s.next();
    assert.deepEqual(namesOf(r), ['listener_8080', 'listener_8081', 'listener_8090']);
    ack(s, r);
    const g = client.ads();
    g.send({ node: node('grpc-client', 'edge-1'), type_url: LDS, resource_names: ['echo.default.svc.cluster.local'] });
    const rg = await g.next();
    assert.deepEqual(namesOf(rg), ['echo.default.svc.cluster.local']);
    await s.none(50);
    s.close();
    g.close();
  });

  test('names that do not exist yet are sent when they appear; removal empties LDS/CDS', async () => {
    const s = client.ads();
    s.send({ node: node('gw-later', 'edge-1'), type_url: CDS });
    const c1 = await s.next();
    ack(s, c1);
    s.send({ type_url: EDS, resource_names: ['default/later'] });
    await s.none(100);
    fx.store.replaceTopology(topology(withService('later')));
    const got = [await s.next(), await s.next()];
    assert.deepEqual(
      got.map((r) => r.type_url),
      [CDS, EDS],
      'cluster before its endpoints',
    );
    assert.deepEqual(namesOf(got[0]!), ['default/echo', 'default/hello', 'default/later']);
    assert.deepEqual(namesOf(got[1]!), ['default/later']);
    ack(s, got[0]!);
    ack(s, got[1]!, ['default/later']);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    const c3 = await s.next();
    assert.equal(c3.type_url, CDS);
    assert.deepEqual(namesOf(c3), ['default/echo', 'default/hello'], 'SotW CDS: a missing cluster is a deleted cluster');
    assert.equal(c3.version_info, c1.version_info);
    await s.none(100);
    s.close();
  });

  test('make-before-break: CDS (old + new), EDS, RDS, then CDS without the removed cluster', async () => {
    const s = client.ads();
    s.send({ node: node('gw-mbb', 'edge-1'), type_url: CDS });
    const c = await s.next();
    ack(s, c);
    s.send({ type_url: EDS, resource_names: ['default/hello', 'default/echo'] });
    ack(s, await s.next(), ['default/hello', 'default/echo']);
    s.send({ type_url: LDS });
    ack(s, await s.next());
    s.send({ type_url: RDS, resource_names: ['external_services', 'internal_services'] });
    ack(s, await s.next(), ['external_services', 'internal_services']);
    // Replace echo with fresh: one cluster added, one removed, routes change.
    const next = withService('fresh').replace(/ {2}- name: default\/echo[\s\S]*?capacity: 20 }\n/, '');
    fx.store.replaceTopology(topology(next));
    const got: DiscoveryResponse[] = [];
    for (let i = 0; i < 3; i++) got.push(await s.next());
    let more: DiscoveryResponse | undefined;
    try {
      more = await s.next(500);
    } catch {
      more = undefined;
    }
    if (more) got.push(more);
    assert.deepEqual(
      got.map((r) => r.type_url),
      [CDS, RDS, CDS],
      'EDS subscription does not name the new cluster, so only CDS, RDS, then the final CDS',
    );
    assert.deepEqual(namesOf(got[0]!), ['default/echo', 'default/fresh', 'default/hello']);
    assert.deepEqual(namesOf(got[2]!), ['default/fresh', 'default/hello']);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    s.close();
  });

  test('reconnect with the version already held: no response', async () => {
    const s = client.ads();
    s.send({ node: node('gw-re', 'edge-1'), type_url: CDS });
    const r = await s.next();
    s.close();
    const again = client.ads();
    again.send({ node: node('gw-re', 'edge-1'), type_url: CDS, version_info: r.version_info });
    await again.none(150);
    const stale = client.ads();
    stale.send({ node: node('gw-re2', 'edge-1'), type_url: CDS, version_info: 'old-version' });
    assert.deepEqual(namesOf(await stale.next()), namesOf(r));
    again.close();
    stale.close();
  });

  test('malformed requests: unknown type ignored, missing node ends the stream', async () => {
    const s = client.ads();
    s.send({ node: node('gw-bad', 'edge-1'), type_url: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig' });
    await s.none(100);
    s.send({ type_url: CDS });
    assert.equal((await s.next()).type_url, CDS, 'the stream still works after an unknown type');
    assert.ok((await metricValue(fx.registry, 'proxima_xds_malformed_requests_total', { reason: 'unknown_type_url' })) >= 1);
    s.close();

    const n = client.ads();
    n.send({ type_url: CDS });
    const end = (await n.ended()) as grpc.ServiceError;
    assert.equal(end.code, grpc.status.INVALID_ARGUMENT);
    assert.match(end.details, /must carry node/);
  });

  test('undecodable request bytes end the stream with INVALID_ARGUMENT (process keeps serving)', async () => {
    const raw = new grpc.Client(fx.address, grpc.credentials.createInsecure());
    const call = raw.makeBidiStreamRequest<Buffer, Buffer>(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (b) => b,
      (b) => b,
    );
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    call.write(Buffer.from([0x0a, 0xff, 0xff]));
    const st = await status;
    assert.equal(st.code, grpc.status.INVALID_ARGUMENT);
    assert.match(st.details, /cannot decode DiscoveryRequest/);
    raw.close();
    const s = client.ads();
    s.send({ node: node('gw-after-garbage', 'edge-1'), type_url: CDS });
    assert.equal((await s.next()).type_url, CDS);
    s.close();
  });

  test('per-type CDS service serves clusters and rejects another type', async () => {
    const s = client.clusters();
    s.send({ node: node('gw-cds', 'edge-1') });
    const r = await s.next();
    assert.equal(r.type_url, CDS);
    assert.deepEqual(namesOf(r), ['default/echo', 'default/hello']);
    const bad = client.clusters();
    bad.send({ node: node('gw-cds2', 'edge-1'), type_url: EDS });
    assert.equal(((await bad.ended()) as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    s.close();
  });
});
