/**
 * Transport security with real gRPC clients over mutual TLS (issue 15, "Must show"): Node's
 * @grpc/grpc-js and Debian's grpcio (C-core, /usr/bin/python3) against a real `proxima serve`.
 * A client without a certificate, with one from another CA, or claiming another node is refused
 * and counted; a certificate rotated the way kubelet and cert-manager do it (a `..data` symlink
 * swap) keeps open streams working while new connections get the new certificate.
 * Certificates are made at test time with the openssl CLI (test/helpers/certs.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { probeProtos, type ControlMsg } from '../src/probe/protocol.js';
import { makeCa, nodeId, requireOpenssl, type CertPair } from './helpers/certs.js';
import { startSecurePlane, type SecurePlane } from './helpers/secure-plane.js';
import { RawExtProcClient, requestHeaders } from './peers/extproc-peer.js';
import { runProbe } from '../src/cli/probe.js';
import { silentLogger } from '../src/log.js';
import { cCoreUnavailable, DEBIAN_PYTHON } from './peers/harness.js';
import { TypeUrl, metricValue, node, sleep } from './xds-protocol-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const PY_CLIENT = join(here, '..', '..', 'test', 'peers', 'mtls_ads_client.py');

const refused = (p: SecurePlane, labels: Record<string, string>) => metricValue(p.registry, 'proxima_peer_refused_total', labels);

function probeStream(p: SecurePlane, cert: CertPair) {
  const creds = grpc.credentials.createSsl(p.ca.cert, cert.key, cert.cert);
  const client = new (probeProtos().Client)(p.xds, creds, { 'grpc.ssl_target_name_override': 'localhost' });
  const call = client.Connect();
  const got: ControlMsg[] = [];
  let error: grpc.ServiceError | undefined;
  call.on('data', (m: ControlMsg) => got.push(m));
  call.on('error', (e: grpc.ServiceError) => (error = e));
  return {
    call,
    got,
    error: () => error,
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('mTLS (grpc-js): no certificate, another CA, or another node is refused and counted; the node itself is served on xDS, LRS and probe', async (t) => {
  if (!requireOpenssl(t)) return;
  const p = await startSecurePlane();
  const other = makeCa('other-ca');
  try {
    const edge1 = p.ca.issue('edge-1', { uri: [nodeId('edge-1')] });
    const dnsOnly = p.ca.issue('dns-only', { dns: ['edge-1'] });
    const foreign = other.issue('edge-1', { uri: [nodeId('edge-1')] });

    // The node itself: ADS answers, LRS asks for reports, the probe collector sends a peer list.
    const ok = p.client(edge1).ads();
    ok.send({ node: node('gw', 'edge-1'), type_url: TypeUrl.Cluster });
    assert.ok(((await ok.next(5000)).resources ?? []).length > 0, 'CDS over mTLS');
    const lrsOk = p.client(edge1).lrs();
    lrsOk.send({ node: node('gw', 'edge-1') });
    assert.equal((await lrsOk.next(5000))['send_all_clusters'], true);
    const probeOk = probeStream(p, edge1);
    probeOk.call.write({ hello: { node: 'edge-1', probe_address: '127.0.0.1:9' } });
    await until('a peer list', () => (probeOk.got.length > 0 ? true : undefined));
    probeOk.close();

    // No certificate and a certificate of another CA: the handshake fails, nothing is served.
    for (const [what, client] of [
      ['no certificate', p.client(undefined)],
      ['another CA', p.client(foreign)],
    ] as const) {
      const s = client.ads();
      s.send({ node: node('gw', 'edge-1'), type_url: TypeUrl.Cluster });
      const end = (await s.ended(5000)) as grpc.ServiceError;
      assert.equal(end.code, grpc.status.UNAVAILABLE, `${what}: ${end.details}`);
      assert.equal(s.received.length, 0, `${what}: nothing served`);
    }

    // edge-1's certificate claiming edge-2, on each channel.
    const ads = p.client(edge1).ads();
    ads.send({ node: node('gw', 'edge-2'), type_url: TypeUrl.Cluster });
    const adsEnd = (await ads.ended(5000)) as grpc.ServiceError;
    assert.equal(adsEnd.code, grpc.status.PERMISSION_DENIED, adsEnd.details);
    assert.match(adsEnd.details, /names node "edge-1", not "edge-2"/);
    const lrs = p.client(edge1).lrs();
    lrs.send({ node: node('gw', 'edge-2') });
    assert.equal(((await lrs.ended(5000)) as grpc.ServiceError).code, grpc.status.PERMISSION_DENIED);
    const probe = probeStream(p, edge1);
    probe.call.write({ hello: { node: 'edge-2', probe_address: '127.0.0.1:10' } });
    const probeErr = await until('the probe stream to end', () => probe.error());
    assert.equal(probeErr.code, grpc.status.PERMISSION_DENIED);
    assert.equal(probe.got.length, 0);
    probe.close();
    // A certificate from the right CA without a node identity.
    const anon = p.client(dnsOnly).ads();
    anon.send({ node: node('gw', 'edge-1'), type_url: TypeUrl.Cluster });
    assert.equal(((await anon.ended(5000)) as grpc.ServiceError).code, grpc.status.PERMISSION_DENIED);

    for (const channel of ['xds', 'lrs', 'probe']) assert.equal(await refused(p, { channel, reason: 'node_mismatch' }), 1, channel);
    assert.equal(await refused(p, { channel: 'xds', reason: 'no_node_identity' }), 1);
    // The forged hello did not register an address for edge-2.
    const agents = (await (await fetch(`http://${p.serve.addresses.admin}/debug/probes`)).json()) as Array<{
      node: string;
      probeAddress: string;
    }>;
    assert.deepEqual(
      agents.map((a) => [a.node, a.probeAddress]),
      [['edge-1', '127.0.0.1:9']],
    );
  } finally {
    other.cleanup();
    await p.close();
  }
});

/** The serial number of the certificate a new TLS connection to `address` is shown. */
function servedSerial(address: string, ca: Buffer, client: CertPair): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host, port, ca, cert: client.cert, key: client.key, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

test('certificate rotation (Secret ..data swap): open streams keep working, new connections get the new certificate, a bad file set is ignored', async (t) => {
  if (!requireOpenssl(t)) return;
  const p = await startSecurePlane();
  try {
    const edge1 = p.ca.issue('edge-1', { uri: [nodeId('edge-1')] });
    const before = await servedSerial(p.xds, p.ca.cert, edge1);
    const open = p.client(edge1).ads();
    open.send({ node: node('gw', 'edge-1'), type_url: TypeUrl.Cluster });
    const cds = await open.next(5000);

    const next = p.ca.issue('proxima-next', { dns: ['localhost'], ip: ['127.0.0.1'] });
    p.mount.publish({ cert: next.cert, key: next.key });
    const deadline = Date.now() + 5000;
    let after = before;
    while (after === before && Date.now() < deadline) {
      await sleep(50);
      after = await servedSerial(p.xds, p.ca.cert, edge1);
    }
    assert.notEqual(after, before, 'a new connection is shown the new certificate');
    assert.equal(await metricValue(p.registry, 'proxima_tls_reloads_total', { result: 'ok' }), 1);

    // The stream opened before the rotation still answers (ACK, then a new subscription).
    open.send({ type_url: TypeUrl.Cluster, version_info: cds.version_info, response_nonce: cds.nonce });
    open.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: ['default/hello'] });
    const eds = await open.next(5000);
    assert.equal(eds.type_url, TypeUrl.ClusterLoadAssignment);
    // A new gRPC stream works over a new connection with the new certificate.
    const fresh = p.client(edge1).ads();
    fresh.send({ node: node('gw', 'edge-1'), type_url: TypeUrl.Cluster });
    assert.ok(((await fresh.next(5000)).resources ?? []).length > 0);

    // A key that does not match the certificate: counted, and the last good certificate stays.
    const stray = p.ca.issue('stray', { dns: ['localhost'] });
    p.mount.publish({ cert: next.cert, key: stray.key });
    const failDeadline = Date.now() + 5000;
    while ((await metricValue(p.registry, 'proxima_tls_reloads_total', { result: 'error' })) === 0 && Date.now() < failDeadline)
      await sleep(50);
    assert.ok((await metricValue(p.registry, 'proxima_tls_reloads_total', { result: 'error' })) >= 1);
    assert.equal(await servedSerial(p.xds, p.ca.cert, edge1), after);
  } finally {
    await p.close();
  }
});

test('the probe agent dials over mTLS (--tls-ca/--tls-cert/--tls-key) and registers for its node, and only for it', async (t) => {
  if (!requireOpenssl(t)) return;
  const p = await startSecurePlane();
  const agents: Array<{ close(): Promise<void> }> = [];
  try {
    const edge1 = p.ca.issue('edge-1', { uri: [nodeId('edge-1')] });
    const start = (nodeName: string) =>
      runProbe(
        {
          node: nodeName,
          controlPlane: p.xds,
          listen: { host: '127.0.0.1', port: 0 },
          intervalMs: 200,
          timeoutMs: 100,
          maxPeers: 8,
          nearRttMs: 10,
          tls: { caPath: p.caFile, certPath: edge1.certPath, keyPath: edge1.keyPath },
          tlsServerName: 'localhost',
        },
        silentLogger(),
      );
    agents.push(await start('edge-1'));
    agents.push(await start('edge-2'));
    const probes = async () =>
      ((await (await fetch(`http://${p.serve.addresses.admin}/debug/probes`)).json()) as Array<{ node: string }>).map((a) => a.node);
    const deadline = Date.now() + 10_000;
    while (!(await probes()).includes('edge-1') && Date.now() < deadline) await sleep(50);
    assert.deepEqual(await probes(), ['edge-1']);
    assert.ok(
      (await refused(p, { channel: 'probe', reason: 'node_mismatch' })) >= 1,
      'the edge-2 agent with edge-1’s certificate is refused',
    );
  } finally {
    for (const a of agents) await a.close();
    await p.close();
  }
});

test('mTLS ext_proc: x-proxima-node naming another node is counted and picked for as an unknown gateway', async (t) => {
  if (!requireOpenssl(t)) return;
  const p = await startSecurePlane();
  try {
    const edge1 = p.ca.issue('edge-1', { uri: [nodeId('edge-1')] });
    const creds = grpc.credentials.createSsl(p.ca.cert, edge1.key, edge1.cert);
    const client = new RawExtProcClient(p.serve.addresses.extproc, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    for (const claimed of ['edge-1', 'edge-2']) {
      const s = client.open();
      s.send(requestHeaders({ ':authority': 'hello.default.example.com', ':path': '/', 'x-proxima-node': claimed }));
      assert.ok((await s.recv())['request_headers'], 'answered either way (fail-open)');
      s.call.end();
    }
    client.close();
    assert.equal(await refused(p, { channel: 'extproc', reason: 'node_mismatch' }), 1);
  } finally {
    await p.close();
  }
});

test('mTLS (Debian grpcio, C-core): refused without a certificate and for another node, served for its own node', async (t) => {
  if (!requireOpenssl(t)) return;
  const why = cCoreUnavailable();
  if (why) {
    if (process.env.CI) throw new Error(`C-core client required in CI: ${why}`);
    t.skip(why);
    return;
  }
  const p = await startSecurePlane();
  try {
    const edge1 = p.ca.issue('edge-1', { uri: [nodeId('edge-1')] });
    // Asynchronously: the server under test runs in this process.
    const run = async (cert: CertPair | undefined, claimed: string) => {
      const r = await promisify(execFile)(
        DEBIAN_PYTHON,
        [PY_CLIENT, p.xds, p.caFile, cert?.certPath ?? '-', cert?.keyPath ?? '-', claimed],
        {
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; code?: string; details?: string; bytes?: number };
    };
    const own = await run(edge1, 'edge-1');
    assert.ok(own.ok && (own.bytes ?? 0) > 0, JSON.stringify(own));
    const none = await run(undefined, 'edge-1');
    assert.equal(none.ok, false);
    assert.equal(none.code, 'UNAVAILABLE', JSON.stringify(none));
    const forged = await run(edge1, 'edge-2');
    assert.equal(forged.code, 'PERMISSION_DENIED', JSON.stringify(forged));
    assert.equal(await refused(p, { channel: 'xds', reason: 'node_mismatch' }), 1);
  } finally {
    await p.close();
  }
});
