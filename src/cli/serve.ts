import * as grpc from '@grpc/grpc-js';
import { bool, formatListen, listen, num, parseOptions, renderHelp, str, UsageError } from '../config.js';
import { SERVE_SPEC } from './specs.js';
import { createLogger } from '../log.js';
import { openfaasOptions, type OpenFaasOptions } from '../sources/kubernetes/openfaas.js';
import { untilTerminated } from './signals.js';
import { pickSelfCheck, requestThroughXds, startExampleBackends } from './example-backends.js';
import { DEFAULT_SERVE_LIMITS, type ServeLimits } from '../limits.js';
import type { TlsFiles } from '../tls/material.js';
import type { KourierOptions } from '../sources/kubernetes/kourier-options.js';
import { KOURIER_PROBE_PORTS } from '../sources/kubernetes/readiness-probe.js';
import { optional } from '../util/optional.js';
import type { ServeHandle, ServeOptions } from './serve/types.js';
import { startServe } from './serve/start.js';

export type { ServeHandle, ServeOptions } from './serve/types.js';
export { startServe } from './serve/start.js';

/** TLS files from --tls-cert/--tls-key/--tls-client-ca, checked for completeness. */
function tlsFilesFrom(o: ReturnType<typeof parseOptions>): TlsFiles | undefined {
  const certPath = str(o, 'tls-cert');
  const keyPath = str(o, 'tls-key');
  const clientCaPath = str(o, 'tls-client-ca');
  if (!certPath !== !keyPath) throw new UsageError('--tls-cert and --tls-key go together');
  if (clientCaPath && !certPath) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)');
  return certPath && keyPath ? { certPath, keyPath, ...(clientCaPath ? { clientCaPath } : {}) } : undefined;
}

function limitsFrom(o: ReturnType<typeof parseOptions>): ServeLimits {
  const flags: Record<keyof ServeLimits, string | undefined> = {
    maxConnectionsPerPeer: 'max-connections-per-peer',
    maxConnections: 'max-connections',
    maxStreamsPerConnection: 'max-streams-per-connection',
    maxMessageBytes: 'max-message-bytes',
    maxResourceNames: 'max-resource-names',
    maxNameLength: 'max-name-length',
    maxLocalitiesPerReport: 'max-localities-per-report',
    maxTrackedIds: 'max-tracked-ids',
    trackedIdTtlMs: undefined,
    maxMetricSeries: 'max-metric-series',
    maxDebugItems: 'max-debug-items',
    maxPendingPlacements: 'max-pending-placements',
  };
  const out: Record<string, number> = { ...DEFAULT_SERVE_LIMITS };
  for (const [key, flag] of Object.entries(flags)) {
    if (!flag) continue;
    const v = num(o, flag);
    if (!(Number.isInteger(v) && v >= 1)) throw new UsageError(`--${flag} must be an integer >= 1`);
    out[key] = v;
  }
  return out as unknown as ServeLimits;
}

export function serveOptionsFrom(o: ReturnType<typeof parseOptions>): ServeOptions {
  const topologyPath = str(o, 'topology');
  const tls = tlsFilesFrom(o);
  return {
    ...(tls ? { tls } : {}),
    tlsReloadIntervalMs: num(o, 'tls-reload-interval-ms'),
    tlsTrustDomain: str(o, 'tls-trust-domain') ?? 'cluster.local',
    insecure: bool(o, 'insecure'),
    ...optional('adminTokenFile', str(o, 'admin-token-file')),
    ...optional('extenderTokenFile', str(o, 'extender-token-file')),
    limits: limitsFrom(o),
    ...(topologyPath ? { topologyPath } : {}),
    topologyMaxBytes: num(o, 'topology-max-bytes'),
    kubernetes: bool(o, 'kubernetes'),
    policy: str(o, 'policy') ?? 'proxima',
    xdsListen: listen(o, 'xds-listen'),
    extprocListen: listen(o, 'extproc-listen'),
    extenderListen: listen(o, 'extender-listen'),
    adminListen: listen(o, 'admin-listen'),
    recomputeIntervalMs: num(o, 'recompute-interval-ms'),
    lrsIntervalMs: num(o, 'lrs-interval-ms'),
    extprocFailClosed: bool(o, 'extproc-fail-closed'),
    extprocShed: bool(o, 'extproc-shed'),
    extprocSlotTimeoutMs: num(o, 'extproc-slot-timeout-ms'),
    extprocAddress: formatListen(listen(o, 'extproc-address')),
    extprocAlways: bool(o, 'extproc-always'),
    ...optional('extenderServiceLabel', str(o, 'extender-service-label')),
    ...optional('kubeconfigPath', str(o, 'kubeconfig')),
    ...optional('ingressClass', str(o, 'ingress-class')),
    ...optional('replicaId', str(o, 'replica-id')),
    ...optional('openfaas', bool(o, 'openfaas') ? openfaasFrom(o) : undefined),
    kourier: kourierFrom(o),
  };
}

/** net-kourier drop-in flags; the leader Lease needs a replica id (the holder identity). */
function kourierFrom(o: ReturnType<typeof parseOptions>): Partial<KourierOptions> {
  const certNs = str(o, 'certs-secret-namespace');
  const certName = str(o, 'certs-secret-name');
  const lease = str(o, 'leader-election-lease');
  const identity = str(o, 'replica-id');
  if (lease && (!lease.includes('/') || !identity))
    throw new UsageError('--leader-election-lease takes NAMESPACE/NAME and needs --replica-id');
  const leaseMs = num(o, 'leader-election-lease-duration-ms');
  return {
    systemNamespace: str(o, 'system-namespace') ?? 'knative-serving',
    gatewayNamespace: str(o, 'gateway-namespace') ?? 'kourier-system',
    ...(certNs && certName ? { envCertsSecret: { namespace: certNs, name: certName } } : {}),
    minimumTlsVersion: str(o, 'gateway-tls-minimum-version') === 'TLSv1_3' ? 'TLSv1_3' : 'TLSv1_2',
    ...extAuthzFlags(o),
    ...(bool(o, 'secret-informer-filtering-by-cert-uid') ? { secretLabelSelector: CERTIFICATE_UID_LABEL } : {}),
    ...(bool(o, 'readiness-probe') ? { readinessProbe: { ports: KOURIER_PROBE_PORTS, timeoutMs: 1000, retryMs: 1000 } } : {}),
    ...(lease && identity
      ? { leaderElection: { lease, identity, leaseDurationMs: leaseMs, renewDeadlineMs: (leaseMs * 2) / 3, retryPeriodMs: leaseMs / 7.5 } }
      : {}),
  };
}

/** knative/networking pkg/apis/networking CertificateUIDLabelKey: the label net-kourier's filtered Secret informer selects on. */
const CERTIFICATE_UID_LABEL = 'networking.internal.knative.dev/certificate-uid';

/** --extauthz-* (env KOURIER_EXTAUTHZ_*) under the config-kourier key names gateway-config.ts parses. */
function extAuthzFlags(o: ReturnType<typeof parseOptions>): Pick<KourierOptions, 'envExtAuthz'> {
  const pairs: [string, string | undefined][] = [
    ['extauthz-host', str(o, 'extauthz-host')],
    ['extauthz-protocol', str(o, 'extauthz-protocol')],
    ['extauthz-failure-mode-allow', str(o, 'extauthz-failure-mode-allow')],
    ['extauthz-max-request-body-bytes', str(o, 'extauthz-max-request-bytes')],
    ['extauthz-timeout', str(o, 'extauthz-timeout-ms')],
    ['extauthz-path-prefix', str(o, 'extauthz-path-prefix')],
    ['extauthz-pack-as-bytes', str(o, 'extauthz-pack-as-bytes')],
  ];
  const set = pairs.filter((p): p is [string, string] => p[1] !== undefined);
  return set.length ? { envExtAuthz: Object.freeze(Object.fromEntries(set)) } : {};
}

export interface ServeBannerInfo {
  readonly policy: string;
  readonly nodes: number;
  readonly services: number;
  readonly addresses: ServeHandle['addresses'];
}

/** What `proxima serve` prints once it is up: where to point gateways and people (README quotes it). */
export function serveBanner(b: ServeBannerInfo): string {
  return (
    [
      '',
      `proxima serve: policy ${b.policy}, ${b.nodes} nodes, ${b.services} services`,
      `  xDS + LRS  ${b.addresses.xds}  gateways' ADS cluster (envoy/gateway-bootstrap.yaml); gRPC clients: GRPC_XDS_BOOTSTRAP_CONFIG`,
      `  ext_proc   ${b.addresses.extproc}  per-request endpoint picking (envoy/gateway-extproc.yaml)`,
      `  extender   ${b.addresses.extender}  kube-scheduler extender: POST /filter, /prioritize`,
      `  admin      http://${b.addresses.admin}/  /metrics /healthz /readyz /debug/assignments /ui`,
      '',
    ].join('\n') + '\n'
  );
}

function openfaasFrom(o: ReturnType<typeof parseOptions>): OpenFaasOptions {
  const r = openfaasOptions(str(o, 'openfaas-namespace') ?? '', str(o, 'openfaas-gateway') ?? '');
  if (typeof r === 'string') throw new UsageError(r);
  return r;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const o = parseOptions(SERVE_SPEC, argv, env);
  if (o['help']) {
    process.stdout.write(renderHelp(SERVE_SPEC));
    return 0;
  }
  const log = createLogger({
    level: str(o, 'log-level'),
    format: str(o, 'log-format') as 'json' | 'pretty',
    maxValueChars: num(o, 'log-max-value-chars'),
  });
  // grpc-js prints its own errors (e.g. a failed bind) straight to stderr; every one of them that matters
  // reaches us through a callback and is reported once, so its lines go to the debug log.
  const grpcLog = log.child({ component: 'grpc-js' });
  grpc.setLogger({ error: (...args: unknown[]) => grpcLog.debug(args.map(String).join(' ')) });
  const options = serveOptionsFrom(o);
  if (bool(o, 'example-backends') && options.tls)
    throw new UsageError('--example-backends checks itself with a plaintext xDS client on loopback: use it without --tls-cert');
  const handle = await startServe(options, log);
  const closeAll: Array<() => Promise<void>> = [() => handle.close()];
  try {
    const banner: ServeBannerInfo = {
      policy: handle.engine.policy.name,
      nodes: handle.store.nodes().length,
      services: handle.store.services().length,
      addresses: handle.addresses,
    };
    process.stderr.write(serveBanner(banner));
    if (bool(o, 'example-backends')) {
      const backends = await startExampleBackends(handle.store, log);
      closeAll.unshift(() => backends.close());
      process.stderr.write(`example backends: ${backends.started.length} started\n${backends.started.map((b) => `  ${b}\n`).join('')}`);
      const target = pickSelfCheck(handle.store.services());
      if (target) {
        const servedBy = await requestThroughXds(handle.addresses.xds.replace(/^0\.0\.0\.0:|^\[::\]:/, '127.0.0.1:'), target);
        process.stderr.write(
          `one request through a real gRPC xDS client as a gateway on ${target.node}: xds:///${target.host} answered by ${servedBy}\n\n`,
        );
      }
    }
  } catch (err) {
    for (const c of closeAll) await c();
    throw err;
  }
  await untilTerminated(log);
  for (const c of closeAll) await c();
  return 0;
}
