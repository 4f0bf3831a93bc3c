import * as grpc from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { bool, formatListen, listen, num, parseOptions, renderHelp, str, UsageError, type ListenAddress } from '../config.js';
import { SERVE_SPEC } from './specs.js';
import { createLogger, type Logger } from '../log.js';
import { ModelStore } from '../model/store.js';
import { AssignmentEngine } from '../engine/assignments.js';
import { policyByName } from '../policy/index.js';
import { FileTopologySource } from '../sources/file.js';
import { formatTopologyError } from '../model/topology.js';
import { AdminServer } from '../admin/server.js';
import { assignmentsView, topologyView } from '../admin/debug-views.js';
import { rttMatrixSvg, trafficMatrixSvg, uiPage, type TrafficFlow } from '../admin/ui.js';
import { ExtProcServer } from '../extproc/server.js';
import { modelPodLoad } from '../extproc/pod-signals.js';
import { endpointKey } from '../extproc/picker.js';
import { ExtenderServer } from '../extender/http.js';
import { XdsControlPlane } from '../xds/control-plane.js';
import { DEFAULT_BUILD_OPTIONS } from '../xds/resources/types.js';
import { LoadReportingServer } from '../lrs/server.js';
import { ProbeCollector } from '../probe/collector.js';
import { openfaasOptions, type OpenFaasOptions } from '../sources/kubernetes/openfaas.js';
import { gatewaysProgrammed } from '../xds/programmed.js';
import type { MeasurementSink } from '../model/sink.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { StartKubernetesSourceOptions } from '../sources/kubernetes/index.js';
import { defaultTopologyPath } from './paths.js';
import { untilTerminated } from './signals.js';
import { FatalError, listenError } from './errors.js';
import { pickSelfCheck, requestThroughXds, startExampleBackends } from './example-backends.js';
import { DEFAULT_SERVE_LIMITS, type ServeLimits } from '../limits.js';
import { TransportSecurity } from '../tls/transport.js';
import type { TlsFiles } from '../tls/material.js';
import { NodeAuthorizer } from '../tls/authorizer.js';
import { listenGrpc } from '../net/grpc-listen.js';
import { listenFront, type ConnectionRefusal } from '../net/front-listener.js';
import { followReloads, httpsServerOptions } from '../tls/server-credentials.js';
import type { Socket } from 'node:net';
import { TokenFile } from '../admin/token.js';
import { TlsSecretStore } from '../model/tls-secrets.js';
import type { KourierOptions } from '../sources/kubernetes/kourier-options.js';
import { KOURIER_PROBE_PORTS } from '../sources/kubernetes/readiness-probe.js';

/** Typed serve options (from flags/env via SERVE_SPEC, or built directly by tests and the demo). */
export interface ServeOptions {
  readonly topologyPath?: string;
  /** A larger topology file is refused unread (default DEFAULT_TOPOLOGY_MAX_BYTES). */
  readonly topologyMaxBytes?: number;
  readonly kubernetes: boolean;
  readonly policy: string;
  readonly xdsListen: ListenAddress;
  readonly extprocListen: ListenAddress;
  readonly extenderListen: ListenAddress;
  readonly adminListen: ListenAddress;
  readonly recomputeIntervalMs: number;
  /** LRS load_reporting_interval (default 2000). */
  readonly lrsIntervalMs?: number;
  readonly extprocFailClosed?: boolean;
  readonly extprocShed?: boolean;
  readonly extprocSlotTimeoutMs?: number;
  /** `host:port` ext_proc-opted gateways dial (cluster proxima_extproc); default DEFAULT_EXTPROC_ADDRESS. */
  readonly extprocAddress?: string;
  /** Label naming the service of non-Knative function pods for the scheduler extender. */
  readonly extenderServiceLabel?: string;
  /** With `kubernetes`: a kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfigPath?: string;
  /** With `kubernetes`: a ready KubeConfig (tests), wins over kubeconfigPath. */
  readonly kubeConfig?: KubeConfig;
  readonly ingressClass?: string;
  /** With `kubernetes`: this replica's id; measurements are then shared through ProximaMeasurement objects. */
  readonly replicaId?: string;
  /** Certificate, key and (mutual TLS) client CA of every gRPC listener and the extender. */
  readonly tls?: TlsFiles;
  readonly tlsReloadIntervalMs?: number;
  /** SPIFFE trust domain of client identities (default cluster.local). */
  readonly tlsTrustDomain?: string;
  /** Allow plaintext listeners off loopback (with a warning). */
  readonly insecure?: boolean;
  /** Bearer token file for /debug/* and /ui. */
  readonly adminTokenFile?: string;
  /** Bearer token file the extender accepts besides the scheduler certificate. */
  readonly extenderTokenFile?: string;
  readonly limits?: Partial<ServeLimits>;
  /** With `kubernetes`: route OpenFaaS functions too. */
  readonly openfaas?: OpenFaasOptions;
  /** With `kubernetes`: net-kourier drop-in settings (namespaces, default certificate, leader election). */
  readonly kourier?: Partial<KourierOptions>;
}

/** The running control plane: bound addresses, the parts (for tests and the demo) and shutdown. */
export interface ServeHandle {
  readonly addresses: Readonly<Record<'xds' | 'extproc' | 'extender' | 'admin', string>>;
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly registry: Registry;
  readonly admin: AdminServer;
  close(): Promise<void>;
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

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

/** Graceful gRPC shutdown, forced after `graceMs` (xDS and ext_proc streams are long-lived). */
function shutdownGrpc(server: grpc.Server, graceMs = 1000): Promise<void> {
  return new Promise((resolveShutdown) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolveShutdown();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolveShutdown();
    });
  });
}

/** Listen with an HTTP server's `listen(addr)`, turning a failure into one line naming the flag. */
async function listenOrExplain<T>(flag: string, addr: ListenAddress, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw listenError(flag, formatListen(addr), err);
  }
}

/**
 * Start the Kubernetes source. client-node takes a second or more to load, so it is imported only
 * here, after the admin port is up; an API server that never answers becomes one fatal line.
 */
async function startKubernetes(opts: StartKubernetesSourceOptions) {
  const { KubernetesUnavailableError, startKubernetesSource } = await import('../sources/kubernetes/index.js');
  try {
    return await startKubernetesSource(opts);
  } catch (err) {
    if (err instanceof KubernetesUnavailableError)
      throw new FatalError(`--kubernetes: ${err.message}; check --kubeconfig and that the API server is reachable`);
    throw err;
  }
}

/** Start every part of `proxima serve` and return once all listeners are bound. */
export async function startServe(options: ServeOptions, log: Logger, registry = new Registry()): Promise<ServeHandle> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err }, 'error during shutdown');
      }
    }
  };
  try {
    collectDefaultMetrics({ register: registry, prefix: 'proxima_process_' });
    const limits: ServeLimits = { ...DEFAULT_SERVE_LIMITS, ...options.limits };
    const transport = TransportSecurity.create(
      {
        ...optional('tls', options.tls),
        ...optional('reloadIntervalMs', options.tlsReloadIntervalMs),
        insecure: options.insecure ?? false,
      },
      log,
      registry,
    );
    closers.push(() => transport.close());
    transport.admit('xds-listen', options.xdsListen);
    transport.admit('extproc-listen', options.extprocListen);
    transport.admit('extender-listen', options.extenderListen);
    const authorizer = new NodeAuthorizer({
      mutualTls: transport.mutual,
      trustDomain: options.tlsTrustDomain ?? 'cluster.local',
      registry,
    });
    const connectionsRefused = new Counter({
      name: 'proxima_connections_refused_total',
      help: 'Connections closed at accept, by listener and reason (per_peer: --max-connections-per-peer, total: --max-connections).',
      labelNames: ['listener', 'reason'],
      registers: [registry],
    });
    const connectionLimits = { maxPerPeer: limits.maxConnectionsPerPeer, maxTotal: limits.maxConnections };
    const bindGrpc = async (server: grpc.Server, addr: ListenAddress, listener: string, flag: string): Promise<number> => {
      const l = await listenGrpc(server, addr, transport.grpcCredentials(), connectionLimits, (reason: ConnectionRefusal) =>
        connectionsRefused.inc({ listener, reason }),
      ).catch((err: unknown) => {
        throw listenError(flag, formatListen(addr), err);
      });
      closers.push(() => l.close());
      return l.port;
    };
    const bindFront = async (addr: ListenAddress, listener: string, flag: string, accept: (socket: Socket) => void): Promise<number> => {
      const l = await listenFront(addr, connectionLimits, accept, (reason: ConnectionRefusal) =>
        connectionsRefused.inc({ listener, reason }),
      ).catch((err: unknown) => {
        throw listenError(flag, formatListen(addr), err);
      });
      closers.push(() => l.close());
      return l.port;
    };
    const grpcServerOptions = {
      'grpc.max_receive_message_length': limits.maxMessageBytes,
      'grpc.max_concurrent_streams': limits.maxStreamsPerConnection,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
    };
    const store = new ModelStore();
    const recomputes = new Counter({
      name: 'proxima_assignment_recomputes_total',
      help: 'Policy runs over dirty services.',
      registers: [registry],
    });
    const recomputeSeconds = new Histogram({
      name: 'proxima_assignment_recompute_duration_seconds',
      help: 'Time to recompute the assignments of all dirty services.',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    });
    const engine = new AssignmentEngine({
      store,
      policy: policyByName(options.policy),
      onRecompute: (_n, seconds) => {
        recomputes.inc();
        recomputeSeconds.observe(seconds);
      },
    });

    // The admin port comes first: /healthz answers from the first second, /readyz says what is pending.
    const admin = new AdminServer({
      registry,
      log,
      title: 'proxima serve',
      ...optional('token', options.adminTokenFile ? new TokenFile(options.adminTokenFile) : undefined),
      maxDebugItems: limits.maxDebugItems,
    });
    let sourceReady = false;
    admin.addReadiness(
      'source',
      () => sourceReady || (options.kubernetes ? 'Kubernetes informers not synced yet' : 'topology not loaded yet'),
    );
    const adminAddr = await listenOrExplain('--admin-listen', options.adminListen, () => admin.listen(options.adminListen));
    log.info({ admin: formatListen(adminAddr) }, 'admin port listening (/healthz answers; /readyz waits for the rest)');
    closers.push(() => admin.close());

    let sink: MeasurementSink = store;
    // Certificates the Kubernetes source finds for the gateways; the xDS side serves them over SDS.
    const tlsSecrets = new TlsSecretStore();
    // The Kubernetes source starts before the xDS control plane exists; readiness asks it later.
    const late: { xds?: XdsControlPlane } = {};
    if (options.kubernetes) {
      const source = await startKubernetes({
        store,
        log,
        registry,
        ...optional('kubeConfig', options.kubeConfig),
        ...optional('kubeconfigPath', options.kubeconfigPath),
        ...optional('ingressClass', options.ingressClass),
        ...optional('replicaId', options.replicaId),
        ...optional('openfaas', options.openfaas),
        kourier: { ...options.kourier, tlsSecrets },
        isProgrammed: () => (late.xds ? late.xds.settled() && gatewaysProgrammed(late.xds.clients()) : false),
      });
      closers.push(() => source.stop());
      const statusTimer = setInterval(
        () => void source.refreshStatuses().catch((err: unknown) => log.warn({ err }, 'KIngress status refresh failed')),
        1000,
      );
      statusTimer.unref();
      closers.push(() => clearInterval(statusTimer));
      if (options.replicaId) {
        sink = {
          setMeasuredRtt: (from, rows, atMs) => source.publishRtt(from, rows, atMs),
          setDemand: (service, byGateway) => source.publishDemand(service, byGateway),
        };
      }
      admin.addDebug(
        'source',
        "the Kubernetes source: routes from Knative Ingresses, plain Services and OpenFaaS functions, and each revision's data path",
        () => ({
          kind: 'kubernetes',
          routes: source.routes(),
          dataPaths: source.translation?.dataPaths ?? [],
          workloads: source.translation?.workloads ?? [],
        }),
      );
    } else {
      const path = options.topologyPath ?? defaultTopologyPath();
      const source = new FileTopologySource({ path, store, log, registry, ...optional('maxBytes', options.topologyMaxBytes) });
      await source.start();
      closers.push(() => source.stop());
      admin.addDebug('source', 'the topology file: status, the last good topology in force, why a newer one was refused', () => ({
        kind: 'file',
        ...source.state(),
      }));
      admin.addNote('topology', () => {
        const st = source.state();
        if (st.status === 'ok') return undefined;
        const first = st.errors[0];
        return `file refused since ${st.invalidSince}, serving the last good one (${st.lastGood?.hash} of ${st.lastGood?.appliedAt})${first ? `: ${formatTopologyError(first)}` : ''}`;
      });
    }
    sourceReady = true;
    engine.start();
    closers.push(() => engine.stop());
    const timer = setInterval(() => engine.invalidateAll(), options.recomputeIntervalMs);
    timer.unref();
    closers.push(() => clearInterval(timer));

    admin.addDebug('assignments', 'per service and gateway node: localities, priorities, weights and why (?service=&gateway=)', (q) =>
      assignmentsView(store, engine, Date.now(), q),
    );
    admin.addDebug('topology', 'nodes, the effective RTT matrix and where each value comes from', () => topologyView(store, Date.now()));
    let trafficFlows: () => TrafficFlow[] = () => [];
    admin.addDebug('traffic', 'smoothed requests/s per gateway node, serving node and service, as gateways report them over LRS', () =>
      trafficFlows(),
    );
    admin.addPage('/ui', uiPage);
    admin.addPage('/ui/rtt.svg', () => rttMatrixSvg(store, Date.now()), 'image/svg+xml');
    admin.addPage('/ui/traffic.svg', () => trafficMatrixSvg(store, trafficFlows()), 'image/svg+xml');

    // xDS (ADS SotW + Delta, per-type services) and LRS share one gRPC port.
    const xdsServer = new grpc.Server(grpcServerOptions);
    closers.push(() => shutdownGrpc(xdsServer));
    const xds = new XdsControlPlane({
      store,
      engine,
      log,
      registry,
      buildOptions: { ...DEFAULT_BUILD_OPTIONS, ...optional('extprocAddress', options.extprocAddress) },
      requestLimits: { maxResourceNames: limits.maxResourceNames, maxNameLength: limits.maxNameLength },
      authorizer,
      tlsSecrets,
    });
    late.xds = xds;
    xds.register(xdsServer);
    closers.push(() => xds.close());
    admin.addReadiness('xds', () => xds.ready() || 'initial xDS snapshot not built yet');
    admin.addDebug('clients', 'connected xDS streams: node, gateway node, subscriptions, versions sent and ACKed, last NACK', () =>
      xds.clients(),
    );
    // LRS (demand) and probe reports (RTT) arrive on the same port as xDS.
    const lrs = new LoadReportingServer({
      store,
      sink,
      log,
      registry,
      ...optional('reportingIntervalMs', options.lrsIntervalMs),
      limits: { maxLocalities: limits.maxLocalitiesPerReport },
      maxNameLength: limits.maxNameLength,
      maxMetricSeries: limits.maxMetricSeries,
      authorizer,
    });
    lrs.register(xdsServer);
    trafficFlows = () => lrs.flows();
    admin.addDebug('demand', 'learned demand per gateway node (req/s) and observed service time per node, per service', () =>
      lrs.snapshot(),
    );
    const probes = new ProbeCollector({
      store,
      sink,
      log,
      registry,
      authorizer,
      maxTrackedIds: limits.maxTrackedIds,
      trackedIdTtlMs: limits.trackedIdTtlMs,
    });
    probes.register(xdsServer);
    closers.push(() => probes.close());
    closers.push(() => lrs.close());
    admin.addDebug('probes', 'connected probe agents and their probe addresses', () => probes.agents());
    const xdsPort = await bindGrpc(xdsServer, options.xdsListen, 'xds', '--xds-listen');

    // ext_proc: per-request endpoint picking for gateways that enable the filter.
    const extproc = new ExtProcServer({
      store,
      engine,
      log,
      registry,
      failClosed: options.extprocFailClosed ?? false,
      shedWhenSaturated: options.extprocShed ?? false,
      authorizer,
      // The pods' own queue depth and service time (queue-proxy, via the node agents).
      podLoad: modelPodLoad(store, endpointKey),
      // What it routes is demand LRS never sees (ORIGINAL_DST reports none): counted as one more LRS source.
      onDemand: (gateway, loads) => lrs.observeRouted(gateway, loads),
      demandIntervalMs: lrs.reportingIntervalMs,
      ...optional('slotTimeoutMs', options.extprocSlotTimeoutMs),
    });
    // One stream per gateway request: served on node:http2 directly (h2-transport.ts), not grpc-js.
    const extprocTransport = extproc.transport({
      maxMessageBytes: limits.maxMessageBytes,
      maxStreamsPerConnection: limits.maxStreamsPerConnection,
      ...(transport.reloader ? { tls: httpsServerOptions(transport.reloader, true) } : {}),
    });
    if (transport.reloader) closers.push(followReloads(transport.reloader, extprocTransport));
    closers.push(() => extproc.close());
    closers.push(() => extprocTransport.close());
    const extprocPort = await bindFront(options.extprocListen, 'extproc', '--extproc-listen', (socket) => extprocTransport.accept(socket));
    admin.addDebug(
      'extproc',
      'ext_proc picker state: in-flight and service-time EWMA per endpoint, picks by rule, picks that left a gateway node with room (and why)',
      () => extproc.snapshot(),
    );

    // Scheduler extender: filter/prioritize for new function pods from the same model.
    const extender = new ExtenderServer({
      store,
      engine,
      log,
      registry,
      ...(options.extenderServiceLabel ? { serviceLabel: options.extenderServiceLabel } : {}),
      ...optional('tls', transport.reloader),
      ...optional('token', options.extenderTokenFile ? new TokenFile(options.extenderTokenFile) : undefined),
      trustDomain: options.tlsTrustDomain ?? 'cluster.local',
      connectionLimits,
      maxPending: limits.maxPendingPlacements,
    });
    closers.push(() => extender.close());
    const extenderAddr = await listenOrExplain('--extender-listen', options.extenderListen, () => extender.listen(options.extenderListen));
    admin.addDebug(
      'placements',
      'scheduler extender: recent prioritize decisions with their reasons, and placed pods not yet ready endpoints',
      () => extender.placements(),
    );

    const addresses = {
      xds: formatListen({ host: options.xdsListen.host, port: xdsPort }),
      extproc: formatListen({ host: options.extprocListen.host, port: extprocPort }),
      extender: formatListen({ host: options.extenderListen.host, port: extenderAddr.port }),
      admin: formatListen({ host: adminAddr.host, port: adminAddr.port }),
    };
    log.info({ addresses, policy: engine.policy.name }, 'proxima serve is up');
    return { addresses, store, engine, registry, admin, close };
  } catch (err) {
    await close();
    throw err;
  }
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
