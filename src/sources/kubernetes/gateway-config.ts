/**
 * net-kourier's ConfigMaps → Proxima's gateway settings. `config-kourier` (net-kourier
 * pkg/config/config.go, pkg/config/ext_authz.go) and `config-network` (knative/networking
 * pkg/apis/config) keys are each either implemented here or reported as unsupported — on every
 * KIngress (an Info condition) and in the log — never silently ignored. A bad value keeps the
 * default and is reported too. Pure.
 */
import { DEFAULT_GATEWAY_CONFIG, type GatewayConfig } from '../../model/types.js';
import { tracingFrom } from './tracing-config.js';
import { extAuthzFrom } from './extauthz-config.js';
import { isRecord, keyOf } from './objects.js';

export const CONFIG_KOURIER = 'config-kourier';
export const CONFIG_NETWORK = 'config-network';

/** Every config-kourier key net-kourier reads, with what Proxima does with it. */
export const KOURIER_KEYS = {
  'enable-service-access-logging': 'done',
  'service-access-log-template': 'done',
  'enable-proxy-protocol': 'done',
  'cluster-cert-secret': 'done',
  'stream-idle-timeout': 'done',
  'trusted-hops-count': 'done',
  'use-remote-address': 'done',
  'enable-cryptomb': 'unsupported',
  'cipher-suites': 'done',
  'listen-ip-addresses': 'done',
  'disable-envoy-server-header': 'done',
  'certs-secret-name': 'done',
  'certs-secret-namespace': 'done',
  'extauthz-host': 'done',
  'extauthz-protocol': 'done',
  'extauthz-failure-mode-allow': 'done',
  'extauthz-max-request-body-bytes': 'done',
  'extauthz-timeout': 'done',
  'extauthz-path-prefix': 'done',
  'extauthz-pack-as-bytes': 'done',
  'tracing-endpoint': 'done',
  'tracing-protocol': 'done',
  'tracing-sampling-rate': 'done',
  'tracing-service-name': 'done',
} as const satisfies Record<string, 'done' | 'unsupported'>;

/** config-network keys net-kourier honours. */
export const NETWORK_KEYS = {
  'system-internal-tls': 'done',
  /** Deprecated spelling of system-internal-tls (`true` enables it when the new key is unset). */
  'internal-encryption': 'done',
  'cluster-local-domain-tls': 'unsupported',
} as const satisfies Record<string, 'done' | 'unsupported'>;

/** Values that switch a feature off are not a problem: only a key that asks for something unsupported is reported. */
const OFF_VALUES = new Set(['', 'false', 'disabled', '0']);

export interface ConfigIssue {
  readonly configMap: string;
  readonly key: string;
  readonly message: string;
}

export interface GatewayConfigResult {
  readonly config: GatewayConfig;
  /** Keys set to something Proxima does not do, and invalid values (default kept). */
  readonly issues: readonly ConfigIssue[];
}

export interface GatewayConfigInput {
  /** `data` of config-kourier (undefined when the ConfigMap does not exist). */
  readonly kourier: Readonly<Record<string, string>> | undefined;
  readonly network: Readonly<Record<string, string>> | undefined;
  /** Namespace of `cluster-cert-secret` (net-kourier: the gateway's namespace, kourier-system). */
  readonly gatewayNamespace: string;
  /** CERTS_SECRET_NAMESPACE / CERTS_SECRET_NAME from the environment (fallback, as net-kourier). */
  readonly envCertsSecret?: { readonly namespace: string; readonly name: string };
  /** KOURIER_EXTAUTHZ_* from the environment under the config-kourier key names (they win when the host is set). */
  readonly envExtAuthz?: Readonly<Record<string, string>>;
  /** Minimum TLS version of the gateway listeners (net-kourier: always 1.2; Proxima: a flag). */
  readonly minimumTlsVersion?: GatewayConfig['minimumTlsVersion'];
}

/**
 * knative/networking pkg/config/config.go: `system-internal-tls` is `enabled` or `disabled`
 * (case-insensitive; empty = disabled), and when it is empty or disabled the deprecated boolean
 * `internal-encryption: true` still enables it. Any other value is an invalid ConfigMap.
 */
function systemInternalTlsOf(network: Readonly<Record<string, string>>, issues: ConfigIssue[]): boolean {
  const v = (network['system-internal-tls'] ?? '').trim().toLowerCase();
  if (v === 'enabled') return true;
  if (v !== '' && v !== 'disabled') {
    issues.push({
      configMap: CONFIG_NETWORK,
      key: 'system-internal-tls',
      message: `system-internal-tls: "${network['system-internal-tls']}" is not enabled or disabled; it stays disabled`,
    });
    return false;
  }
  return (network['internal-encryption'] ?? '').trim().toLowerCase() === 'true';
}

/** Go time.ParseDuration subset (h, m, s, ms, us, ns; sums like 1h30m) → ms; undefined when invalid. */
export function parseGoDurationMs(v: string): number | undefined {
  if (v === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  let total = 0;
  let i = 0;
  if (v === '') return undefined;
  while (i < v.length) {
    re.lastIndex = i;
    const m = re.exec(v);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    i = re.lastIndex;
  }
  return total;
}

/** Both ConfigMaps → gateway settings plus every issue. */
export function gatewayConfigFrom(input: GatewayConfigInput): GatewayConfigResult {
  const issues: ConfigIssue[] = [];
  const k = input.kourier ?? {};
  const bad = (key: string, why: string) => issues.push({ configMap: CONFIG_KOURIER, key, message: `${key}: ${why}; the default is kept` });
  const bool = (key: string, dflt: boolean): boolean => {
    const v = k[key]?.trim().toLowerCase();
    if (v === undefined || v === '') return dflt;
    if (v === 'true' || v === 'false') return v === 'true';
    bad(key, `"${k[key]}" is not true or false`);
    return dflt;
  };
  const idle = k['stream-idle-timeout']?.trim();
  const idleMs = idle ? parseGoDurationMs(idle) : DEFAULT_GATEWAY_CONFIG.streamIdleTimeoutMs;
  if (idleMs === undefined) bad('stream-idle-timeout', `"${idle}" is not a duration`);
  const hopsRaw = k['trusted-hops-count']?.trim();
  const hops = hopsRaw ? Number(hopsRaw) : 0;
  if (!Number.isInteger(hops) || hops < 0) bad('trusted-hops-count', `"${hopsRaw}" is not a non-negative integer`);
  const list = (key: string) =>
    (k[key] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  const ips = list('listen-ip-addresses');
  const ipBad = ips.filter((a) => !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(a));
  if (ipBad.length) bad('listen-ip-addresses', `${ipBad.join(', ')} not IP addresses`);
  const certNs = k['certs-secret-namespace']?.trim() || input.envCertsSecret?.namespace;
  const certName = k['certs-secret-name']?.trim() || input.envCertsSecret?.name;
  const clusterCert = k['cluster-cert-secret']?.trim();
  // Proxima's default is off (net-kourier's is on): an access log line per request costs the gateway CPU.
  const template = k['service-access-log-template'];
  const config: GatewayConfig = Object.freeze({
    ...DEFAULT_GATEWAY_CONFIG,
    ...(certNs && certName ? { defaultCertificate: keyOf(certNs, certName) } : {}),
    ...(clusterCert ? { clusterCertificate: keyOf(input.gatewayNamespace, clusterCert) } : {}),
    cipherSuites: Object.freeze(list('cipher-suites')),
    minimumTlsVersion: input.minimumTlsVersion ?? DEFAULT_GATEWAY_CONFIG.minimumTlsVersion,
    streamIdleTimeoutMs: idleMs ?? DEFAULT_GATEWAY_CONFIG.streamIdleTimeoutMs,
    trustedHopsCount: Number.isInteger(hops) && hops >= 0 ? hops : 0,
    useRemoteAddress: bool('use-remote-address', false),
    enableProxyProtocol: bool('enable-proxy-protocol', false),
    disableEnvoyServerHeader: bool('disable-envoy-server-header', false),
    listenIpAddresses: Object.freeze(ips.length && ipBad.length === 0 ? ips : [...DEFAULT_GATEWAY_CONFIG.listenIpAddresses]),
    ...(bool('enable-service-access-logging', false) ? { accessLog: Object.freeze(template ? { template } : {}) } : {}),
    systemInternalTls: systemInternalTlsOf(input.network ?? {}, issues),
    ...tracingFrom(k, (key, why) => issues.push({ configMap: CONFIG_KOURIER, key, message: `${key}: ${why}; tracing stays off` })),
    ...extAuthzFrom(k, input.envExtAuthz, (key, why) =>
      issues.push({ configMap: CONFIG_KOURIER, key, message: `${key}: ${why}; ext_authz stays off` }),
    ),
  });
  for (const [map, data, keys] of [
    [CONFIG_KOURIER, input.kourier, KOURIER_KEYS],
    [CONFIG_NETWORK, input.network, NETWORK_KEYS],
  ] as const) {
    for (const [key, status] of Object.entries(keys)) {
      const v = data?.[key]?.trim().toLowerCase();
      if (status === 'unsupported' && v !== undefined && !OFF_VALUES.has(v))
        issues.push({ configMap: map, key, message: `${key} is set but Proxima does not support it yet; it has no effect` });
    }
  }
  return { config, issues };
}

/** `data` of a ConfigMap object, strings only. */
export function configMapData(o: unknown): Record<string, string> | undefined {
  if (!isRecord(o)) return undefined;
  const data = isRecord(o['data']) ? o['data'] : {};
  return Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
