import * as grpc from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import type { TlsMaterial } from './material.js';
import type { TlsReloader } from './reloader.js';

function contextOf(m: TlsMaterial): SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) };
}

/**
 * grpc-js server credentials fed by a TlsReloader. grpc-js gives every secure listener a watcher
 * that calls `setSecureContext` on its http2 server when the credentials publish new options
 * (server.js `createHttp2Server`): handshakes after a reload use the new certificate, established
 * connections and their streams are untouched. With a client CA, a client must present a
 * certificate that chains to it (`requestCert` + `rejectUnauthorized`).
 */
class ReloadingServerCredentials extends grpc.ServerCredentials {
  constructor(private readonly reloader: TlsReloader) {
    const mutual = reloader.material.ca !== undefined;
    super({ requestCert: mutual, rejectUnauthorized: mutual, minVersion: 'TLSv1.2' }, contextOf(reloader.material));
    reloader.subscribe((m) => this.updateSecureContextOptions(contextOf(m)));
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other instanceof ReloadingServerCredentials && other.reloader === this.reloader;
  }
}

/** Credentials for a gRPC listener: TLS (mutual when the reloader has a client CA), or plaintext. */
export function grpcServerCredentials(reloader: TlsReloader | undefined): grpc.ServerCredentials {
  return reloader ? new ReloadingServerCredentials(reloader) : grpc.ServerCredentials.createInsecure();
}

/** Options for node:https `createServer`; pair with `followReloads` so new certificates apply. */
export function httpsServerOptions(
  reloader: TlsReloader,
  rejectUnauthorized: boolean,
): SecureContextOptions & {
  requestCert: boolean;
  rejectUnauthorized: boolean;
  minVersion: 'TLSv1.2';
} {
  return { ...contextOf(reloader.material), requestCert: reloader.material.ca !== undefined, rejectUnauthorized, minVersion: 'TLSv1.2' };
}

/** Apply every reload to a node:tls/https server (`setSecureContext`); returns an unsubscribe. */
export function followReloads(reloader: TlsReloader, server: { setSecureContext(o: SecureContextOptions): void }): () => void {
  return reloader.subscribe((m) => server.setSecureContext(contextOf(m)));
}
