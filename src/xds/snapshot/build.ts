import type { ModelStore } from '../../model/store.js';
import type { TlsMaterial, TlsSecretStore } from '../../model/tls-secrets.js';
import type { Service } from '../../model/types.js';
import type { GatewayAssignment } from '../../policy/types.js';
import { buildCluster } from '../resources/clusters.js';
import { buildGatewayConfigClusters } from '../resources/gateway-clusters.js';
import { withPickedRoute, type ExtprocAddress } from '../resources/extproc.js';
import { buildSdsSecret } from '../resources/secrets.js';
import { referencedSecrets } from '../resources/tls.js';
import { TypeUrl, type BuildOptions, type ProtoResource, type ResourceBuilders } from '../resources/types.js';
import { Encoder, reuseIfSame } from './encode.js';
import { BuiltServiceEndpoints } from './endpoints.js';
import { resourceSet, snapshotVersion, type CachedResource, type ResourceSet, type ServiceEndpoints, type Snapshot } from './snapshot.js';
import { extprocBase, extprocClusters, VariantMemo, type ExtprocBase, type PickingGate } from './variants.js';
import { nodesSkippingPicker, podsToAskAbout } from '../../extproc/picking-gate.js';

/** Everything a snapshot is a function of. The model is read during the call only. */
export interface SnapshotInput {
  readonly store: ModelStore;
  /** The engine's assignment rows of one service (gateway node → assignment). */
  assignments(service: string): ReadonlyMap<string, GatewayAssignment> | undefined;
  /** The key gateways on nodes the model does not know read (the engine's `even` row). */
  readonly unknownKey: string;
  readonly builders: ResourceBuilders;
  readonly options: BuildOptions;
  readonly extprocAddress: ExtprocAddress;
  /**
   * Whether ext_proc gateways skip the picker where their EDS weights keep every request on their own
   * node (the policy plans for load: extproc/picking-gate.ts). Read at each build.
   */
  readonly pickingSkippable?: () => boolean;
  /** The clock pod signals are read at (their freshness), for the picking gate. */
  readonly nowMs?: () => number;
  /** Certificates for SDS: only those the gateway listeners name are served (never inlined in LDS). */
  readonly tlsSecrets?: TlsSecretStore;
}

/** What the next build may reuse; keyed by the inputs each part is a function of. */
interface Memo {
  readonly clusters: ReadonlyMap<string, { readonly service: Service; readonly cached: CachedResource | undefined }>;
  readonly routesSignature: string;
  readonly nodesSignature: string;
  /** Gateway key → slot in every service's endpoints (a function of the nodes alone). */
  readonly keyIndex: ReadonlyMap<string, number>;
  readonly endpoints: ReadonlyMap<
    string,
    { readonly service: Service | undefined; readonly assignments: unknown; readonly value: BuiltServiceEndpoints }
  >;
  readonly extproc: ExtprocBase;
  readonly variants: VariantMemo;
  readonly secrets: ReadonlyMap<string, { readonly pair: TlsMaterial; readonly cached: CachedResource | undefined }>;
  /** The Secret names the listeners reference: a function of the routes signature alone. */
  readonly secretNames: readonly string[];
  /** Clusters of the gateway config (otel-collector): a function of the routes signature alone. */
  readonly configClusters: ReadonlyMap<string, CachedResource>;
}

const memos = new WeakMap<Snapshot, Memo>();

/**
 * Per gateway node, the services whose picker it skips (`nodesSkippingPicker`: its row keeps it local,
 * the pods there look well by their own signals, and no gateway that asks the picker can be sent
 * there; none when the policy does not plan for load), and that gate's inputs beyond the rows, as
 * text for the snapshot version (a row change is an EDS change already). The rows are this build's: a
 * variant computed later reads them, not the engine's newer ones.
 */
function pickingGate(input: SnapshotInput, services: readonly Service[]): { gate: PickingGate; signature: string } {
  if (!input.pickingSkippable?.()) return { gate: () => [], signature: '' };
  const now = (input.nowMs ?? Date.now)();
  const rows = services.map((s) => [s.name, input.assignments(s.name)] as const);
  const unwell = new Map<string, ReadonlySet<string>>();
  const lines = ['skippable'];
  for (const s of services) {
    const nodes = podsToAskAbout(input.store.podSignalsOf(s.name, now));
    if (nodes.length === 0) continue;
    unwell.set(s.name, new Set(nodes));
    lines.push(`${s.name}\0${nodes.join('\0')}`);
  }
  // Indexed by gateway node at the first variant that asks (never when no gateway opted in), from this
  // build's rows: each variant then reads its list instead of scanning every service.
  let byNode: Map<string, string[]> | undefined;
  const gate: PickingGate = (gatewayNode) => {
    if (!byNode) {
      byNode = new Map();
      for (const [name, byGateway] of rows) {
        if (!byGateway) continue;
        for (const node of nodesSkippingPicker(byGateway, unwell.get(name), input.unknownKey)) {
          const list = byNode.get(node);
          if (list) list.push(name);
          else byNode.set(node, [name]);
        }
      }
    }
    return byNode.get(gatewayNode) ?? [];
  };
  return { gate, signature: lines.join('\n') };
}

function nodesSignature(store: ModelStore): string {
  return JSON.stringify(store.nodes().map((n) => [n.name, n.zone, n.region, n.ready]));
}

/**
 * The one way to make a snapshot: a pure function of (model, assignments, previous snapshot). Every
 * part whose inputs did not change is taken from `previous` by identity, bytes included; a changed
 * part is re-encoded and, when its content is still equal, the previous object is kept. Equal
 * inputs give byte-identical snapshots with equal versions (on every replica).
 */
export function buildSnapshot(input: SnapshotInput, previous?: Snapshot): Snapshot {
  const prev = previous ? memos.get(previous) : undefined;
  const encoder = new Encoder();
  const { store, options } = input;
  const services = store.services();

  // Clusters (CDS): one per service, rebuilt when the service object changed.
  const clusterMemo = new Map<string, { service: Service; cached: CachedResource | undefined }>();
  const clusters = new Map<string, CachedResource>();
  for (const s of services) {
    const before = prev?.clusters.get(s.name);
    const cached = before?.service === s ? before.cached : encoder.encode(buildCluster(s, options), before?.cached);
    clusterMemo.set(s.name, { service: s, cached });
    if (cached) clusters.set(s.name, cached);
  }

  // Listeners and route configurations (LDS, RDS): rebuilt when the routes differ.
  // The gateway config (TLS, redirects, timeouts from config-kourier/config-network) shapes listeners and routes too.
  const routesSig = JSON.stringify([store.routes(), store.gatewayConfig()]);
  const previousShared = previous?.shared;
  let listenerSet: ResourceSet;
  let routeSet: ResourceSet;
  let extproc: ExtprocBase;
  let configClusters: ReadonlyMap<string, CachedResource>;
  if (prev && previousShared && prev.routesSignature === routesSig) {
    listenerSet = previousShared.get(TypeUrl.Listener)!;
    routeSet = previousShared.get(TypeUrl.RouteConfiguration)!;
    extproc = prev.extproc;
    configClusters = prev.configClusters;
  } else {
    const made = new Map<string, CachedResource>();
    for (const r of buildGatewayConfigClusters(store.gatewayConfig())) {
      const c = encoder.encode(r, prev?.configClusters.get(r.name));
      if (c) made.set(r.name, c);
    }
    configClusters = made;
    const shared = input.builders.buildShared(store, options);
    const old = (t: string, name: string): CachedResource | undefined => previousShared?.get(t)?.byName.get(name);
    const encodeAll = (list: readonly ProtoResource[], into: Map<string, CachedResource>): void => {
      for (const r of list) {
        const c = encoder.encode(r, old(r.typeUrl, r.name));
        if (c) into.set(r.name, c);
      }
    };
    const listeners = new Map<string, CachedResource>();
    encodeAll([...shared.listeners, ...shared.apiListeners], listeners);
    const routes = new Map<string, CachedResource>();
    encodeAll(shared.routes, routes);
    listenerSet = resourceSet(listeners, new Set(shared.listeners.map((l) => l.name)));
    routeSet = resourceSet(routes);
    const gatewayRouteNames = new Set(shared.listeners.flatMap((l) => listeners.get(l.name)?.refs ?? []));
    const pickedRoutes = shared.routes.filter((r) => gatewayRouteNames.has(r.name)).map(withPickedRoute);
    const encodedPicked = new Map<string, CachedResource>();
    for (const r of pickedRoutes) {
      const c = encoder.encode(r, prev?.extproc.routes.get(r.name));
      if (c) encodedPicked.set(r.name, c);
    }
    extproc = extprocBase({
      gatewayListeners: shared.listeners,
      pickedRoutes,
      routes: encodedPicked,
      clusters: prev?.extproc.clusters ?? extprocClusters(input.extprocAddress, encoder),
    });
  }
  const picking = pickingGate(input, services);
  const variants = new VariantMemo(extproc, encoder, picking.gate, prev?.variants);

  // Endpoints (EDS): per service, rebuilt when the service, its assignments or the nodes changed.
  const nodesSig = nodesSignature(store);
  const sameNodes = prev?.nodesSignature === nodesSig;
  const keyIndex =
    sameNodes && prev ? prev.keyIndex : new Map([...new Set([...store.nodeNames(), input.unknownKey])].map((k, i) => [k, i]));
  const endpointMemo = new Map<string, { service: Service | undefined; assignments: unknown; value: BuiltServiceEndpoints }>();
  const endpoints = new Map<string, ServiceEndpoints>();
  for (const s of services) {
    const assignments = input.assignments(s.name);
    const before = prev?.endpoints.get(s.name);
    let value = before?.value;
    if (!before || !sameNodes || before.service !== s || before.assignments !== assignments) {
      value = new BuiltServiceEndpoints(
        {
          service: s.name,
          assignments,
          unknownKey: input.unknownKey,
          build: (a) => input.builders.buildEndpoints(store, s.name, a, options),
          previous: before && sameNodes && before.service === s ? before.value.bySignature : undefined,
          keyIndex,
        },
        encoder,
      );
    }
    endpointMemo.set(s.name, { service: s, assignments, value: value! });
    endpoints.set(s.name, value!);
  }

  // Secrets (SDS): the certificates the listeners name and the CA bundles the clusters name,
  // re-encoded only when the material changed.
  const secretMemo = new Map<string, { pair: TlsMaterial; cached: CachedResource | undefined }>();
  const secrets = new Map<string, CachedResource>();
  const secretNames =
    prev && prev.routesSignature === routesSig ? prev.secretNames : referencedSecrets(store.routes(), store.gatewayConfig());
  const clusterSecretNames = new Set<string>();
  for (const s of services) if (s.upstreamTls) clusterSecretNames.add(s.upstreamTls.trustedCaSecret);
  for (const name of clusterSecretNames.size ? [...new Set([...secretNames, ...clusterSecretNames])] : secretNames) {
    const pair = input.tlsSecrets?.get(name);
    if (!pair) continue;
    const before = prev?.secrets.get(name);
    const cached = before?.pair === pair ? before.cached : encoder.encode(buildSdsSecret(pair), before?.cached);
    secretMemo.set(name, { pair, cached });
    if (cached) secrets.set(name, cached);
  }
  const previousSecrets = previousShared?.get(TypeUrl.Secret);
  const secretByName = reuseIfSame(secrets, previousSecrets?.byName);

  for (const [name, c] of configClusters) clusters.set(name, c);
  const previousClusters = previousShared?.get(TypeUrl.Cluster);
  const clusterByName = reuseIfSame(clusters, previousClusters?.byName);
  const shared = new Map<string, ResourceSet>([
    [TypeUrl.Cluster, previousClusters && clusterByName === previousClusters.byName ? previousClusters : resourceSet(clusterByName)],
    [TypeUrl.Listener, listenerSet],
    [TypeUrl.RouteConfiguration, routeSet],
    [TypeUrl.Secret, previousSecrets && secretByName === previousSecrets.byName ? previousSecrets : resourceSet(secretByName)],
  ]);
  const nodes = sameNodes && previous ? previous.nodes : new Set(store.nodeNames());
  const snapshot: Snapshot = {
    version: snapshotVersion(nodes, shared, endpoints, picking.signature),
    nodes,
    unknownKey: input.unknownKey,
    shared,
    endpoints,
    keySlot: (key) => keyIndex.get(key),
    variant: (name) => variants.get(name),
    releaseVariant: (name) => variants.release(name),
    heldVariants: () => variants.held(),
    errors: consistencyErrors(shared, endpoints),
    buildErrors: encoder.errors,
  };
  memos.set(snapshot, {
    clusters: clusterMemo,
    routesSignature: routesSig,
    nodesSignature: nodesSig,
    keyIndex,
    endpoints: endpointMemo,
    extproc,
    variants,
    secrets: secretMemo,
    secretNames,
    configClusters,
  });
  return snapshot;
}

/**
 * go-control-plane's Consistent(), both directions: every EDS name a cluster references has
 * endpoints and every service's endpoints have a cluster; every route configuration a listener
 * references exists and every route configuration has a listener. Reported, not thrown: a partial
 * snapshot is still served (clients wait for what is missing) rather than blocking all updates.
 */
export function consistencyErrors(shared: ReadonlyMap<string, ResourceSet>, endpoints: ReadonlyMap<string, ServiceEndpoints>): string[] {
  const errors: string[] = [];
  const edsRefs = new Set<string>();
  for (const c of shared.get(TypeUrl.Cluster)?.byName.values() ?? []) for (const r of c.refs) edsRefs.add(r);
  for (const r of edsRefs) if (!endpoints.get(r)?.forKey('')) errors.push(`cluster EDS name "${r}" has no endpoints`);
  for (const name of endpoints.keys()) if (!edsRefs.has(name)) errors.push(`endpoints "${name}" have no cluster`);
  const routes = shared.get(TypeUrl.RouteConfiguration)?.byName ?? new Map<string, CachedResource>();
  const rdsRefs = new Set<string>();
  for (const l of shared.get(TypeUrl.Listener)?.byName.values() ?? []) for (const r of l.refs) rdsRefs.add(r);
  for (const r of rdsRefs) if (!routes.has(r)) errors.push(`listener references missing route configuration "${r}"`);
  for (const r of routes.keys()) if (!rdsRefs.has(r)) errors.push(`route configuration "${r}" has no listener`);
  return errors;
}
