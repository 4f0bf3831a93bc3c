import type { ServeLimits } from '../../limits.js';
import { ExtProcServer } from '../../extproc/server.js';
import type { LoadReportingServer } from '../../lrs/server.js';
import { modelPodLoad } from '../../extproc/pod-signals.js';
import { endpointKey } from '../../extproc/picker.js';
import { followReloads, httpsServerOptions } from '../../tls/server-credentials.js';
import { optional } from '../../util/optional.js';
import type { ServeOptions } from './types.js';
import type { ServePartDeps } from './parts.js';

/** ext_proc: per-request endpoint picking for gateways that enable the filter. Returns the bound port. */
export async function startExtprocPort(
  options: ServeOptions,
  limits: ServeLimits,
  deps: ServePartDeps & { readonly lrs: LoadReportingServer },
): Promise<number> {
  const { store, engine, log, registry, admin, listeners, shutdown } = deps;
  const extproc = new ExtProcServer({
    store,
    engine,
    log,
    registry,
    failClosed: options.extprocFailClosed ?? false,
    shedWhenSaturated: options.extprocShed ?? false,
    authorizer: listeners.authorizer,
    // The pods' own queue depth and service time (queue-proxy, via the node agents).
    podLoad: modelPodLoad(store, endpointKey),
    // What it routes is demand LRS never sees (ORIGINAL_DST reports none): counted as one more LRS source.
    onDemand: (gateway, loads) => deps.lrs.observeRouted(gateway, loads),
    demandIntervalMs: deps.lrs.reportingIntervalMs,
    ...optional('slotTimeoutMs', options.extprocSlotTimeoutMs),
  });
  // One stream per gateway request: served on node:http2 directly (net/grpc-h2.ts), not grpc-js.
  const reloader = listeners.transport.reloader;
  const transport = extproc.transport({
    maxMessageBytes: limits.maxMessageBytes,
    maxStreamsPerConnection: limits.maxStreamsPerConnection,
    ...(reloader ? { tls: httpsServerOptions(reloader, true) } : {}),
  });
  if (reloader) shutdown.push(followReloads(reloader, transport));
  shutdown.push(() => extproc.close());
  shutdown.push(() => transport.close());
  admin.addDebug(
    'extproc',
    'ext_proc picker state: in-flight and service-time EWMA per endpoint, picks by rule, picks that left a gateway node with room (and why)',
    () => extproc.snapshot(),
  );
  return listeners.bindFront(options.extprocListen, 'extproc', '--extproc-listen', (socket) => transport.accept(socket));
}
