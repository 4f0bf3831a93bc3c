import type { ClientInfo } from './server/xds-server.js';
import { TypeUrl } from './resources/types.js';
import { EXTERNAL_ROUTE_CONFIG, INTERNAL_ROUTE_CONFIG } from './resources/index.js';

/**
 * True when at least one Kourier-style gateway is connected and every such gateway has ACKed the
 * last route configuration it was sent. KIngress readiness (Knative's "Ready" condition) follows
 * this, as net-kourier's status prober does. (`ClientTypeInfo.held` counts the resources a stream
 * holds, not pushes held back by flow control: it is not a readiness signal.)
 */
export function gatewaysProgrammed(clients: readonly ClientInfo[]): boolean {
  const gatewayRds = clients.flatMap((c) =>
    c.types.filter(
      (t) =>
        t.typeUrl === TypeUrl.RouteConfiguration && (t.names.includes(EXTERNAL_ROUTE_CONFIG) || t.names.includes(INTERNAL_ROUTE_CONFIG)),
    ),
  );
  return gatewayRds.length > 0 && gatewayRds.every((t) => t.versionSent !== null && t.versionAcked === t.versionSent && !t.deferred);
}
