import type { ServeLimits } from '../../limits.js';
import type { LoadReportingServer } from '../../lrs/server.js';
import { ExtenderServer } from '../../extender/http.js';
import { TokenFile } from '../../admin/token.js';
import { optional } from '../../util/optional.js';
import type { ServeOptions } from './types.js';
import type { ServePartDeps } from './parts.js';
import { listenOrExplain } from './listeners.js';

/** Scheduler extender: filter/prioritize for new function pods from the same model. Returns the bound port. */
export async function startExtenderPort(
  options: ServeOptions,
  limits: ServeLimits,
  deps: ServePartDeps & { readonly lrs: LoadReportingServer },
): Promise<number> {
  const { store, engine, log, registry, admin, listeners, shutdown, lrs } = deps;
  const extender = new ExtenderServer({
    store,
    engine,
    log,
    registry,
    ...optional('serviceLabel', options.extenderServiceLabel || undefined),
    ...optional('tls', listeners.transport.reloader),
    ...optional('token', options.extenderTokenFile ? new TokenFile(options.extenderTokenFile) : undefined),
    trustDomain: options.tlsTrustDomain ?? 'cluster.local',
    connectionLimits: listeners.connectionLimits,
    maxPending: limits.maxPendingPlacements,
    inflowRps: (service) => lrs.inflowFromOtherGateways(service),
  });
  shutdown.push(() => extender.close());
  const addr = await listenOrExplain('--extender-listen', options.extenderListen, () => extender.listen(options.extenderListen));
  admin.addDebug(
    'placements',
    'scheduler extender: recent prioritize decisions with their reasons, and placed pods not yet ready endpoints',
    () => extender.placements(),
  );
  return addr.port;
}
