import { Counter, type Registry } from 'prom-client';
import { UsageError, type ListenAddress } from '../config.js';
import type { Logger } from '../log.js';
import { judgeListener } from './listener-policy.js';
import { TlsMaterialError, type TlsFiles } from './material.js';
import { TlsReloader } from './reloader.js';

export interface TransportOptions {
  /** Certificate + key (+ client CA for mutual TLS); absent = plaintext. */
  readonly tls?: TlsFiles;
  readonly reloadIntervalMs?: number;
  /** Allow plaintext listeners on non-loopback addresses (with a warning). */
  readonly insecure?: boolean;
}

/** The transport security of one `proxima serve`: one reloader shared by every listener. */
export class TransportSecurity {
  readonly reloader: TlsReloader | undefined;

  private constructor(
    reloader: TlsReloader | undefined,
    private readonly insecure: boolean,
    private readonly log: Logger,
  ) {
    this.reloader = reloader;
  }

  /** Load the files once (a clear UsageError when they are unusable) and start watching them. */
  static create(opts: TransportOptions, log: Logger, registry: Registry): TransportSecurity {
    let reloader: TlsReloader | undefined;
    // Registered with or without TLS, so dashboards and alerts find the series either way.
    const reloads = new Counter({
      name: 'proxima_tls_reloads_total',
      help: 'Certificate reloads from --tls-cert/--tls-key/--tls-client-ca, by result (ok, error: the last good certificate stays).',
      labelNames: ['result'],
      registers: [registry],
    });
    if (opts.tls) {
      try {
        reloader = new TlsReloader({
          files: opts.tls,
          log,
          ...(opts.reloadIntervalMs !== undefined ? { intervalMs: opts.reloadIntervalMs } : {}),
          onReload: () => reloads.inc({ result: 'ok' }),
          onError: () => reloads.inc({ result: 'error' }),
        });
      } catch (err) {
        if (err instanceof TlsMaterialError) throw new UsageError(`TLS: ${err.message}`);
        throw err;
      }
      reloader.start();
    }
    return new TransportSecurity(reloader, opts.insecure ?? false, log);
  }

  get tls(): boolean {
    return this.reloader !== undefined;
  }

  /** True when clients must present a certificate from the client CA. */
  get mutual(): boolean {
    return this.reloader?.material.ca !== undefined;
  }

  /** Refuse (UsageError) or warn about a listener that would be plaintext off loopback. */
  admit(flag: string, addr: ListenAddress): void {
    const v = judgeListener(flag, addr, this.tls, this.insecure);
    if (!v.ok) throw new UsageError(v.error);
    if (v.warning) this.log.warn(v.warning);
  }

  close(): void {
    this.reloader?.stop();
  }
}
