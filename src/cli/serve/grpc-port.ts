import type { MeasurementSink } from '../../model/sink.js';
import type { TlsSecretStore } from '../../model/tls-secrets.js';
import type { ServeLimits } from '../../limits.js';
import { trafficMatrixSvg } from '../../admin/ui.js';
import { XdsControlPlane } from '../../xds/control-plane.js';
import { DEFAULT_BUILD_OPTIONS } from '../../xds/resources/types.js';
import { gatewaysProgrammed } from '../../xds/programmed.js';
import { LoadReportingServer } from '../../lrs/server.js';
import { ProbeCollector } from '../../probe/collector.js';
import { optional } from '../../util/optional.js';
import type { ServeOptions } from './types.js';
import type { ServePartDeps } from './parts.js';
import { H2Services } from '../../net/grpc-h2-services.js';
import { createH2Transport } from '../../net/grpc-h2.js';
import { followReloads, httpsServerOptions } from '../../tls/server-credentials.js';

export interface GrpcPortDeps extends ServePartDeps {
  readonly sink: MeasurementSink;
  readonly tlsSecrets: TlsSecretStore;
}

/**
 * The gateways' one gRPC port: xDS (ADS SotW + Delta, per-type services), LRS (demand) and probe
 * reports (RTT), served on node:http2 directly (net/grpc-h2.ts): a change is one response and one
 * ACK per gateway stream, and grpc-js's per-message buffers decided the fan-out's tail. Envoy may
 * carry ADS and LRS on one connection: every method shares the port's sessions.
 */
export async function startGrpcPort(
  options: ServeOptions,
  limits: ServeLimits,
  deps: GrpcPortDeps,
): Promise<{ readonly xds: XdsControlPlane; readonly lrs: LoadReportingServer; readonly port: number }> {
  const { store, engine, sink, log, registry, admin, listeners, shutdown } = deps;
  const server = new H2Services();
  const authorizer = listeners.authorizer;

  const xds = new XdsControlPlane({
    store,
    engine,
    log,
    registry,
    buildOptions: {
      ...DEFAULT_BUILD_OPTIONS,
      ...optional('extprocAddress', options.extprocAddress),
      ...(options.extprocAlways ? { extprocAlways: true } : {}),
    },
    requestLimits: { maxResourceNames: limits.maxResourceNames, maxNameLength: limits.maxNameLength },
    authorizer,
    tlsSecrets: deps.tlsSecrets,
  });
  xds.register(server);
  shutdown.push(() => xds.close());
  admin.addReadiness('xds', () => xds.ready() || 'initial xDS snapshot not built yet');
  admin.addDebug('clients', 'connected xDS streams: node, gateway node, subscriptions, versions sent and ACKed, last NACK', () =>
    xds.clients(),
  );

  const lrs = new LoadReportingServer({
    store,
    sink,
    log,
    registry,
    ...optional('reportingIntervalMs', options.lrsIntervalMs),
    limits: { maxLocalities: limits.maxLocalitiesPerReport },
    maxNameLength: limits.maxNameLength,
    maxMetricSeries: limits.maxMetricSeries,
    authorizer,
  });
  lrs.register(server);
  shutdown.push(() => lrs.close());
  admin.addDebug('traffic', 'smoothed requests/s per gateway node, serving node and service, as gateways report them over LRS', () =>
    lrs.flows(),
  );
  admin.addPage('/ui/traffic.svg', () => trafficMatrixSvg(store, lrs.flows()), 'image/svg+xml');
  admin.addDebug('demand', 'learned demand per gateway node (req/s) and observed service time per node, per service', () => lrs.snapshot());

  const probes = new ProbeCollector({
    store,
    sink,
    log,
    registry,
    authorizer,
    maxTrackedIds: limits.maxTrackedIds,
    trackedIdTtlMs: limits.trackedIdTtlMs,
  });
  probes.register(server);
  shutdown.push(() => probes.close());
  admin.addDebug('probes', 'connected probe agents and their probe addresses', () => probes.agents());

  const reloader = listeners.transport.reloader;
  const transport = createH2Transport(
    {
      maxMessageBytes: limits.maxMessageBytes,
      maxStreamsPerConnection: limits.maxStreamsPerConnection,
      ...(reloader ? { tls: httpsServerOptions(reloader, true) } : {}),
    },
    server.methods(),
  );
  if (reloader) shutdown.push(followReloads(reloader, transport));
  shutdown.push(() => transport.close());
  const port = await listeners.bindFront(options.xdsListen, 'xds', '--xds-listen', (socket) => transport.accept(socket));
  return { xds, lrs, port };
}

/** KIngress "programmed": the xDS side has settled and every Kourier-style gateway ACKed its routes. */
export function programmedBy(xds: XdsControlPlane): (routeName: string) => boolean {
  return () => xds.settled() && gatewaysProgrammed(xds.clients());
}
