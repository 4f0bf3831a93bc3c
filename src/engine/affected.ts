import type { ModelStore } from '../model/store.js';
import { backendsOf } from './policy-input.js';

/** Measured RTT links that moved since the last recompute: gateway node → nodes it measured to. */
export type MovedLinks = ReadonlyMap<string, ReadonlySet<string>>;

/** What an RTT change obliges the engine to recompute. */
export interface AffectedWork {
  /** Services to recompute for every gateway (joint policies). */
  readonly services: Set<string>;
  /** Per service, the only gateway rows to recompute (row-independent policies). */
  readonly rows: Map<string, string[]>;
}

/**
 * The (service, gateway) rows a set of moved links can change: a link A → B matters to the row of
 * gateway A for every service with a ready backend on B (its candidate set), and to nothing else
 * (measured RTTs are directional). A joint policy recomputes such a service whole; a row-independent
 * one only those rows.
 */
export function affectedByLinks(store: ModelStore, services: Iterable<string>, links: MovedLinks, rowIndependent: boolean): AffectedWork {
  const work: AffectedWork = { services: new Set(), rows: new Map() };
  const fromNodes = [...links.keys()].filter((n) => store.hasNode(n)).sort();
  if (fromNodes.length === 0) return work;
  for (const service of services) {
    const backends = backendsOf(store, service).map((b) => b.node);
    const rows = fromNodes.filter((from) => {
      const moved = links.get(from)!;
      return backends.some((b) => moved.has(b));
    });
    if (rows.length === 0) continue;
    if (rowIndependent) work.rows.set(service, rows);
    else work.services.add(service);
  }
  return work;
}
