/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks Envoy resources as plain objects */
/**
 * Builds what Knative's ingress conformance tests create (knative/networking
 * test/conformance/ingress/util.go: CreateRuntimeService, CreateGRPCService, CreateWebsocketService,
 * CreateTLSSecret, CreateIngress) as Kubernetes objects, runs them through Proxima's real Kubernetes
 * translation and xDS builders, and returns the Envoy resources a Kourier gateway would receive.
 * No Envoy runs here, so every resource is checked against Envoy's protos instead: strict decoding
 * (unknown fields and unknown enum values refused, every Any resolved) and a decode → re-encode
 * round trip that must give the same bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ModelStore } from '../../src/model/store.js';
import { DEFAULT_MODEL_DEFAULTS, type GatewayConfig, DEFAULT_GATEWAY_CONFIG } from '../../src/model/types.js';
import { decodeStrict } from '../../src/protos/strict-json.js';
import { envoyProtos } from '../../src/protos/envoy.js';
import { translateCluster, type ClusterTranslation } from '../../src/sources/kubernetes/translate.js';
import { buildShared, DEFAULT_BUILD_OPTIONS, messageNameOf, type ProtoResource } from '../../src/xds/resources/index.js';
import { buildSdsSecret } from '../../src/xds/resources/secrets.js';

export const KOURIER_CLASS = 'kourier.ingress.networking.knative.dev';
/** test.ServingNamespace and test.NetworkingFlags.ServiceDomain defaults (knative/networking test/e2e_flags.go). */
export const NS = 'serving-tests';
export const DOMAIN = 'example.com';
export const NODE = 'node-1';

/** Upstream picks port 50+rand(50) and containerPort 8000+rand(100); here derived from the name. */
function portsOf(name: string): { port: number; containerPort: number } {
  const h = createHash('sha256').update(name).digest();
  return { port: 50 + (h[0]! % 50), containerPort: 8000 + (h[1]! % 100) };
}

export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly containerPort: number;
  readonly podIp: string;
  readonly objects: readonly object[];
}

let podCounter = 10;

/**
 * A Service with one port named `portName` (http for CreateRuntimeService / CreateWebsocketService,
 * h2c with appProtocol kubernetes.io/h2c for CreateGRPCService) and one ready pod behind it.
 */
export function backend(name: string, portName = 'http', appProtocol?: string): Backend {
  const { port, containerPort } = portsOf(name);
  const podIp = `10.0.0.${podCounter++}`;
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, labels: { 'test-pod': name } },
    spec: {
      type: 'ClusterIP',
      ports: [{ name: portName, port, targetPort: containerPort, ...(appProtocol ? { appProtocol } : {}) }],
      selector: { 'test-pod': name },
    },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abcde`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [podIp], conditions: { ready: true }, nodeName: NODE }],
    ports: [{ name: portName, port: containerPort, protocol: 'TCP' }],
  };
  return { name, port, containerPort, podIp, objects: [service, slice] };
}

/** An ExternalName Service (rewrite.go createExternalNameService): `target` → the gateway's private address. */
export function externalNameService(name: string, externalName: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type: 'ExternalName', externalName, ports: [{ name: 'http', port: 80 }] },
  };
}

/** The split CreateIngress builds for a backend (IngressBackend + optional percent / appendHeaders). */
export function split(b: Backend, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { serviceName: b.name, serviceNamespace: NS, servicePort: b.port, ...extra };
}

/** A KIngress as CreateIngress creates it: the class annotation, the given spec. */
export function kingress(
  name: string,
  spec: object,
  annotations: Record<string, string> = { 'networking.knative.dev/ingress.class': KOURIER_CLASS },
): any {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, generation: 1, annotations, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  };
}

/** A `kubernetes.io/tls` Secret as CreateTLSSecret makes it (`tls.crt` / `tls.key`). */
export function tlsSecret(name: string, certPem: string | Buffer, keyPem: string | Buffer): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: NS },
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  };
}

export interface Gateway {
  readonly translation: ClusterTranslation;
  readonly listeners: ReadonlyMap<string, any>;
  readonly routeConfigs: ReadonlyMap<string, any>;
  readonly clusters: ReadonlyMap<string, any>;
  readonly secrets: ReadonlyMap<string, any>;
  /** The virtual host of `routeConfig` whose domains include `host`. */
  vhost(routeConfig: string, host: string): any;
}

/** Strict proto check plus byte-exact decode → re-encode of one resource. */
export function assertEnvoyValid(r: ProtoResource): void {
  const name = messageNameOf(r.typeUrl);
  const strict = decodeStrict(name, r.value, { form: 'object' });
  assert.deepEqual(strict.ok ? [] : strict.errors, [], `${r.name}: strict decode against ${name}`);
  const T = envoyProtos().type(name);
  const bytes = T.encode(T.fromObject(r.value)).finish();
  const again = T.encode(T.fromObject(T.toObject(T.decode(bytes), { longs: String, bytes: Buffer }))).finish();
  assert.ok(Buffer.from(bytes).equals(Buffer.from(again)), `${r.name}: decode → re-encode gives the same bytes`);
}

/** Translate the objects like the Kubernetes source does and build the gateway's resources. */
export function gatewayFor(objects: readonly any[], gateway: GatewayConfig = DEFAULT_GATEWAY_CONFIG): Gateway {
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const gatewaySecrets = [gateway.defaultCertificate, gateway.clusterCertificate].filter((x): x is string => x !== undefined);
  const translation = translateCluster(
    {
      nodes: [
        {
          metadata: { name: NODE, labels: { 'topology.kubernetes.io/zone': 'z1' } },
          status: { conditions: [{ type: 'Ready', status: 'True' }] },
        },
      ],
      services: of('Service'),
      endpointSlices: of('EndpointSlice'),
      revisions: [],
      ingresses: of('Ingress'),
      secrets: of('Secret'),
    },
    { ingressClass: KOURIER_CLASS, defaultCapacity: 10, gatewaySecrets },
  );
  const store = new ModelStore();
  store.replaceTopology({ nodes: translation.nodes, latency: [], services: translation.services, defaults: DEFAULT_MODEL_DEFAULTS });
  store.setRoutes(translation.routes);
  store.setGatewayConfig(gateway);
  const shared = buildShared(store, DEFAULT_BUILD_OPTIONS);
  const sds = translation.tlsSecrets.map(buildSdsSecret);
  for (const r of [...shared.listeners, ...shared.routes, ...shared.clusters, ...sds]) assertEnvoyValid(r);
  const byName = (rs: readonly ProtoResource[]) => new Map(rs.map((r) => [r.name, r.value as any] as const));
  const routeConfigs = byName(shared.routes);
  return {
    translation,
    listeners: byName(shared.listeners),
    routeConfigs,
    clusters: byName(shared.clusters),
    secrets: byName(sds),
    vhost(routeConfig: string, host: string) {
      const rc = routeConfigs.get(routeConfig);
      assert.ok(rc, `route configuration ${routeConfig} exists`);
      return rc.virtual_hosts.find((v: any) => v.domains.includes(host));
    },
  };
}

/** The one non-probe route of a virtual host's routes (probe copies are checked separately). */
export function realRoutes(vh: any): any[] {
  return vh.routes.filter((r: any) => !r.name.endsWith('/probe'));
}

export function probeRoutes(vh: any): any[] {
  return vh.routes.filter((r: any) => r.name.endsWith('/probe'));
}

/** `request_headers_to_add` as [key, value] pairs. */
export function headerPairs(list: any[] | undefined): [string, string][] {
  return (list ?? []).map((h: any) => [h.header.key, h.header.value]);
}
