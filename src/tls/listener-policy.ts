import { isIP } from 'node:net';
import type { ListenAddress } from '../config.js';

/** True for 127.0.0.0/8, ::1 and `localhost`: only this machine can connect. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (host.toLowerCase().startsWith('::ffff:127.')) return true;
  return false;
}

export type ListenerVerdict = { readonly ok: true; readonly warning?: string } | { readonly ok: false; readonly error: string };

/**
 * Plaintext is for loopback. Elsewhere a listener needs TLS, or `--insecure`, which is allowed
 * with a warning. `flag` names the listen flag in messages.
 */
export function judgeListener(flag: string, addr: ListenAddress, tls: boolean, insecure: boolean): ListenerVerdict {
  if (tls || isLoopback(addr.host)) return { ok: true };
  if (insecure)
    return {
      ok: true,
      warning: `--${flag} ${addr.host}:${addr.port} is plaintext on a non-loopback address (--insecure): anyone who can reach it can steer traffic`,
    };
  return {
    ok: false,
    error: `--${flag} ${addr.host}:${addr.port} would be plaintext on a non-loopback address: give --tls-cert and --tls-key (and --tls-client-ca for mutual TLS), bind 127.0.0.1, or pass --insecure`,
  };
}
