import { AssignmentEngine, UNKNOWN_GATEWAY } from '../../engine/assignments.js';
import { ModelStore } from '../../model/store.js';
import type { Topology } from '../../model/types.js';
export { randomService, randomTopology } from '../../model/testing.js';
import { nearestPolicy } from '../../policy/nearest.js';
import { DEFAULT_EXTPROC_ADDRESS, parseExtprocAddress } from '../resources/extproc.js';
import { resourceBuilders } from '../resources/index.js';
import { DEFAULT_BUILD_OPTIONS } from '../resources/types.js';
import type { SnapshotInput } from './build.js';
import type { Snapshot } from './snapshot.js';

/** Test helpers for snapshot properties: replicas and a snapshot's full bytes. */

/** One control-plane replica's inputs: a store, an engine (nearest, no hysteresis) and the snapshot input. */
export function replica(topology?: Topology): { store: ModelStore; engine: AssignmentEngine; input: SnapshotInput } {
  const store = new ModelStore();
  if (topology) store.replaceTopology(topology);
  const engine = new AssignmentEngine({ store, policy: nearestPolicy, nowMs: () => 0 });
  engine.driveBy(() => {});
  engine.start();
  const input: SnapshotInput = {
    store,
    assignments: (s) => engine.forService(s),
    unknownKey: UNKNOWN_GATEWAY,
    builders: resourceBuilders,
    options: DEFAULT_BUILD_OPTIONS,
    extprocAddress: parseExtprocAddress(DEFAULT_EXTPROC_ADDRESS),
  };
  return { store, engine, input };
}

/** Every byte a gateway of any key (and the unknown key) could be served, as one string. */
export function snapshotBytes(s: Snapshot): string {
  const out: string[] = [];
  for (const t of [...s.shared.keys()].sort()) {
    const set = s.shared.get(t)!;
    for (const name of [...set.byName.keys()].sort()) out.push(`${t} ${name} ${set.byName.get(name)!.resource.any.toString('hex')}`);
    if (set.wildcard) out.push(`${t} wildcard ${[...set.wildcard].sort().join(',')}`);
  }
  for (const name of [...s.endpoints.keys()].sort())
    for (const key of [...s.nodes, s.unknownKey].sort()) {
      const endpoints = s.endpoints.get(name)!;
      const byKey = endpoints.forKey(key);
      // Views read by slot (EndpointsView): it must be the very resource forKey gives.
      const slot = s.keySlot(key);
      if (slot !== undefined && endpoints.forSlot(slot) !== byKey) throw new Error(`${name}: forSlot(${slot}) is not forKey("${key}")`);
      out.push(`eds ${name} ${key} ${byKey?.any.toString('hex')}`);
    }
  return out.join('\n');
}
