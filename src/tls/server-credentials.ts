import type { SecureContextOptions } from 'node:tls';
import type { TlsMaterial } from './material.js';
import type { TlsReloader } from './reloader.js';

function contextOf(m: TlsMaterial): SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) };
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
