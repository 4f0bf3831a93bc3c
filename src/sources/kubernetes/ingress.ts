/**
 * Knative Ingress (networking.internal.knative.dev/v1alpha1) → model HttpRoutes, following
 * net-kourier's translator (pkg/generator/ingress_translator.go, pkg/envoy/api/route.go):
 * - every rule is served on the internal listener; ExternalIP rules also on the external one;
 * - no hosts means `*`; an empty path means `/`; path matches are prefixes, and within a rule the
 *   longer prefixes come first (stable), as Kourier sorts routes by path specificity;
 * - a split targets the cluster `serviceNamespace/serviceName` (the revision's public Service) with
 *   its percent and appendHeaders (Knative-Serving-Revision / -Namespace, set, not appended);
 * - the path's appendHeaders apply to every split; header matches are exact; timeout 0 (none);
 *   websocket upgrades are on (a builder concern: nothing to carry);
 * - the target port is the Service port whose number or name equals the split's servicePort
 *   (else 80), and the cluster speaks h2c when any Service port is named `http2`/`h2c` (we add
 *   `grpc`) unless the `kourier.knative.dev/disable-http2` annotation says "true".
 * - `spec.tls` entries become SNI filter chains (route `tls`, certificates over SDS); with
 *   `httpOption: Redirected` the external plain-HTTP listener answers 301 to https (route
 *   `httpsRedirect`); `rewriteHost` becomes Envoy's `host_rewrite_literal`; an ExternalName Service
 *   becomes a LOGICAL_DNS cluster to its name and Service port (ingress_translator.go);
 * - `probeHash` is Knative's ComputeHash of the object (ingress-hash.ts): the builders add
 *   K-Network-Hash probe routes carrying it.
 * What Proxima cannot express (non-exact header matches, invalid splits) makes the whole ingress
 * `unsupported`; a split whose Service does not exist yet makes it `pending` (Kourier skips such an
 * ingress and keeps what it served before). Pure.
 */
import type { HttpRoute, RouteHeaderMatch, RouteRule, RouteSplit, RouteTls, RouteVisibility, ServiceProtocol } from '../../model/types.js';
import { ingressHash } from './ingress-hash.js';
import {
  ANNOTATION_INGRESS_CLASS,
  ANNOTATION_INGRESS_CLASS_OLD,
  asArray,
  asString,
  asStringMap,
  compareStrings,
  isRecord,
  keyOf,
  metaOf,
} from './objects.js';

export const ANNOTATION_DISABLE_HTTP2 = 'kourier.knative.dev/disable-http2';

/** The parts of a core/v1 Service the translator needs. */
export interface KubeServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  /** `spec.externalName` of an ExternalName Service. */
  readonly externalName?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly targetPort: number | string | undefined }[];
}

export function serviceInfoFromKube(o: unknown): KubeServiceInfo | undefined {
  const meta = metaOf(o);
  if (!meta || !isRecord(o)) return undefined;
  const spec = isRecord(o['spec']) ? o['spec'] : {};
  const ports = asArray(spec['ports'])
    .filter(isRecord)
    .map((p) => {
      const t = p['targetPort'];
      return {
        name: asString(p['name']) ?? '',
        port: typeof p['port'] === 'number' ? p['port'] : 0,
        targetPort: typeof t === 'number' || typeof t === 'string' ? t : undefined,
      };
    });
  const externalName = asString(spec['externalName']);
  return {
    namespace: meta.namespace,
    name: meta.name,
    type: asString(spec['type']) ?? 'ClusterIP',
    ...(externalName ? { externalName } : {}),
    labels: meta.labels,
    ports,
  };
}

/** Where a split's traffic goes: the Service, the port on its endpoints and the protocol. */
export interface BackendRef {
  /** `namespace/name`: the model Service and xDS cluster. */
  readonly service: string;
  readonly namespace: string;
  readonly name: string;
  /** Name of the matched Service port; EndpointSlice ports carry the same name. */
  readonly portName: string;
  /** The matched port's numeric targetPort (80 when nothing matched, as Kourier does); 0 if named. */
  readonly targetPort: number;
  readonly protocol: ServiceProtocol;
  /** ExternalName Services: the DNS name and the matched Service port (Kourier's LOGICAL_DNS cluster). */
  readonly externalName?: { readonly host: string; readonly port: number };
}

export type IngressOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'pending'; readonly reason: string; readonly message: string }
  | { readonly kind: 'unsupported'; readonly reason: string; readonly message: string }
  /** Another ingress already serves one of its hosts (Kourier's ErrDomainConflict). */
  | { readonly kind: 'conflict'; readonly reason: 'DomainConflict'; readonly message: string };

export interface IngressTranslation {
  /** `namespace/name` of the KIngress. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly generation: number | undefined;
  /** Empty unless `outcome.kind === 'ok'`. */
  readonly routes: readonly HttpRoute[];
  readonly backends: readonly BackendRef[];
  readonly outcome: IngressOutcome;
  /** Accepted but not fully honoured. */
  readonly warnings: readonly string[];
  /** Knative's ComputeHash of this object (hex): what the readiness probe expects back. */
  readonly probeHash: string;
  /** `creationTimestamp` (ms; 0 when absent): the older ingress keeps a contested host. */
  readonly createdMs: number;
}

/** The ingress class of a KIngress: the current annotation, else the older spelling. */
export function ingressClassOf(o: unknown): string | undefined {
  const meta = metaOf(o);
  if (!meta) return undefined;
  return meta.annotations[ANNOTATION_INGRESS_CLASS] ?? meta.annotations[ANNOTATION_INGRESS_CLASS_OLD];
}

const H2C_PORT_NAMES = new Set(['http2', 'h2c', 'grpc']);

class Unsupported extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function resolveBackend(svc: KubeServiceInfo, servicePort: unknown, disableHttp2: boolean): BackendRef {
  let portName = '';
  let targetPort = 80;
  let servicePortNumber = 0;
  let matched = false;
  let h2c = false;
  for (const p of svc.ports) {
    if (
      !matched &&
      ((typeof servicePort === 'number' && p.port === servicePort) || (typeof servicePort === 'string' && p.name === servicePort))
    ) {
      matched = true;
      portName = p.name;
      servicePortNumber = p.port;
      targetPort = typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.port : 0;
    }
    if (H2C_PORT_NAMES.has(p.name)) h2c = true;
  }
  return {
    service: keyOf(svc.namespace, svc.name),
    namespace: svc.namespace,
    name: svc.name,
    portName,
    targetPort,
    protocol: h2c && !disableHttp2 ? 'h2c' : 'http',
    ...(svc.type === 'ExternalName' ? { externalName: { host: svc.externalName ?? '', port: servicePortNumber } } : {}),
  };
}

function tlsEntries(v: unknown): RouteTls[] {
  return asArray(v).map((t, i) => {
    if (!isRecord(t)) throw new Unsupported('InvalidIngress', `spec.tls[${i}] is not an object`);
    const secretNamespace = asString(t['secretNamespace']);
    const secretName = asString(t['secretName']);
    if (!secretNamespace || !secretName) throw new Unsupported('InvalidIngress', `spec.tls[${i}] needs secretNamespace and secretName`);
    const hosts = asArray(t['hosts']).filter((h): h is string => typeof h === 'string' && h !== '');
    return { hosts, secret: keyOf(secretNamespace, secretName) };
  });
}

function headerMatches(v: unknown, where: string): RouteHeaderMatch[] {
  if (v === undefined || v === null) return [];
  if (!isRecord(v)) throw new Unsupported('InvalidHeaders', `${where}.headers is not a map`);
  return Object.entries(v)
    .map(([name, m]) => {
      const exact = isRecord(m) ? asString(m['exact']) : undefined;
      if (!exact) throw new Unsupported('UnsupportedHeaderMatch', `${where}.headers[${name}]: only exact header matches are supported`);
      return { name, exact };
    })
    .sort((a, b) => compareStrings(a.name, b.name));
}

/**
 * Translate one KIngress. `lookupService` returns the Service a split names (from the informer
 * cache); `undefined` means it does not exist yet.
 */
export function translateIngress(
  o: unknown,
  lookupService: (namespace: string, name: string) => KubeServiceInfo | undefined,
): IngressTranslation {
  const meta = metaOf(o);
  const namespace = meta?.namespace ?? '';
  const name = meta?.name ?? '';
  const spec0 = isRecord(o) ? o['spec'] : undefined;
  const created = isRecord(o) && isRecord(o['metadata']) ? Date.parse(asString(o['metadata']['creationTimestamp']) ?? '') : NaN;
  const base = {
    key: keyOf(namespace, name),
    namespace,
    name,
    generation: meta?.generation,
    probeHash: ingressHash(spec0, namespace, name),
    createdMs: Number.isFinite(created) ? created : 0,
  };
  const warnings: string[] = [];
  const backends = new Map<string, BackendRef>();
  try {
    if (!meta || !isRecord(o)) throw new Unsupported('InvalidIngress', 'object has no metadata.name');
    const spec = o['spec'];
    if (!isRecord(spec)) throw new Unsupported('InvalidIngress', 'spec is missing');
    const tls = tlsEntries(spec['tls']);
    const disableHttp2 = (meta.annotations[ANNOTATION_DISABLE_HTTP2] ?? '').toLowerCase() === 'true';
    const redirected = spec['httpOption'] === 'Redirected';
    const rulesIn = asArray(spec['rules']);
    if (rulesIn.length === 0) throw new Unsupported('InvalidIngress', 'spec.rules is empty');
    const routes: HttpRoute[] = [];
    let pending: { reason: string; message: string } | undefined;
    rulesIn.forEach((ruleIn, ri) => {
      const where = `spec.rules[${ri}]`;
      if (!isRecord(ruleIn)) throw new Unsupported('InvalidIngress', `${where} is not an object`);
      const hostsIn = asArray(ruleIn['hosts']).filter((h): h is string => typeof h === 'string' && h !== '');
      const hosts = hostsIn.length > 0 ? hostsIn : ['*'];
      const visibilityIn = asString(ruleIn['visibility']) ?? 'ExternalIP';
      if (visibilityIn !== 'ExternalIP' && visibilityIn !== 'ClusterLocal')
        throw new Unsupported('InvalidIngress', `${where}.visibility "${visibilityIn}" is not ExternalIP or ClusterLocal`);
      const visibility: RouteVisibility[] = visibilityIn === 'ExternalIP' ? ['external', 'internal'] : ['internal'];
      const http = ruleIn['http'];
      if (!isRecord(http)) throw new Unsupported('InvalidIngress', `${where}.http is missing`);
      const rules: RouteRule[] = [];
      asArray(http['paths']).forEach((pathIn, pi) => {
        const pw = `${where}.http.paths[${pi}]`;
        if (!isRecord(pathIn)) throw new Unsupported('InvalidIngress', `${pw} is not an object`);
        const hostRewrite = asString(pathIn['rewriteHost']);
        const headers = headerMatches(pathIn['headers'], pw);
        const splitsIn = asArray(pathIn['splits']);
        const splits: RouteSplit[] = [];
        splitsIn.forEach((s, si) => {
          const sw = `${pw}.splits[${si}]`;
          if (!isRecord(s)) throw new Unsupported('InvalidIngress', `${sw} is not an object`);
          const sns = asString(s['serviceNamespace']);
          const sname = asString(s['serviceName']);
          if (!sns || !sname) throw new Unsupported('InvalidIngress', `${sw} needs serviceNamespace and serviceName`);
          // networking v1alpha1 defaulting: a lone split without percent gets 100.
          const percent = typeof s['percent'] === 'number' ? s['percent'] : splitsIn.length === 1 ? 100 : 0;
          if (!Number.isInteger(percent) || percent < 0 || percent > 100)
            throw new Unsupported('InvalidIngress', `${sw}.percent ${String(s['percent'])} is not an integer in 0..100`);
          const svc = lookupService(sns, sname);
          if (!svc) {
            pending ??= { reason: 'ServiceNotFound', message: `Service ${sns}/${sname} does not exist yet` };
            return;
          }
          if (svc.type === 'ExternalName' && !svc.externalName)
            throw new Unsupported('InvalidExternalName', `${sw}: ExternalName Service ${sns}/${sname} has no spec.externalName`);
          const ref = resolveBackend(svc, s['servicePort'], disableHttp2);
          if (!backends.has(ref.service)) backends.set(ref.service, ref);
          splits.push({ service: ref.service, percent, appendHeaders: asStringMap(s['appendHeaders']) });
        });
        if (splitsIn.length === 0) return; // Kourier: a path without splits yields no route.
        const sum = splitsIn.reduce<number>(
          (a, s) => a + (isRecord(s) && typeof s['percent'] === 'number' ? s['percent'] : splitsIn.length === 1 ? 100 : 0),
          0,
        );
        if (sum !== 100) throw new Unsupported('InvalidIngress', `${pw}: split percents add up to ${sum}, not 100`);
        rules.push({
          pathPrefix: asString(pathIn['path']) || '/',
          headers,
          splits,
          appendHeaders: asStringMap(pathIn['appendHeaders']),
          timeoutMs: 0,
          ...(hostRewrite ? { hostRewrite } : {}),
        });
      });
      if (rules.length === 0) return;
      const sorted = rules.map((r, i) => [r, i] as const).sort((a, b) => b[0].pathPrefix.length - a[0].pathPrefix.length || a[1] - b[1]);
      routes.push({
        name: `${base.key}#${ri}`,
        hosts,
        visibility,
        rules: sorted.map(([r]) => r),
        ...(tls.length ? { tls } : {}),
        ...(redirected && visibilityIn === 'ExternalIP' ? { httpsRedirect: true } : {}),
        probeHash: base.probeHash,
        ...(Object.keys(meta.labels).length ? { ingressLabels: meta.labels } : {}),
      });
    });
    const backendList = [...backends.values()].sort((a, b) => compareStrings(a.service, b.service));
    if (pending) return { ...base, routes: [], backends: backendList, outcome: { kind: 'pending', ...pending }, warnings };
    return { ...base, routes, backends: backendList, outcome: { kind: 'ok' }, warnings };
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    return { ...base, routes: [], backends: [], outcome: { kind: 'unsupported', reason: e.reason, message: e.message }, warnings };
  }
}
