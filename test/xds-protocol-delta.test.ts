import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BASE_TOPOLOGY,
  decodeAny,
  metricValue,
  node,
  RawClient,
  startFixture,
  topology,
  TypeUrl,
  withService,
  type DeltaDiscoveryResponse,
  type Fixture,
  type RawStream,
} from './xds-protocol-client.js';

const CDS = TypeUrl.Cluster;
const EDS = TypeUrl.ClusterLoadAssignment;
const RDS = TypeUrl.RouteConfiguration;

function ack(s: RawStream<DeltaDiscoveryResponse>, r: DeltaDiscoveryResponse): void {
  s.send({ type_url: r.type_url, response_nonce: r.nonce });
}
const names = (r: DeltaDiscoveryResponse): string[] => (r.resources ?? []).map((x) => x.name).sort();
const versions = (r: DeltaDiscoveryResponse): Record<string, string> =>
  Object.fromEntries((r.resources ?? []).map((x) => [x.name, x.version]));

describe('xDS Delta over ADS (raw client, loopback)', () => {
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

  test('wildcard CDS: every cluster with per-resource versions; ACK gets nothing', async () => {
    const s = client.delta();
    s.send({ node: node('d-a', 'edge-1'), type_url: CDS });
    const r = await s.next();
    assert.deepEqual(names(r), ['default/echo', 'default/hello']);
    for (const x of r.resources!) {
      assert.match(x.version, /^[0-9a-f]{16}$/);
      assert.equal(decodeAny(x.resource!)['name'], x.name);
    }
    ack(s, r);
    await s.none();
    s.close();
  });

  test('subscribe and unsubscribe EDS names; subscriptions count even with a stale nonce', async () => {
    const s = client.delta();
    s.send({ node: node('d-sub', 'edge-2'), type_url: EDS, resource_names_subscribe: ['default/hello'] });
    const r1 = await s.next();
    assert.deepEqual(names(r1), ['default/hello']);
    ack(s, r1);
    s.send({ type_url: EDS, resource_names_subscribe: ['default/echo'], response_nonce: r1.nonce });
    const r2 = await s.next();
    assert.deepEqual(names(r2), ['default/echo'], 'only the newly subscribed resource');
    // r1's nonce is stale now; the unsubscribe must still apply.
    s.send({ type_url: EDS, resource_names_unsubscribe: ['default/hello'], response_nonce: r1.nonce });
    await s.none(100);
    const eds = fx.plane
      .clients()
      .find((c) => c.nodeId === 'd-sub')!
      .types.find((t) => t.type === 'eds')!;
    assert.deepEqual(eds.names, ['default/echo']);
    // A change to the unsubscribed resource is not pushed.
    fx.store.replaceTopology(topology(BASE_TOPOLOGY.replace('10.0.0.2, port', '10.0.0.29, port')));
    await s.none(200);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    await s.none(100);
    s.close();
  });

  test('removal is sent as removed_resources; a name that appears later is delivered', async () => {
    const s = client.delta();
    s.send({ node: node('d-rm', 'edge-1'), type_url: CDS });
    ack(s, await s.next());
    s.send({ type_url: EDS, resource_names_subscribe: ['default/later'] });
    await s.none(100);
    fx.store.replaceTopology(topology(withService('later')));
    const c = await s.next();
    const e = await s.next();
    assert.equal(c.type_url, CDS);
    assert.deepEqual(names(c), ['default/later'], 'delta sends only the new cluster');
    assert.equal(e.type_url, EDS);
    assert.deepEqual(names(e), ['default/later']);
    ack(s, c);
    ack(s, e);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    const got = [await s.next(), await s.next()];
    const cds = got.find((r) => r.type_url === CDS)!;
    const eds = got.find((r) => r.type_url === EDS)!;
    assert.deepEqual(cds.removed_resources, ['default/later']);
    assert.deepEqual(eds.removed_resources, ['default/later']);
    s.close();
  });

  test('reconnect with initial_resource_versions: only what differs is sent', async () => {
    const s = client.delta();
    s.send({ node: node('d-re', 'edge-1'), type_url: CDS });
    const r = await s.next();
    s.close();
    const held = versions(r);
    const again = client.delta();
    again.send({ node: node('d-re', 'edge-1'), type_url: CDS, initial_resource_versions: held });
    await again.none(150);
    again.close();
    const stale = client.delta();
    stale.send({
      node: node('d-re', 'edge-1'),
      type_url: CDS,
      initial_resource_versions: { 'default/hello': 'outdated', 'default/echo': held['default/echo']!, 'default/gone': 'x' },
    });
    const r2 = await stale.next();
    assert.deepEqual(names(r2), ['default/hello']);
    assert.deepEqual(r2.removed_resources, ['default/gone']);
    stale.close();
  });

  test('NACK: recorded, not resent until the content changes', async () => {
    const s = client.delta();
    s.send({ node: node('d-nack', 'edge-1'), type_url: EDS, resource_names_subscribe: ['default/hello'] });
    const r1 = await s.next();
    s.send({ type_url: EDS, response_nonce: r1.nonce, error_detail: { code: 3, message: 'nope' } });
    await s.none(150);
    const info = fx.plane
      .clients()
      .find((c) => c.nodeId === 'd-nack')!
      .types.find((t) => t.type === 'eds')!;
    assert.equal(info.lastNack?.message, 'nope');
    assert.equal(info.responses, 1);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY.replace('10.0.0.1, port', '10.0.0.19, port')));
    const r2 = await s.next();
    assert.deepEqual(names(r2), ['default/hello']);
    assert.notEqual(versions(r2)['default/hello'], versions(r1)['default/hello']);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    assert.ok((await metricValue(fx.registry, 'proxima_xds_nacks_total', { type: 'eds' })) >= 1);
    s.close();
  });

  test('make-before-break: new cluster, its endpoints, routes, then the cluster removal', async () => {
    const s = client.delta();
    s.send({ node: node('d-mbb', 'edge-1'), type_url: CDS });
    ack(s, await s.next());
    s.send({ type_url: EDS });
    ack(s, await s.next());
    s.send({ type_url: RDS, resource_names_subscribe: ['external_services'] });
    ack(s, await s.next());
    const next = withService('fresh').replace(/ {2}- name: default\/echo[\s\S]*?capacity: 20 }\n/, '');
    fx.store.replaceTopology(topology(next));
    const got: DeltaDiscoveryResponse[] = [];
    for (let i = 0; i < 5; i++) got.push(await s.next());
    await s.none(100);
    const summary = got.map(
      (r) =>
        `${r.type_url === CDS ? 'cds' : r.type_url === EDS ? 'eds' : 'rds'}:+${names(r).join(',')}-${(r.removed_resources ?? []).join(',')}`,
    );
    assert.deepEqual(summary, [
      'cds:+default/fresh-',
      'eds:+default/fresh-',
      'rds:+external_services-',
      'cds:+-default/echo',
      'eds:+-default/echo',
    ]);
    fx.store.replaceTopology(topology(BASE_TOPOLOGY));
    // Published now, not on the next tick: the following test must not see this change arrive late.
    fx.plane.flush();
    s.close();
  });
});
