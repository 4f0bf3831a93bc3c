/**
 * Who an Envoy or gRPC client is, read once from its `config.core.v3.Node`: the same rule for xDS
 * streams (src/xds/server) and load reports (src/lrs). The gateway node is `locality.sub_zone`
 * when set, else `id` (docs/architecture.md, "xDS: resources and names").
 */

/** Envoy's `config.core.v3.Node` as proto-loader decodes it (keepCase, defaults off). */
export interface NodeMessage {
  readonly id?: string;
  readonly cluster?: string;
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly sub_zone?: string } | null;
  readonly user_agent_name?: string;
  /** google.protobuf.Struct as proto-loader/protobufjs toObject gives it: `{fields: {...}}`. */
  readonly metadata?: unknown;
}

/** The gateway node of a client, or undefined when the Node names none. */
export function gatewayNodeOf(node: NodeMessage | null | undefined): string | undefined {
  const n = node?.locality?.sub_zone || node?.id;
  return n ? n : undefined;
}
