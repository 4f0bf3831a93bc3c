import type { Options, Scenario } from 'k6/options';
import {
  checkAddress,
  durationEnv,
  durationSeconds,
  intEnv,
  listEnv,
  numberEnv,
  optionalNumberEnv,
  slug,
  stringEnv,
  type Env,
} from './env.ts';

/**
 * Configuration and k6 options of http-gateways.ts. Pure: built from __ENV, no k6 runtime calls.
 * One constant-arrival-rate scenario per gateway, so each entry point gets its own open-loop
 * arrival stream (like users at the edge), its own tags and its own thresholds.
 */

export interface Gateway {
  /** Scenario name: gw_<label>. */
  readonly scenario: string;
  /** Tag value: the node name when given (edge-1=10.0.0.5:8080), else host_port. */
  readonly label: string;
  readonly address: string;
  /** The Kubernetes node this gateway runs on ('' when unknown): requests served there are local. */
  readonly node: string;
}

export interface HttpConfig {
  readonly gateways: readonly Gateway[];
  readonly host: string;
  readonly path: string;
  /** Iterations (requests) per second, per gateway. */
  readonly ratePerGateway: number;
  readonly duration: string;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  readonly timeout: string;
  readonly p95Ms: number;
  /** dropped_iterations above this many fail the run. */
  readonly maxDropped: number;
  /** Response header in which the function reports the node that served the request. */
  readonly servedByHeader: string;
  /** Optional threshold on the share of requests served on the gateway's own node (0..1). */
  readonly localMin: number | undefined;
}

export const HTTP_DEFAULTS = {
  GATEWAYS: '127.0.0.1:8080',
  HOST: 'hello.default.example.com',
  PATH: '/',
  RATE: 20,
  DURATION: '1m',
  PRE_ALLOCATED_VUS: 10,
  MAX_VUS: 100,
  TIMEOUT: '10s',
  P95_MS: 250,
  MAX_DROPPED_RATIO: 0.01,
  SERVED_BY_HEADER: 'x-served-by-node',
} as const;

/** GATEWAYS="edge-1=10.0.0.5:8080,edge-2=10.0.0.6:8080" or just "10.0.0.5:8080,10.0.0.6:8080". */
export function parseGateways(list: readonly string[]): Gateway[] {
  const seen = new Set<string>();
  return list.map((item) => {
    const eq = item.indexOf('=');
    const node = eq >= 0 ? item.slice(0, eq).trim() : '';
    const address = checkAddress('GATEWAYS', (eq >= 0 ? item.slice(eq + 1) : item).trim());
    if (eq >= 0 && node === '') throw new Error(`GATEWAYS: "${item}" has an empty node name before '='`);
    const label = slug(node || address.replace(/[[\]]/g, '').replace(/:/g, '_'));
    if (seen.has(label)) throw new Error(`GATEWAYS: "${item}" appears twice`);
    seen.add(label);
    return { scenario: `gw_${label}`, label, address, node };
  });
}

export function httpConfig(env: Env): HttpConfig {
  const gateways = parseGateways(listEnv(env, 'GATEWAYS', [HTTP_DEFAULTS.GATEWAYS]));
  const ratePerGateway = intEnv(env, 'RATE', HTTP_DEFAULTS.RATE, 1);
  const duration = durationEnv(env, 'DURATION', HTTP_DEFAULTS.DURATION);
  const preAllocatedVUs = intEnv(env, 'PRE_ALLOCATED_VUS', HTTP_DEFAULTS.PRE_ALLOCATED_VUS, 1);
  const maxVUs = intEnv(env, 'MAX_VUS', Math.max(HTTP_DEFAULTS.MAX_VUS, preAllocatedVUs), 1);
  if (maxVUs < preAllocatedVUs) throw new Error(`MAX_VUS=${maxVUs} is below PRE_ALLOCATED_VUS=${preAllocatedVUs}`);
  const path = stringEnv(env, 'URL_PATH', HTTP_DEFAULTS.PATH);
  if (!path.startsWith('/')) throw new Error(`URL_PATH=${path}: must start with /`);
  const expected = ratePerGateway * gateways.length * durationSeconds(duration);
  const ratio = numberEnv(env, 'MAX_DROPPED_RATIO', HTTP_DEFAULTS.MAX_DROPPED_RATIO, 0);
  return {
    gateways,
    host: stringEnv(env, 'HOST', HTTP_DEFAULTS.HOST),
    path,
    ratePerGateway,
    duration,
    preAllocatedVUs,
    maxVUs,
    timeout: durationEnv(env, 'TIMEOUT', HTTP_DEFAULTS.TIMEOUT),
    p95Ms: numberEnv(env, 'P95_MS', HTTP_DEFAULTS.P95_MS, 1),
    maxDropped: Math.floor(expected * ratio),
    servedByHeader: stringEnv(env, 'SERVED_BY_HEADER', HTTP_DEFAULTS.SERVED_BY_HEADER).toLowerCase(),
    localMin: optionalNumberEnv(env, 'LOCAL_MIN', 0, 1),
  };
}

export function httpOptions(c: HttpConfig): Options {
  const scenarios: Record<string, Scenario> = {};
  const thresholds: Record<string, string[]> = {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(95)<${c.p95Ms}`],
    dropped_iterations: [`count<=${c.maxDropped}`],
    checks: ['rate>0.99'],
  };
  for (const g of c.gateways) {
    scenarios[g.scenario] = {
      executor: 'constant-arrival-rate',
      rate: c.ratePerGateway,
      timeUnit: '1s',
      duration: c.duration,
      preAllocatedVUs: c.preAllocatedVUs,
      maxVUs: c.maxVUs,
      gracefulStop: c.timeout,
      exec: 'gateway',
      env: { GATEWAY_ADDR: g.address, GATEWAY_LABEL: g.label, GATEWAY_NODE: g.node },
      tags: { gateway: g.label },
    };
    // Per-gateway submetrics: one slow or failing entry point must not hide behind the others.
    thresholds[`http_req_failed{gateway:${g.label}}`] = ['rate<0.01'];
    thresholds[`http_req_duration{gateway:${g.label}}`] = [`p(95)<${c.p95Ms}`];
  }
  if (c.localMin !== undefined) thresholds['proxima_served_local'] = [`rate>=${c.localMin}`];
  return {
    scenarios,
    thresholds,
    discardResponseBodies: true,
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}

/** Case-insensitive response header lookup (k6 canonicalises names: X-Served-By-Node). */
export function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const k of Object.keys(headers)) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}
