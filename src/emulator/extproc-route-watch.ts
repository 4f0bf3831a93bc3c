import * as grpc from '@grpc/grpc-js';
import { envoyProtos, grpcLookup } from '../protos/envoy.js';
import { EXT_PROC_PER_ROUTE_TYPE_URL, EXTPROC_FILTER_NAME, EXTPROC_OPT_IN_KEY, PICKED_ROUTE } from '../xds/resources/extproc.js';
import { EXTERNAL_ROUTE_CONFIG } from '../xds/resources/common.js';
import { TypeUrl } from '../xds/resources/types.js';

/**
 * What an Envoy gateway's ext_proc filter reads from its route configuration: whether the route a
 * request matches disables the filter (ExtProcPerRoute `disabled`). The emulated gateways route with
 * grpc-js-xds, which knows nothing of ext_proc, so this watch subscribes to the gateway route
 * configuration as an opted-in Envoy gateway of the same node would (SotW ADS, PROXIMA_EXTPROC in the
 * Node metadata), ACKs what it applies, and answers per authority. Until the first response, and
 * while the stream is down, it keeps what it last had (Envoy keeps its config), and nothing is skipped
 * before anything was received.
 */

interface Any {
  readonly type_url: string;
  readonly value: Uint8Array;
}

interface DecodedRoute {
  readonly name?: string;
  readonly route?: { readonly cluster?: string; readonly weighted_clusters?: unknown };
  readonly typed_per_filter_config?: Readonly<Record<string, Any>>;
}

interface DecodedRouteConfiguration {
  readonly virtual_hosts?: ReadonlyArray<{ readonly domains?: readonly string[]; readonly routes?: readonly DecodedRoute[] }>;
}

function filterDisabled(route: DecodedRoute): boolean {
  const any = route.typed_per_filter_config?.[EXTPROC_FILTER_NAME];
  if (!any || any.type_url !== EXT_PROC_PER_ROUTE_TYPE_URL) return false;
  const t = envoyProtos().type('envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute');
  return (t.toObject(t.decode(any.value)) as { disabled?: boolean }).disabled === true;
}

/** The domains of the virtual hosts whose every service route disables the ext_proc filter. */
export function skippedDomains(config: DecodedRouteConfiguration): Set<string> {
  const out = new Set<string>();
  for (const vh of config.virtual_hosts ?? []) {
    const routes = (vh.routes ?? []).filter((r) => r.name !== PICKED_ROUTE && r.route);
    if (routes.length > 0 && routes.every(filterDisabled)) for (const d of vh.domains ?? []) out.add(d.toLowerCase());
  }
  return out;
}

/** A decoded RouteConfiguration from the Any of a DiscoveryResponse. */
export function decodeRouteConfiguration(any: Any): DecodedRouteConfiguration {
  const t = envoyProtos().type('envoy.config.route.v3.RouteConfiguration');
  return t.toObject(t.decode(any.value), { longs: String, enums: String, defaults: false }) as DecodedRouteConfiguration;
}

interface DiscoveryResponse {
  readonly version_info?: string;
  readonly nonce?: string;
  readonly type_url?: string;
  readonly resources?: readonly Any[];
}

type AdsStream = grpc.ClientDuplexStream<Record<string, unknown>, DiscoveryResponse>;

const RECONNECT_MS = 1000;

export class ExtProcRouteWatch {
  private readonly client: grpc.Client & Record<string, () => AdsStream>;
  private stream: AdsStream | undefined;
  private skipped = new Set<string>();
  private received = false;
  private accepted = '';
  private readonly readyWaiters: Array<() => void> = [];
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    serverUri: string,
    private readonly node: Record<string, unknown>,
    private readonly routeConfig = EXTERNAL_ROUTE_CONFIG,
  ) {
    const Ctor = grpcLookup<grpc.ServiceClientConstructor>(envoyProtos().grpc, 'envoy.service.discovery.v3.AggregatedDiscoveryService');
    this.client = new Ctor(serverUri, grpc.credentials.createInsecure()) as grpc.Client & Record<string, () => AdsStream>;
    this.open();
  }

  /** From a gRPC xDS bootstrap (GRPC_XDS_BOOTSTRAP_CONFIG): its first server and its node, opted in. */
  static fromBootstrap(bootstrapJson: string): ExtProcRouteWatch {
    const b = JSON.parse(bootstrapJson) as { xds_servers: Array<{ server_uri: string }>; node: Record<string, unknown> };
    const node = {
      ...b.node,
      id: `${String(b.node['id'])}-extproc`,
      metadata: { fields: { [EXTPROC_OPT_IN_KEY]: { stringValue: 'true' } } },
    };
    return new ExtProcRouteWatch(b.xds_servers[0]!.server_uri, node);
  }

  /** Whether a request for `authority` skips the ext_proc filter (its route disables it). */
  skips(authority: string): boolean {
    return this.skipped.has(authority.toLowerCase());
  }

  /** Resolves once the first route configuration was applied, or after `timeoutMs` (then nothing is skipped). */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.received) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.received), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.stream?.cancel();
    this.client.close();
  }

  private open(): void {
    const stream = this.client['StreamAggregatedResources']!();
    this.stream = stream;
    stream.on('data', (r: DiscoveryResponse) => this.onResponse(stream, r));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (this.closed || this.stream !== stream) return;
      this.retry = setTimeout(() => this.open(), RECONNECT_MS);
    });
    stream.write({ node: this.node, type_url: TypeUrl.RouteConfiguration, resource_names: [this.routeConfig] });
  }

  private onResponse(stream: AdsStream, r: DiscoveryResponse): void {
    if (r.type_url !== TypeUrl.RouteConfiguration) return;
    try {
      const next = new Set<string>();
      for (const any of r.resources ?? []) for (const d of skippedDomains(decodeRouteConfiguration(any))) next.add(d);
      this.skipped = next;
      this.accepted = r.version_info ?? '';
      stream.write({
        type_url: r.type_url,
        version_info: this.accepted,
        response_nonce: r.nonce ?? '',
        resource_names: [this.routeConfig],
      });
    } catch (err) {
      stream.write({
        type_url: r.type_url,
        version_info: this.accepted,
        response_nonce: r.nonce ?? '',
        resource_names: [this.routeConfig],
        error_detail: { code: grpc.status.INVALID_ARGUMENT, message: (err as Error).message },
      });
      return;
    }
    if (!this.received) {
      this.received = true;
      for (const w of this.readyWaiters.splice(0)) w();
    }
  }
}
