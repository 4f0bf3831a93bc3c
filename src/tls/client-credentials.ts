import * as grpc from '@grpc/grpc-js';

/** Files a gRPC client uses to dial a TLS control plane. */
export interface ClientTlsFiles {
  /** CA bundle that signed the control plane's certificate. */
  readonly caPath: string;
  /** Client certificate and key for mutual TLS (both or neither). */
  readonly certPath?: string;
  readonly keyPath?: string;
}

/**
 * Channel credentials for a client of `proxima serve`: plaintext without files, else TLS from files
 * grpc-js re-reads every `refreshMs` (its FileWatcherCertificateProvider), so a rotated client
 * certificate is used for the next connection without a restart.
 */
export function grpcClientCredentials(files: ClientTlsFiles | undefined, refreshMs = 5000): grpc.ChannelCredentials {
  if (!files) return grpc.credentials.createInsecure();
  const provider = new grpc.experimental.FileWatcherCertificateProvider({
    caCertificateFile: files.caPath,
    ...(files.certPath && files.keyPath ? { certificateFile: files.certPath, privateKeyFile: files.keyPath } : {}),
    refreshIntervalMs: refreshMs,
  });
  return grpc.experimental.createCertificateProviderChannelCredentials(provider, files.certPath ? provider : null);
}
