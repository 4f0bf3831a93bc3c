import * as grpc from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { bool, formatListen, listen, num, parseOptions, renderHelp, str, type ListenAddress } from '../config.js';
import { SERVE_SPEC } from './specs.js';
import { createLogger, type Logger } from '../log.js';
import { ModelStore } from '../model/store.js';
import { AssignmentEngine } from '../engine/assignments.js';
import { policyByName } from '../policy/index.js';
import { FileTopologySource } from '../sources/file.js';
import { AdminServer } from '../admin/server.js';
import { assignmentsView, topologyView } from '../admin/debug-views.js';
import { rttMatrixSvg, trafficMatrixSvg, uiPage, type TrafficFlow } from '../admin/ui.js';
import { ExtProcServer } from '../extproc/server.js';
import { ExtenderServer } from '../extender/http.js';
import { XdsControlPlane } from '../xds/control-plane.js';
import { DEFAULT_BUILD_OPTIONS } from '../xds/resources/types.js';
import { LoadReportingServer } from '../lrs/server.js';
import { ProbeCollector } from '../probe/collector.js';
import { startKubernetesSource } from '../sources/kubernetes/index.js';
import { gatewaysProgrammed } from '../xds/programmed.js';
import type { MeasurementSink } from '../model/sink.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { defaultTopologyPath } from './paths.js';
import { untilTerminated } from './signals.js';

/** Typed serve options (from flags/env via SERVE_SPEC, or built directly by tests and the demo). */
export interface ServeOptions {
  readonly topologyPath?: string;
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

export function serveOptionsFrom(o: ReturnType<typeof parseOptions>): ServeOptions {
  const topologyPath = str(o, 'topology');
  return {
    ...(topologyPath ? { topologyPath } : {}),
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
  };
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

async function bindGrpc(server: grpc.Server, addr: ListenAddress): Promise<number> {
  return new Promise((resolveBind, reject) => {
    server.bindAsync(formatListen(addr), grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolveBind(port)));
  });
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

    const admin = new AdminServer({ registry, log, title: 'proxima serve' });
    let sourceReady = false;
    admin.addReadiness('source', () => sourceReady || 'topology not loaded yet');

    let sink: MeasurementSink = store;
    // The Kubernetes source starts before the xDS control plane exists; readiness asks it later.
    const late: { xds?: XdsControlPlane } = {};
    if (options.kubernetes) {
      const source = await startKubernetesSource({
        store,
        log,
        registry,
        ...optional('kubeConfig', options.kubeConfig),
        ...optional('kubeconfigPath', options.kubeconfigPath),
        ...optional('ingressClass', options.ingressClass),
        ...optional('replicaId', options.replicaId),
        isProgrammed: () => (late.xds ? gatewaysProgrammed(late.xds.clients()) : false),
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
      admin.addDebug('source', 'the Kubernetes source: routes translated from Knative Ingresses', () => ({
        kind: 'kubernetes',
        routes: source.routes(),
      }));
    } else {
      const path = options.topologyPath ?? defaultTopologyPath();
      const source = new FileTopologySource({ path, store, log, registry });
      await source.start();
      closers.push(() => source.stop());
      admin.addDebug('source', 'the topology source and its last errors', () => ({
        kind: 'file',
        path: source.path,
        invalid: source.invalid,
        errors: source.errors,
      }));
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
    const xdsServer = new grpc.Server({
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    closers.push(() => shutdownGrpc(xdsServer));
    const xds = new XdsControlPlane({
      store,
      engine,
      log,
      registry,
      buildOptions: { ...DEFAULT_BUILD_OPTIONS, ...optional('extprocAddress', options.extprocAddress) },
    });
    late.xds = xds;
    xds.register(xdsServer);
    closers.push(() => xds.close());
    admin.addReadiness('xds', () => xds.ready() || 'initial xDS snapshot not built yet');
    admin.addDebug('clients', 'connected xDS streams: node, gateway node, subscriptions, versions sent and ACKed, last NACK', () =>
      xds.clients(),
    );
    // LRS (demand) and probe reports (RTT) arrive on the same port as xDS.
    const lrs = new LoadReportingServer({ store, sink, log, registry, ...optional('reportingIntervalMs', options.lrsIntervalMs) });
    lrs.register(xdsServer);
    trafficFlows = () => lrs.flows();
    admin.addDebug('demand', 'learned demand per gateway node (req/s) and observed service time per node, per service', () =>
      lrs.snapshot(),
    );
    const probes = new ProbeCollector({ store, sink, log, registry });
    probes.register(xdsServer);
    closers.push(() => probes.close());
    closers.push(() => lrs.close());
    admin.addDebug('probes', 'connected probe agents and their probe addresses', () => probes.agents());
    const xdsPort = await bindGrpc(xdsServer, options.xdsListen);

    // ext_proc: per-request endpoint picking for gateways that enable the filter.
    const extproc = new ExtProcServer({
      store,
      engine,
      log,
      registry,
      failClosed: options.extprocFailClosed ?? false,
      shedWhenSaturated: options.extprocShed ?? false,
      ...optional('slotTimeoutMs', options.extprocSlotTimeoutMs),
    });
    // channelz bookkeeping costs ~8 % of the server's CPU per ext_proc stream (one stream per request).
    const extprocServer = new grpc.Server({
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.enable_channelz': 0,
    });
    extproc.register(extprocServer);
    closers.push(() => extproc.close());
    closers.push(() => shutdownGrpc(extprocServer));
    const extprocPort = await bindGrpc(extprocServer, options.extprocListen);
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
    });
    closers.push(() => extender.close());
    const extenderAddr = await extender.listen(options.extenderListen);
    admin.addDebug('placements', 'scheduler extender: pods placed by prioritize that are not ready endpoints yet', () =>
      extender.placements(),
    );

    const adminAddr = await admin.listen(options.adminListen);
    closers.push(() => admin.close());

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
  const log = createLogger({ level: str(o, 'log-level'), format: str(o, 'log-format') as 'json' | 'pretty' });
  const handle = await startServe(serveOptionsFrom(o), log);
  process.stderr.write(
    [
      '',
      `proxima serve: policy ${handle.engine.policy.name}, ${handle.store.nodes().length} nodes, ${handle.store.services().length} services`,
      `  xDS (ADS/LRS)   ${handle.addresses.xds}   point a gateway's ADS cluster here (envoy/gateway-bootstrap.yaml, or GRPC_XDS_BOOTSTRAP for gRPC clients)`,
      `  ext_proc        ${handle.addresses.extproc}`,
      `  extender        ${handle.addresses.extender}`,
      `  admin           http://${handle.addresses.admin}/  (/metrics /healthz /readyz /debug/assignments)`,
      '',
    ].join('\n'),
  );
  await untilTerminated(log);
  await handle.close();
  return 0;
}
