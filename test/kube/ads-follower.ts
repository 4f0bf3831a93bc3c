/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy resources */
/**
 * The xDS half of an Envoy STAND-IN (there is no Envoy here): an ADS client over raw gRPC
 * (test/xds-protocol-client.ts) that subscribes to its wildcard types, ACKs every response, keeps the
 * decoded resources per type (a wildcard type's response replaces the set, a named type's adds to it)
 * and lets the stand-in follow the names those resources reference, as Envoy subscribes to EDS, RDS
 * and SDS for what CDS and LDS name.
 */
import { decodeAny, node, RawClient, type DiscoveryResponse } from '../xds-protocol-client.js';
import { envoyProtos } from '../../src/protos/envoy.js';

/** The node id of Kourier's Envoy (net-kourier bootstrap). */
export const KOURIER_NODE_ID = '3scale-kourier-gateway';

/** A nested google.protobuf.Any as a plain object (decodeAny decodes only the top level). */
export function unpack(any: any): any {
  const type = envoyProtos().type(String(any.type_url).slice(String(any.type_url).lastIndexOf('/') + 1));
  return type.toObject(type.decode(any.value), { longs: String, enums: String, defaults: false });
}

export abstract class AdsFollower {
  private readonly client: RawClient;
  private readonly stream;
  private first = true;
  private readonly wanted = new Map<string, string[]>();
  /** The version last ACKed per type: a new subscription carries it, as Envoy's does. */
  private readonly acked = new Map<string, string>();
  /** Decoded resources per type, by name. */
  readonly resources = new Map<string, Map<string, any>>();

  constructor(
    address: string,
    private readonly gatewayNode: string,
    private readonly wildcardTypes: readonly string[],
  ) {
    this.client = new RawClient(address);
    this.stream = this.client.ads();
    this.stream.call.on('data', (r: DiscoveryResponse) => this.receive(r));
    for (const typeUrl of wildcardTypes) this.request(typeUrl, []);
  }

  /** Called after a response is stored and ACKed, with its resources by name. */
  protected abstract onResponse(r: DiscoveryResponse, byName: ReadonlyMap<string, any>): void;

  /** True to store a response without ACKing it yet (the stand-in ACKs later with `ack`). */
  protected holdsAck(_r: DiscoveryResponse): boolean {
    return false;
  }

  protected ack(r: DiscoveryResponse): void {
    this.request(r.type_url, this.wanted.get(r.type_url) ?? [], r);
  }

  /** Subscribe to exactly these names of a type (a new request only when the set changed). */
  protected follow(typeUrl: string, names: readonly string[]): void {
    const sorted = [...new Set(names)].sort();
    if (JSON.stringify(sorted) !== JSON.stringify(this.wanted.get(typeUrl))) this.request(typeUrl, sorted);
  }

  protected closeStream(): void {
    this.stream.close();
    this.client.close();
  }

  private receive(r: DiscoveryResponse): void {
    const byName = new Map<string, any>();
    for (const a of r.resources ?? []) {
      const d = decodeAny(a) as any;
      byName.set(d.name ?? d.cluster_name, d);
    }
    const full = this.wildcardTypes.includes(r.type_url);
    this.resources.set(r.type_url, full ? byName : new Map([...(this.resources.get(r.type_url) ?? []), ...byName]));
    if (this.holdsAck(r)) return;
    this.ack(r);
    this.onResponse(r, byName);
  }

  private request(typeUrl: string, names: string[], ack?: DiscoveryResponse): void {
    this.wanted.set(typeUrl, names);
    this.stream.send({
      ...(this.first ? { node: node(KOURIER_NODE_ID, this.gatewayNode) } : {}),
      type_url: typeUrl,
      resource_names: names,
      version_info: ack?.version_info ?? this.acked.get(typeUrl) ?? '',
      response_nonce: ack?.nonce ?? '',
    });
    this.first = false;
    if (ack) this.acked.set(typeUrl, ack.version_info);
  }
}
