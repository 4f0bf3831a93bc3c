/**
 * Clusters the gateway config itself adds (not a Knative backend): `extAuthz` for external
 * authorization, `otel-collector` for tracing.
 * Sorted by name. Pure.
 */
import type { GatewayConfig } from '../../model/types.js';
import { otelCollectorCluster } from './tracing.js';
import { extAuthzCluster } from './extauthz.js';
import type { ProtoResource } from './types.js';

export function buildGatewayConfigClusters(gateway: GatewayConfig): ProtoResource[] {
  return [
    ...(gateway.extAuthz ? [extAuthzCluster(gateway.extAuthz)] : []),
    ...(gateway.tracing ? [otelCollectorCluster(gateway.tracing)] : []),
  ];
}
