import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { ModelStore } from '../../model/store.js';
import type { MeasurementSink } from '../../model/sink.js';
import type { AdminServer } from '../../admin/server.js';
import { FileTopologySource } from '../../sources/file.js';
import { formatTopologyError } from '../../model/topology.js';
import type { TlsSecretStore } from '../../model/tls-secrets.js';
import type { StartKubernetesSourceOptions } from '../../sources/kubernetes/index.js';
import { optional } from '../../util/optional.js';
import { defaultTopologyPath } from '../paths.js';
import { FatalError } from '../errors.js';
import type { ServeOptions } from './types.js';
import type { ShutdownStack } from './shutdown.js';

/** The model's source as the rest of `proxima serve` sees it, once it has synced. */
export interface ServeSource {
  /** Where measurements go: the store, or (several replicas) the shared ProximaMeasurement objects. */
  readonly sink: MeasurementSink;
  /** From now on the data plane says which routes are programmed (KIngress Ready); a file source has no statuses. */
  judgeProgrammedBy(isProgrammed: (routeName: string) => boolean): void;
}

export interface ServeSourceDeps {
  readonly store: ModelStore;
  readonly log: Logger;
  readonly registry: Registry;
  readonly admin: AdminServer;
  /** Certificates the Kubernetes source finds for the gateways; the xDS side serves them over SDS. */
  readonly tlsSecrets: TlsSecretStore;
  readonly shutdown: ShutdownStack;
}

/** Start the Kubernetes or the file source, wait until it has synced, and show it under /debug/source. */
export function startServeSource(options: ServeOptions, deps: ServeSourceDeps): Promise<ServeSource> {
  return options.kubernetes ? startKubernetesServeSource(options, deps) : startFileServeSource(options, deps);
}

async function startKubernetesServeSource(options: ServeOptions, deps: ServeSourceDeps): Promise<ServeSource> {
  const { store, log, registry, admin, shutdown } = deps;
  const source = await startKubernetes({
    store,
    log,
    registry,
    ...optional('kubeConfig', options.kubeConfig),
    ...optional('kubeconfigPath', options.kubeconfigPath),
    ...optional('ingressClass', options.ingressClass),
    ...optional('replicaId', options.replicaId),
    ...optional('openfaas', options.openfaas),
    kourier: { ...options.kourier, tlsSecrets: deps.tlsSecrets },
  });
  shutdown.push(() => source.stop());
  const statusTimer = setInterval(
    () => void source.refreshStatuses().catch((err: unknown) => log.warn({ err }, 'KIngress status refresh failed')),
    1000,
  );
  statusTimer.unref();
  shutdown.push(() => clearInterval(statusTimer));
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
  const sink: MeasurementSink = options.replicaId
    ? {
        setMeasuredRtt: (from, rows, atMs) => source.publishRtt(from, rows, atMs),
        setDemand: (service, byGateway) => source.publishDemand(service, byGateway),
      }
    : store;
  return { sink, judgeProgrammedBy: (isProgrammed) => source.judgeProgrammedBy(isProgrammed) };
}

/**
 * client-node takes a second or more to load, so it is imported only here, after the admin port is
 * up; an API server that never answers becomes one fatal line.
 */
async function startKubernetes(opts: StartKubernetesSourceOptions) {
  const { KubernetesUnavailableError, startKubernetesSource } = await import('../../sources/kubernetes/index.js');
  try {
    return await startKubernetesSource(opts);
  } catch (err) {
    if (err instanceof KubernetesUnavailableError)
      throw new FatalError(`--kubernetes: ${err.message}; check --kubeconfig and that the API server is reachable`);
    throw err;
  }
}

async function startFileServeSource(options: ServeOptions, deps: ServeSourceDeps): Promise<ServeSource> {
  const { store, log, registry, admin, shutdown } = deps;
  const path = options.topologyPath ?? defaultTopologyPath();
  const source = new FileTopologySource({ path, store, log, registry, ...optional('maxBytes', options.topologyMaxBytes) });
  await source.start();
  shutdown.push(() => source.stop());
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
  return { sink: store, judgeProgrammedBy: () => {} };
}
