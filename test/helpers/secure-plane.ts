/** A real `proxima serve` on loopback with mutual TLS, its server certificate in a Secret-style mount. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { startServe, type ServeHandle, type ServeOptions } from '../../src/cli/serve.js';
import { silentLogger } from '../../src/log.js';
import { makeCa, secretMount, type CertPair } from './certs.js';
import { testServeOptions } from './serve-options.js';
import { RawClient } from '../xds-protocol-client.js';

export interface SecurePlane {
  readonly serve: ServeHandle;
  readonly registry: Registry;
  readonly ca: ReturnType<typeof makeCa>;
  readonly mount: ReturnType<typeof secretMount>;
  readonly caFile: string;
  readonly xds: string;
  client(cert?: CertPair, ca?: Buffer): RawClient;
  close(): Promise<void>;
}

export async function startSecurePlane(over: Partial<ServeOptions> = {}): Promise<SecurePlane> {
  const ca = makeCa();
  const server = ca.issue('proxima', { dns: ['localhost'], ip: ['127.0.0.1'] });
  const mount = secretMount(join(ca.dir, 'mount'));
  mount.publish({ cert: server.cert, key: server.key });
  const caFile = join(ca.dir, 'client-ca.crt');
  writeFileSync(caFile, ca.cert);
  const registry = new Registry();
  const serve = await startServe(
    testServeOptions({
      tls: { certPath: mount.certPath, keyPath: mount.keyPath, clientCaPath: caFile },
      tlsReloadIntervalMs: 100,
      ...over,
    }),
    silentLogger(),
    registry,
  );
  const clients: RawClient[] = [];
  return {
    serve,
    registry,
    ca,
    mount,
    caFile,
    xds: serve.addresses.xds,
    client(cert, trust = ca.cert) {
      const creds = grpc.credentials.createSsl(trust, cert?.key ?? null, cert?.cert ?? null);
      const c = new RawClient(serve.addresses.xds, creds, { 'grpc.ssl_target_name_override': 'localhost' });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await serve.close();
      ca.cleanup();
    },
  };
}
