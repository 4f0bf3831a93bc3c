import { ModelStore } from '../../model/store.js';
import type { NodeInfo, Service } from '../../model/types.js';
import { DEFAULT_MODEL_DEFAULTS } from '../../model/types.js';
import { decodeStrict } from '../../protos/strict-json.js';
import { messageNameOf, type ProtoResource } from './types.js';

/** Shared fixtures for the builder tests (`*.test.ts` beside this file). */
export function node(name: string, zone = `zone-${name}`, region = 'region-1', ready = true): NodeInfo {
  return { name, zone, region, ready, labels: {} };
}

export function service(
  name: string,
  endpoints: Array<[address: string, port: number, node: string, ready?: boolean]>,
  protocol: Service['protocol'] = 'http',
  hosts: string[] = [],
): Service {
  return {
    name,
    hosts,
    protocol,
    endpoints: endpoints.map(([address, port, n, ready]) => ({ address, port, node: n, ready: ready ?? true, capacity: 10 })),
  };
}

export function storeWith(nodes: NodeInfo[], services: Service[]): ModelStore {
  const store = new ModelStore();
  store.replaceTopology({ nodes, latency: [], services, defaults: DEFAULT_MODEL_DEFAULTS });
  return store;
}

/** Every builder output must be a valid Envoy message with no unknown fields. */
export function strictErrors(r: ProtoResource): string[] {
  const res = decodeStrict(messageNameOf(r.typeUrl), r.value, { form: 'object' });
  return res.ok ? [] : res.errors;
}
