import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ModelStore } from '../model/store.js';
import { DEFAULT_MODEL_DEFAULTS, type Endpoint, type ModelDefaults, type NodeInfo } from '../model/types.js';

/** Test helpers (a store from a compact description, HTTP and fixtures). Not used by production code. */
export interface TestTopology {
  readonly nodes: readonly string[];
  readonly rtt?: ReadonlyArray<readonly [string, string, number]>;
  /** service name → endpoint nodes (one ready endpoint each, capacity from defaults). */
  readonly services?: Readonly<Record<string, readonly string[]>>;
  readonly defaults?: Partial<ModelDefaults>;
  readonly notReady?: readonly string[];
}

/** The FaaSt / closed-loop cluster: two edge nodes and a cloud node at the scenario's mean RTTs. */
export const FAAST_CLUSTER = {
  nodes: ['edge-1', 'edge-2', 'cloud-1'],
  rtt: [
    ['edge-1', 'edge-2', 20],
    ['edge-1', 'cloud-1', 50],
    ['edge-2', 'cloud-1', 100],
  ],
} as const satisfies TestTopology;

/**
 * The closed-loop scenario's store: FAAST_CLUSTER with one pod of 2 slots at 50 ms on each edge node
 * of `service`, and the demand learned per gateway.
 */
export function closedLoopStore(service: string, demandRps: Readonly<Record<string, number>>): ModelStore {
  const store = testStore({
    ...FAAST_CLUSTER,
    services: { [service]: ['edge-1', 'edge-2'] },
    defaults: { capacity: 2, serviceTimeMs: 50 },
  });
  store.setDemand(service, new Map(Object.entries(demandRps)));
  return store;
}

export function testStore(t: TestTopology): ModelStore {
  const store = new ModelStore();
  const defaults = { ...DEFAULT_MODEL_DEFAULTS, ...t.defaults };
  const nodes: NodeInfo[] = t.nodes.map((name) => ({
    name,
    zone: name,
    region: 'r',
    ready: !(t.notReady ?? []).includes(name),
    labels: {},
  }));
  let port = 9000;
  const services = Object.entries(t.services ?? {}).map(([name, on]) => ({
    name,
    hosts: [`${name.split('/')[1]}.example.com`],
    protocol: 'http' as const,
    endpoints: on.map((node): Endpoint => ({ address: '127.0.0.1', port: port++, node, ready: true, capacity: defaults.capacity })),
  }));
  store.replaceTopology({ nodes, latency: (t.rtt ?? []).map(([from, to, rttMs]) => ({ from, to, rttMs })), services, defaults });
  return store;
}

// dist-*/src/extender/ → repo root → test/fixtures/extender
const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', '..', '..', 'test', 'fixtures', 'extender');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly ms: number;
}

/** One HTTP request on a fresh connection; resolves with the reply or rejects after `timeoutMs`. */
export function send(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string | number> = {},
  timeoutMs = 5000,
): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          'content-type': 'application/json',
          ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}),
          ...headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
