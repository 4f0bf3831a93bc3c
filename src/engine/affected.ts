import type { ModelStore } from '../model/store.js';
import { backendsOf } from './policy-input.js';

/** Measured RTT links that moved since the last recompute: gateway node → nodes it measured to. */
export type MovedLinks = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * How far a policy's rows depend on each other (Policy.rowIndependent, Policy.idleRowIndependent):
 * `row` every row alone, `idle-row` rows of gateways without demand alone, `joint` none.
 */
export type RowScope = 'row' | 'idle-row' | 'joint';

/** What an RTT change obliges the engine to recompute. */
export interface AffectedWork {
  /** Services to recompute for every gateway. */
  readonly services: Set<string>;
  /** Per service, the only gateway rows to recompute. */
  readonly rows: Map<string, string[]>;
}

/**
 * The (service, gateway) rows a set of moved links can change: a link A → B matters to the row of
 * gateway A for every service with a ready backend on B (its candidate set), and to nothing else
 * (measured RTTs are directional). Those rows alone are recomputed when the policy's scope allows
 * (`idle-row`: only while A has no demand for the service); otherwise the service whole.
 */
export function affectedByLinks(store: ModelStore, services: Iterable<string>, links: MovedLinks, scope: RowScope): AffectedWork {
  const work: AffectedWork = { services: new Set(), rows: new Map() };
  const fromNodes = [...links.keys()].filter((n) => store.hasNode(n)).sort();
  if (fromNodes.length === 0) return work;
  const idle = (gateway: string, service: string): boolean => (store.demandRps(gateway, service) ?? store.defaults.demandRps) <= 0;
  for (const service of services) {
    const backends = backendsOf(store, service).map((b) => b.node);
    const rows = fromNodes.filter((from) => {
      const moved = links.get(from)!;
      return backends.some((b) => moved.has(b));
    });
    if (rows.length === 0) continue;
    if (scope === 'row' || (scope === 'idle-row' && rows.every((g) => idle(g, service)))) work.rows.set(service, rows);
    else work.services.add(service);
  }
  return work;
}
