/**
 * The Kubernetes/Knative source: informers for Nodes, Services, EndpointSlices, Knative Revisions,
 * ServerlessServices and KIngresses (plus ProximaMeasurements when replicas share measurements), a full pure re-translation
 * (translate.ts) on every change, coalesced, applied to the ModelStore as a diff, and KIngress status
 * written back through the status subresource once the xDS side says the routes are programmed.
 */
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { ModelStore } from '../../model/store.js';
import type { GatewayConfig, HttpRoute } from '../../model/types.js';
import { createKubernetesMetrics, reportTranslation, type KubernetesMetrics } from './metrics.js';
import { resourceLists } from './resource-lists.js';
import { leaseWatcher } from './lease-watch.js';
import { MeasurementExchange } from './replicas.js';
import type { DemandRow, RttRow } from './measurements.js';
import { DEFAULT_INGRESS_CLASS } from './objects.js';
import { loadBalancersIn } from './status.js';
import { IngressStatusWriter } from './status-writer.js';
import { ClusterGrace } from './cluster-grace.js';
import { gatewayPodIps, IngressProber, probeTargets } from './readiness-probe.js';
import type { IngressTranslation } from './ingress.js';
import { LeaderElector, leaseClient } from './leader.js';
import { translateCluster, type ClusterTranslation } from './translate.js';
import { ResourceWatcher } from './watcher.js';
import { CONFIG_KOURIER, CONFIG_NETWORK, configMapData, gatewayConfigFrom } from './gateway-config.js';
import { kourierOptions, type KourierOptions } from './kourier-options.js';
import { KubernetesUnavailableError, type KubernetesSourceOptions } from './source-options.js';

export { KubernetesUnavailableError, type KubernetesSourceOptions } from './source-options.js';

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
  private readonly kourier: KourierOptions;
  private lastGatewayJson: string | undefined;
  private lastSecretErrors = '';
  private last: ClusterTranslation | undefined;
  private scheduled = false;
  private started = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private statusRun: Promise<void> | undefined;
  private statusAgain = false;
  private readonly statusWriter: IngressStatusWriter;
  private programmed: (routeName: string) => boolean;
  private readonly prober: IngressProber | undefined;
  /** Undefined: a single replica, always allowed to write. */
  readonly leader: LeaderElector | undefined;
  /** Services nothing routes to any more, kept until their grace period ends (Kourier's cluster cache). */
  private readonly grace: ClusterGrace;
  private graceTimer: NodeJS.Timeout | undefined;
  /** Feeds the elector every change of its Lease (not a model input: no re-translation). */
  private readonly leaseWatcher: ResourceWatcher | undefined;

  constructor(opts: KubernetesSourceOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.log = opts.log;
    this.metrics = createKubernetesMetrics(opts.registry);
    this.ingressClass = opts.ingressClass ?? DEFAULT_INGRESS_CLASS;
    this.nowMs = opts.nowMs ?? Date.now;
    this.programmed = opts.isProgrammed ?? (() => false);
    const kc = opts.kubeConfig;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.kourier = kourierOptions(opts.kourier);
    this.grace = new ClusterGrace(this.kourier.clusterGraceMs);
    const lists = resourceLists(kc, this.custom, this.kourier.systemNamespace, this.kourier.secretLabelSelector);
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
    const election = this.kourier.leaderElection;
    this.leader = election
      ? new LeaderElector({
          ...election,
          client: leaseClient(this.custom),
          log: opts.log,
          nowMs: this.nowMs,
          onChange: (leading) => {
            this.metrics.leader.set(leading ? 1 : 0);
            if (leading) void this.refreshStatuses();
          },
        })
      : undefined;
    this.metrics.leader.set(this.leader ? 0 : 1);
    this.leaseWatcher =
      election && this.leader
        ? leaseWatcher({
            kubeConfig: kc,
            custom: this.custom,
            lease: election.lease,
            elector: this.leader,
            log: opts.log,
            metrics: this.metrics,
            backoffBaseMs: opts.backoffBaseMs ?? 500,
            backoffMaxMs: opts.backoffMaxMs ?? 30_000,
            rng,
          })
        : undefined;
    const probe = this.kourier.readinessProbe;
    this.prober = probe
      ? new IngressProber({
          log: opts.log,
          timeoutMs: probe.timeoutMs,
          retryMs: probe.retryMs,
          nowMs: this.nowMs,
          onReady: () => void this.refreshStatuses(),
        })
      : undefined;
    this.statusWriter = new IngressStatusWriter({
      custom: this.custom,
      log: opts.log,
      metrics: this.metrics,
      loadBalancers: opts.loadBalancers ?? loadBalancersIn(this.kourier.gatewayNamespace),
      isLeader: () => this.leader?.isLeader() ?? true,
      isProgrammed: (routeName) => this.programmed(routeName),
      ...(this.prober ? { probed: (i: IngressTranslation) => this.probed(i) } : {}),
      nowMs: this.nowMs,
    });
  }

  /** Knative's readiness probe of one ingress against the current gateway pods. */
  private probed(i: IngressTranslation): boolean {
    const ports = this.kourier.readinessProbe!.ports;
    const pods = gatewayPodIps(this.byResource.get('endpointslices')?.objects() ?? [], this.kourier.gatewayNamespace);
    return this.prober!.isReady(i.key, i.probeHash, probeTargets(i, pods, ports));
  }

  /** True when this replica may write KIngress status and finalizers. */
  isLeader(): boolean {
    return this.leader?.isLeader() ?? true;
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
    this.leader?.start();
    // The elector polls every retry period anyway; the watch only makes it prompt.
    void this.leaseWatcher?.start().catch(() => undefined);
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

  /** Stop; `releaseLease: false` leaves the Lease to expire (as a crashed replica would). */
  async stop(opts: { releaseLease?: boolean } = {}): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.started = false;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    await this.leaseWatcher?.stop();
    await this.leader?.stop({ release: opts.releaseLease ?? true });
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

  /**
   * Judge "programmed" by the data plane from now on: `proxima serve` syncs the source before it
   * builds the xDS side (so that no gateway ever sees a config from half-synced informers), and
   * until then no route is programmed.
   */
  judgeProgrammedBy(isProgrammed: (routeName: string) => boolean): void {
    this.programmed = isProgrammed;
    void this.refreshStatuses();
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
    const gateway = this.applyGatewayConfig(w('configmaps'));
    const t = translateCluster(
      {
        nodes: w('nodes'),
        services: w('services'),
        endpointSlices: w('endpointslices'),
        revisions: w('revisions'),
        ingresses: w('ingresses'),
        serverlessServices: w('serverlessservices'),
        deployments: w('deployments'),
        secrets: w('secrets'),
        configMaps: w('configmaps'),
      },
      {
        ingressClass: this.ingressClass,
        defaultCapacity: this.opts.defaultCapacity ?? this.store.defaults.capacity,
        ...(this.opts.openfaas ? { openfaas: this.opts.openfaas } : {}),
        ...(this.last ? { previous: this.last } : {}),
        gatewaySecrets: [gateway.defaultCertificate, gateway.clusterCertificate].filter((x): x is string => x !== undefined),
        ...(gateway.systemInternalTls ? { systemInternalTls: { systemNamespace: this.kourier.systemNamespace } } : {}),
      },
    );
    endTimer();
    // Certificates first: the xDS side builds listeners and their SDS Secrets on one tick.
    this.kourier.tlsSecrets?.replace(t.tlsSecrets);
    const secretErrors = t.secretErrors.join('; ');
    if (secretErrors !== this.lastSecretErrors && secretErrors) this.log.warn({ secrets: t.secretErrors }, 'TLS Secrets cannot be served');
    this.lastSecretErrors = secretErrors;
    const nodes = new Set(t.nodes.map((n) => n.name));
    const services = new Set(t.services.map((s) => s.name));
    for (const n of t.nodes) this.store.upsertNode(n);
    for (const s of t.services) this.store.upsertService(s);
    const now = this.nowMs();
    const { remove, keep, nextCheckMs } = this.grace.update(this.ownedServices, services, now);
    for (const s of remove) this.store.removeService(s);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = nextCheckMs !== undefined && this.started ? setTimeout(() => this.schedule(), nextCheckMs - now + 1) : undefined;
    this.graceTimer?.unref();
    for (const n of this.ownedNodes) if (!nodes.has(n)) this.store.removeNode(n);
    this.ownedNodes = nodes;
    this.ownedServices = keep;
    const routesJson = JSON.stringify(t.routes);
    const routesChanged = routesJson !== this.lastRoutesJson;
    if (routesChanged) {
      this.lastRoutesJson = routesJson;
      this.store.setRoutes(t.routes);
    }
    if (this.byResource.has('measurements')) this.exchange.applyMerged(w('measurements'));
    reportTranslation(this.metrics, this.log, t, this.last);
    for (const i of t.ingresses) {
      const prev = this.last?.ingresses.find((p) => p.key === i.key);
      if (i.outcome.kind !== 'ok' && (!prev || prev.outcome.kind !== i.outcome.kind)) {
        this.log.warn({ ingress: i.key, outcome: i.outcome }, 'KIngress not translated');
      }
    }
    this.last = t;
    // New routes reach the gateways on the xDS side's next reconcile tick; judged now, the gateways'
    // ACK of the previous routes would mark a new ingress Ready (isProgrammed also waits for settled()).
    if (routesChanged) setImmediate(() => void this.refreshStatuses());
    else void this.refreshStatuses();
  }

  /** config-kourier / config-network → the model's gateway settings; unsupported keys logged once per change. */
  private applyGatewayConfig(configMaps: readonly KubernetesObject[]): GatewayConfig {
    const data = (name: string) => configMapData(configMaps.find((o) => o.metadata?.name === name));
    const { config, issues } = gatewayConfigFrom({
      kourier: data(CONFIG_KOURIER),
      network: data(CONFIG_NETWORK),
      gatewayNamespace: this.kourier.gatewayNamespace,
      ...(this.kourier.envCertsSecret ? { envCertsSecret: this.kourier.envCertsSecret } : {}),
      ...(this.kourier.envExtAuthz ? { envExtAuthz: this.kourier.envExtAuthz } : {}),
      ...(this.kourier.minimumTlsVersion ? { minimumTlsVersion: this.kourier.minimumTlsVersion } : {}),
    });
    const json = JSON.stringify([config, issues]);
    if (json !== this.lastGatewayJson) {
      this.lastGatewayJson = json;
      for (const i of issues) this.log.warn({ configMap: i.configMap, key: i.key }, i.message);
      this.configIssues = issues.map((i) => `${i.configMap} ${i.message}`);
      this.store.setGatewayConfig(config);
    }
    return config;
  }

  /** Unsupported or invalid config keys, reported on every KIngress (Info condition). */
  private configIssues: readonly string[] = [];

  private async writeStatuses(): Promise<void> {
    const t = this.last;
    const ingresses = this.byResource.get('ingresses');
    if (!t || !ingresses) return;
    await this.statusWriter.write(
      t.ingresses,
      t.deleting as KubernetesObject[],
      (ns, name) => ingresses.get(name, ns),
      t.dataPaths,
      this.configIssues,
      () => this.started,
    );
  }
}
