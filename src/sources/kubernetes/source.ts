/**
 * The Kubernetes/Knative source: informers for Nodes, Services, EndpointSlices, Knative Revisions,
 * ServerlessServices and KIngresses (plus ProximaMeasurements when replicas share measurements), a full pure re-translation
 * (translate.ts) on every change, coalesced, applied to the ModelStore as a diff, and KIngress status
 * written back through the status subresource once the xDS side says the routes are programmed.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { ModelStore } from '../../model/store.js';
import type { HttpRoute } from '../../model/types.js';
import { createKubernetesMetrics, type KubernetesMetrics } from './metrics.js';
import { MeasurementExchange, type MeasurementOptions } from './replicas.js';
import type { DemandRow, RttRow } from './measurements.js';
import { DEFAULT_INGRESS_CLASS } from './objects.js';
import type { OpenFaasOptions } from './openfaas.js';
import { DEFAULT_LOAD_BALANCERS, desiredStatus, sameStatus, statusPatch, type LoadBalancerAddresses } from './status.js';
import { translateCluster, type ClusterTranslation } from './translate.js';
import { ResourceWatcher } from './watcher.js';

/** The API server could not be reached or refused every list at start-up (a fatal start-up error). */
export class KubernetesUnavailableError extends Error {
  override readonly name = 'KubernetesUnavailableError';
}

export interface KubernetesSourceOptions {
  readonly store: ModelStore;
  readonly log: Logger;
  readonly registry: Registry;
  readonly kubeConfig: KubeConfig;
  /** KIngresses with another `networking.knative.dev/ingress.class` are ignored. */
  readonly ingressClass?: string;
  /** The node this replica runs on (informational: logged and published with measurements). */
  readonly nodeName?: string;
  /** Set when several replicas run: measurements are exchanged through ProximaMeasurement objects. */
  readonly replicaId?: string;
  /**
   * True once every connected gateway ACKed a version containing the route `routeName`
   * (HttpRoute.name, `namespace/ingress#rule`). Without it no ingress is ever reported Ready.
   */
  readonly isProgrammed?: (routeName: string) => boolean;
  /** Gateway Services reported as the KIngress load balancers (Kourier's by default). */
  readonly loadBalancers?: LoadBalancerAddresses;
  /** Endpoint capacity when a Revision's containerConcurrency is 0 or unknown; default: the store's. */
  readonly defaultCapacity?: number;
  /** Also route OpenFaaS functions (functions namespace, gateway Service); plain Services opt in by label. */
  readonly openfaas?: OpenFaasOptions;
  /** Re-translate everything this often even without events (expires measurements, heals drift). */
  readonly resyncIntervalMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** start() rejects when the informers have not synced within this time. */
  readonly syncTimeoutMs?: number;
  readonly measurements?: Partial<MeasurementOptions>;
  readonly nowMs?: () => number;
  readonly rng?: () => number;
}

const KNATIVE_SERVING = { group: 'serving.knative.dev', version: 'v1' } as const;
const KNATIVE_NETWORKING = { group: 'networking.internal.knative.dev', version: 'v1alpha1' } as const;

type Lister = () => Promise<KubernetesListObject<KubernetesObject>>;

export class KubernetesSource {
  private readonly opts: KubernetesSourceOptions;
  private readonly store: ModelStore;
  private readonly log: Logger;
  readonly metrics: KubernetesMetrics;
  private readonly ingressClass: string;
  private readonly nowMs: () => number;
  private readonly custom: CustomObjectsApi;
  private readonly watchers: ResourceWatcher[];
  private readonly byResource = new Map<string, ResourceWatcher>();
  private readonly exchange: MeasurementExchange;
  private ownedNodes = new Set<string>();
  private ownedServices = new Set<string>();
  private lastRoutesJson: string | undefined;
  private last: ClusterTranslation | undefined;
  private scheduled = false;
  private started = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private statusRun: Promise<void> | undefined;
  private statusAgain = false;
  /** Status we last wrote per ingress, keyed with the object's resourceVersion, to skip repeats while the informer lags. */
  private readonly written = new Map<string, string>();

  constructor(opts: KubernetesSourceOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.log = opts.log;
    this.metrics = createKubernetesMetrics(opts.registry);
    this.ingressClass = opts.ingressClass ?? DEFAULT_INGRESS_CLASS;
    this.nowMs = opts.nowMs ?? Date.now;
    const kc = opts.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const lists: [string, string, Lister][] = [
      ['nodes', '/api/v1/nodes', () => core.listNode() as Promise<KubernetesListObject<KubernetesObject>>],
      ['services', '/api/v1/services', () => core.listServiceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>],
      [
        'endpointslices',
        '/apis/discovery.k8s.io/v1/endpointslices',
        () => discovery.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>,
      ],
      [
        'deployments',
        '/apis/apps/v1/deployments',
        () => kc.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>,
      ],
      [
        'revisions',
        '/apis/serving.knative.dev/v1/revisions',
        () => this.custom.listCustomObjectForAllNamespaces({ ...KNATIVE_SERVING, resourcePlural: 'revisions' }),
      ],
      [
        'ingresses',
        '/apis/networking.internal.knative.dev/v1alpha1/ingresses',
        () => this.custom.listCustomObjectForAllNamespaces({ ...KNATIVE_NETWORKING, resourcePlural: 'ingresses' }),
      ],
      [
        'serverlessservices',
        '/apis/networking.internal.knative.dev/v1alpha1/serverlessservices',
        () => this.custom.listCustomObjectForAllNamespaces({ ...KNATIVE_NETWORKING, resourcePlural: 'serverlessservices' }),
      ],
    ];
    this.exchange = new MeasurementExchange({
      store: opts.store,
      log: opts.log,
      metrics: this.metrics,
      custom: this.custom,
      replicaId: opts.replicaId,
      nodeName: opts.nodeName,
      nowMs: this.nowMs,
      options: opts.measurements ?? {},
    });
    if (opts.replicaId !== undefined) lists.push(['measurements', this.exchange.collectionPath, () => this.exchange.list()]);
    const rng = opts.rng ?? Math.random;
    this.watchers = lists.map(
      ([resource, path, list]) =>
        new ResourceWatcher({
          resource,
          kubeConfig: kc,
          path,
          list,
          log: opts.log,
          metrics: this.metrics,
          onChange: () => this.schedule(),
          backoffBaseMs: opts.backoffBaseMs ?? 500,
          backoffMaxMs: opts.backoffMaxMs ?? 30_000,
          rng,
        }),
    );
    for (const w of this.watchers) this.byResource.set(w.resource, w);
  }

  /** Start every informer; resolves once all have listed and the model reflects them. */
  async start(): Promise<void> {
    this.log.info(
      { ingressClass: this.ingressClass, replicaId: this.opts.replicaId, nodeName: this.opts.nodeName },
      'kubernetes source starting',
    );
    for (const w of this.watchers) void w.start().catch(() => undefined); // errors go through the watcher's back-off
    const timeoutMs = this.opts.syncTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const missing = this.watchers.filter((w) => !w.isSynced);
        const reasons = [...new Set(missing.map((w) => w.lastError).filter((e) => e !== undefined))];
        reject(
          new KubernetesUnavailableError(
            `the Kubernetes API did not answer within ${timeoutMs / 1000} s (${missing.map((w) => w.resource).join(', ')} not listed)` +
              (reasons.length ? `: ${reasons.join('; ')}` : ''),
          ),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.watchers.map((w) => w.synced)), timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.started = true;
    this.flush();
    this.exchange.start();
    const resyncMs = this.opts.resyncIntervalMs ?? 300_000;
    this.resyncTimer = setInterval(() => this.schedule(), resyncMs);
    this.resyncTimer.unref();
    this.log.info(
      { nodes: this.ownedNodes.size, services: this.ownedServices.size, routes: this.last?.routes.length ?? 0 },
      'kubernetes source synced',
    );
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.started = false;
    this.exchange.stop();
    await Promise.all(this.watchers.map((w) => w.stop()));
    await this.statusRun;
    await this.exchange.idle();
  }

  /** The last translation (for /debug and tests). */
  get translation(): ClusterTranslation | undefined {
    return this.last;
  }

  /** Routes of the last translation. */
  routes(): readonly HttpRoute[] {
    return this.last?.routes ?? [];
  }

  /**
   * Hand this replica's measurements to the exchange: probe RTT rows and LRS demand. With a
   * replicaId they are published (with hysteresis) and reach the model of every replica through the
   * merge; without one they go straight into the model. Do not also write them to the store.
   */
  publishMeasurements(m: { readonly rtt?: readonly RttRow[]; readonly demand?: readonly DemandRow[] }): void {
    this.exchange.record(m);
    if (this.opts.replicaId === undefined) this.exchange.applyMerged([]);
  }

  /** Probe collector hook: RTT rows measured from node `from`. */
  publishRtt(from: string, rows: ReadonlyArray<{ to: string; rttMs: number; reachable: boolean }>, atMs = this.nowMs()): void {
    this.publishMeasurements({ rtt: rows.map((r) => ({ from, to: r.to, rttMs: r.rttMs, reachable: r.reachable, atMs })) });
  }

  /** LRS hook: smoothed demand (requests/s) of `service` per gateway node. */
  publishDemand(service: string, byGateway: ReadonlyMap<string, number>, atMs = this.nowMs()): void {
    this.publishMeasurements({ demand: [...byGateway].map(([gateway, rps]) => ({ gateway, service, rps, atMs })) });
  }

  /** Write a publish now if the hysteresis allows (tests; normally automatic). */
  flushMeasurements(): Promise<void> {
    return this.exchange.maybePublish(true);
  }

  /** Re-evaluate KIngress statuses (call on xDS ACKs). Resolves when the writes are done. */
  refreshStatuses(): Promise<void> {
    if (this.statusRun) {
      this.statusAgain = true;
      return this.statusRun;
    }
    this.statusRun = (async () => {
      try {
        do {
          this.statusAgain = false;
          await this.writeStatuses();
        } while (this.statusAgain && this.started);
      } finally {
        this.statusRun = undefined;
      }
    })();
    return this.statusRun;
  }

  private schedule(): void {
    if (this.scheduled || !this.started) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Translate the caches and apply the difference to the model. */
  flush(): void {
    this.scheduled = false;
    const endTimer = this.metrics.translateSeconds.startTimer();
    const w = (r: string): readonly KubernetesObject[] => this.byResource.get(r)?.objects() ?? [];
    const t = translateCluster(
      {
        nodes: w('nodes'),
        services: w('services'),
        endpointSlices: w('endpointslices'),
        revisions: w('revisions'),
        ingresses: w('ingresses'),
        serverlessServices: w('serverlessservices'),
        deployments: w('deployments'),
      },
      {
        ingressClass: this.ingressClass,
        defaultCapacity: this.opts.defaultCapacity ?? this.store.defaults.capacity,
        ...(this.opts.openfaas ? { openfaas: this.opts.openfaas } : {}),
        ...(this.last ? { previous: this.last } : {}),
      },
    );
    endTimer();
    const nodes = new Set(t.nodes.map((n) => n.name));
    const services = new Set(t.services.map((s) => s.name));
    for (const n of t.nodes) this.store.upsertNode(n);
    for (const s of t.services) this.store.upsertService(s);
    for (const s of this.ownedServices) if (!services.has(s)) this.store.removeService(s);
    for (const n of this.ownedNodes) if (!nodes.has(n)) this.store.removeNode(n);
    this.ownedNodes = nodes;
    this.ownedServices = services;
    const routesJson = JSON.stringify(t.routes);
    const routesChanged = routesJson !== this.lastRoutesJson;
    if (routesChanged) {
      this.lastRoutesJson = routesJson;
      this.store.setRoutes(t.routes);
    }
    if (this.byResource.has('measurements')) this.exchange.applyMerged(w('measurements'));
    this.reportMetrics(t);
    for (const i of t.ingresses) {
      const prev = this.last?.ingresses.find((p) => p.key === i.key);
      if (i.outcome.kind !== 'ok' && (!prev || prev.outcome.kind !== i.outcome.kind)) {
        this.log.warn({ ingress: i.key, outcome: i.outcome }, 'KIngress not translated');
      }
    }
    this.last = t;
    // New routes reach the gateways on the xDS side's next flush (setImmediate, queued by setRoutes
    // above); judged now, the gateways' ACK of the previous routes would mark a new ingress Ready.
    if (routesChanged) setImmediate(() => void this.refreshStatuses());
    else void this.refreshStatuses();
  }

  private reportMetrics(t: ClusterTranslation): void {
    const count = (k: string) => t.ingresses.filter((i) => i.outcome.kind === k).length;
    for (const k of ['ok', 'pending', 'unsupported', 'conflict']) this.metrics.ingresses.set({ outcome: k }, count(k));
    this.metrics.ingresses.set({ outcome: 'ignored' }, t.ignoredIngresses);
    this.metrics.skippedEndpoints.set({ reason: 'unknown_node' }, t.endpoints.unknownNode);
    this.metrics.skippedEndpoints.set({ reason: 'missing_node' }, t.endpoints.missingNode);
    this.metrics.invalidObjects.set(t.invalidObjects);
    this.metrics.dataPath.reset();
    for (const d of t.dataPaths)
      this.metrics.dataPath.set({ service: d.service, sks_mode: d.sksMode, choice: d.choice, path: d.path }, d.readyPods);
    for (const d of t.dataPaths) {
      const prev = this.last?.dataPaths.find((p) => p.service === d.service);
      if (d.warning && prev?.warning !== d.warning) this.log.warn({ service: d.service, revision: d.revision }, d.warning);
      if (prev && (prev.path !== d.path || prev.sksMode !== d.sksMode))
        this.log.info(
          { service: d.service, sksMode: d.sksMode, choice: d.choice, path: d.path, readyPods: d.readyPods },
          'revision data path changed',
        );
    }
  }

  private async writeStatuses(): Promise<void> {
    const t = this.last;
    const ingresses = this.byResource.get('ingresses');
    if (!t || !ingresses) return;
    const isProgrammed = this.opts.isProgrammed ?? (() => false);
    const live = new Set(t.ingresses.map((i) => i.key));
    for (const k of this.written.keys()) if (!live.has(k)) this.written.delete(k);
    for (const i of t.ingresses) {
      if (!this.started) return;
      const obj = ingresses.get(i.name, i.namespace);
      if (!obj) continue;
      const programmed = i.outcome.kind === 'ok' && i.routes.every((r) => isProgrammed(r.name));
      const current = (obj as { status?: unknown }).status;
      const desired = desiredStatus(i, programmed, this.opts.loadBalancers ?? DEFAULT_LOAD_BALANCERS, current, this.nowMs(), t.dataPaths);
      if (sameStatus(current, desired)) continue;
      const sig = `${obj.metadata?.resourceVersion ?? ''}|${JSON.stringify({ ...desired, conditions: desired.conditions.map((c) => ({ ...c, lastTransitionTime: '' })) })}`;
      if (this.written.get(i.key) === sig) continue;
      try {
        await this.custom.patchNamespacedCustomObjectStatus(
          { ...KNATIVE_NETWORKING, namespace: i.namespace, plural: 'ingresses', name: i.name, body: statusPatch(desired) },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        this.written.set(i.key, sig);
        this.metrics.statusWrites.inc({ outcome: 'ok' });
      } catch (err) {
        this.metrics.statusWrites.inc({ outcome: 'error' });
        this.log.warn(
          { ingress: i.key, err: String((err as Error)?.message ?? err) },
          'KIngress status write failed; will retry on the next refresh',
        );
      }
    }
  }
}
