/**
 * config-kourier `extauthz-*` keys, parsed as net-kourier does (pkg/reconciler/ingress/config/kourier.go
 * asExternalAuthz, ext_authz.go): `extauthz-host` (`host:port`) turns it on; `extauthz-protocol`
 * grpc (default) | http | https; `extauthz-failure-mode-allow` (false); `extauthz-max-request-body-bytes`
 * (8192); `extauthz-timeout` in ms (2000); `extauthz-path-prefix`; `extauthz-pack-as-bytes` (grpc
 * only). When the environment sets KOURIER_EXTAUTHZ_HOST, the KOURIER_EXTAUTHZ_* values win over the
 * ConfigMap (handed in by the caller under the same key names). Kourier rejects the ConfigMap on a bad
 * value (and panics on pack-as-bytes with http); here the key is reported and ext_authz stays off. Pure.
 */
import type { GatewayExtAuthz } from '../../model/types.js';

export const EXTAUTHZ_KEYS = [
  'extauthz-host',
  'extauthz-protocol',
  'extauthz-failure-mode-allow',
  'extauthz-max-request-body-bytes',
  'extauthz-timeout',
  'extauthz-path-prefix',
  'extauthz-pack-as-bytes',
] as const;

/** `host:port` or `[v6]:port` (Go net.SplitHostPort), port 0..65535. */
function splitHostPort(v: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:[\]]+):(\d+)$/.exec(v);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : undefined;
}

export function extAuthzFrom(
  configMap: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>> | undefined,
  report: (key: string, why: string) => void,
): { extAuthz?: GatewayExtAuthz } {
  const data = env?.['extauthz-host'] ? env : configMap;
  const hostPort = data['extauthz-host']?.trim() ?? '';
  if (hostPort === '') return {};
  const where = data === env ? ' (from KOURIER_EXTAUTHZ_*)' : '';
  const fail = (key: string, why: string) => (report(key, why + where), {});
  const target = splitHostPort(hostPort);
  if (!target) return fail('extauthz-host', `"${hostPort}" is not host:port`);
  const protocol = (data['extauthz-protocol']?.trim() || 'grpc').toLowerCase();
  if (protocol !== 'grpc' && protocol !== 'http' && protocol !== 'https')
    return fail('extauthz-protocol', `"${protocol}" is not grpc, http or https`);
  const bool = (key: string): boolean | undefined => {
    const v = data[key]?.trim().toLowerCase() ?? '';
    return v === '' ? false : v === 'true' ? true : v === 'false' ? false : undefined;
  };
  const int = (key: string, dflt: number, max: number): number | undefined => {
    const v = data[key]?.trim() ?? '';
    if (v === '') return dflt;
    const n = Number(v);
    return /^\d+$/.test(v) && n <= max ? n : undefined;
  };
  const failureModeAllow = bool('extauthz-failure-mode-allow');
  if (failureModeAllow === undefined) return fail('extauthz-failure-mode-allow', 'is not true or false');
  const packAsBytes = bool('extauthz-pack-as-bytes');
  if (packAsBytes === undefined) return fail('extauthz-pack-as-bytes', 'is not true or false');
  if (packAsBytes && protocol !== 'grpc') return fail('extauthz-pack-as-bytes', `cannot be set with protocol ${protocol}`);
  const maxRequestBytes = int('extauthz-max-request-body-bytes', 8192, 0xffff_ffff);
  if (maxRequestBytes === undefined) return fail('extauthz-max-request-body-bytes', 'is not a uint32');
  const timeoutMs = int('extauthz-timeout', 2000, 0x7fff_ffff);
  if (timeoutMs === undefined) return fail('extauthz-timeout', 'is not a number of milliseconds');
  return {
    extAuthz: Object.freeze({
      ...target,
      protocol,
      failureModeAllow,
      maxRequestBytes,
      timeoutMs,
      pathPrefix: data['extauthz-path-prefix']?.trim() ?? '',
      packAsBytes,
    }),
  };
}
