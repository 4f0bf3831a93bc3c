import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { formatListen } from '../../config.js';
import type { Logger } from '../../log.js';
import { ModelStore } from '../../model/store.js';
import { TlsSecretStore } from '../../model/tls-secrets.js';
import { AssignmentEngine } from '../../engine/assignments.js';
import { policyByName } from '../../policy/index.js';
import { AdminServer } from '../../admin/server.js';
import { TokenFile } from '../../admin/token.js';
import { assignmentsView, topologyView } from '../../admin/debug-views.js';
import { rttMatrixSvg, uiPage } from '../../admin/ui.js';
import { DEFAULT_SERVE_LIMITS, type ServeLimits } from '../../limits.js';
import { optional } from '../../util/optional.js';
import type { ServeHandle, ServeOptions } from './types.js';
import { ShutdownStack } from './shutdown.js';
import { listenOrExplain, ServeListeners } from './listeners.js';
import { startServeSource } from './source.js';
import { programmedBy, startGrpcPort } from './grpc-port.js';
import { startExtprocPort } from './extproc.js';
import { startExtenderPort } from './extender.js';

/**
 * Start every part of `proxima serve` and return once all listeners are bound. The order matters:
 * the admin port first (/healthz answers from the first second, /readyz says what is pending), then
 * the source until it has synced, then the engine, and only then the xDS side — so its first
 * snapshot holds the synced model and no gateway ever receives a config built from half of it.
 */
export async function startServe(options: ServeOptions, log: Logger, registry = new Registry()): Promise<ServeHandle> {
  const shutdown = new ShutdownStack(log);
  const close = () => shutdown.close();
  try {
    collectDefaultMetrics({ register: registry, prefix: 'proxima_process_' });
    const limits: ServeLimits = { ...DEFAULT_SERVE_LIMITS, ...options.limits };
    const listeners = new ServeListeners(options, limits, log, registry, shutdown);
    const store = new ModelStore();
    const engine = assignmentEngine(options, store, registry);

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
    shutdown.push(() => admin.close());

    const tlsSecrets = new TlsSecretStore();
    const source = await startServeSource(options, { store, log, registry, admin, tlsSecrets, shutdown });
    sourceReady = true;
    engine.start();
    shutdown.push(() => engine.stop());
    const timer = setInterval(() => engine.invalidateAll(), options.recomputeIntervalMs);
    timer.unref();
    shutdown.push(() => clearInterval(timer));
    admin.addDebug('assignments', 'per service and gateway node: localities, priorities, weights and why (?service=&gateway=)', (q) =>
      assignmentsView(store, engine, Date.now(), q),
    );
    admin.addDebug('topology', 'nodes, the effective RTT matrix and where each value comes from', () => topologyView(store, Date.now()));
    admin.addPage('/ui', uiPage);
    admin.addPage('/ui/rtt.svg', () => rttMatrixSvg(store, Date.now()), 'image/svg+xml');

    const parts = { store, engine, log, registry, admin, listeners, shutdown };
    const grpcPort = await startGrpcPort(options, limits, { ...parts, sink: source.sink, tlsSecrets });
    source.judgeProgrammedBy(programmedBy(grpcPort.xds));
    const extprocPort = await startExtprocPort(options, limits, { ...parts, lrs: grpcPort.lrs });
    const extenderPort = await startExtenderPort(options, limits, { ...parts, lrs: grpcPort.lrs });

    const addresses = {
      xds: formatListen({ host: options.xdsListen.host, port: grpcPort.port }),
      extproc: formatListen({ host: options.extprocListen.host, port: extprocPort }),
      extender: formatListen({ host: options.extenderListen.host, port: extenderPort }),
      admin: formatListen({ host: adminAddr.host, port: adminAddr.port }),
    };
    log.info({ addresses, policy: engine.policy.name }, 'proxima serve is up');
    return { addresses, store, engine, registry, admin, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The policy engine with its recompute counter and duration histogram. */
function assignmentEngine(options: ServeOptions, store: ModelStore, registry: Registry): AssignmentEngine {
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
  return new AssignmentEngine({
    store,
    policy: policyByName(options.policy),
    onRecompute: (_n, seconds) => {
      recomputes.inc();
      recomputeSeconds.observe(seconds);
    },
  });
}
