import type { Options } from 'k6/options';
import { boolEnv, checkAddress, durationEnv, durationSeconds, intEnv, listEnv, numberEnv, stringEnv, type Env } from './env.ts';
import { EXTPROC_PROTO, PROTO_SUBDIRS, type HeaderEncoding } from './extproc-messages.ts';

/** Configuration and k6 options of extproc-grpc.ts. Pure: built from __ENV. */

export interface ExtProcConfig {
  readonly address: string;
  /** Import paths and proto file for client.load, or a protoset for client.loadProtoset. */
  readonly protos:
    | { readonly kind: 'dir'; readonly importPaths: readonly string[]; readonly file: string }
    | { readonly kind: 'protoset'; readonly path: string };
  /** :authority values, cycled per iteration. */
  readonly hosts: readonly string[];
  /** x-proxima-node values (gateway nodes), cycled per iteration. */
  readonly nodes: readonly string[];
  readonly rate: number;
  readonly duration: string;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  readonly encoding: HeaderEncoding;
  /** Every request must get x-proxima-destination (false when testing fail-open with unknown hosts). */
  readonly expectDestination: boolean;
  /** A stream with no reply within this long counts as failed and is ended. */
  readonly streamTimeoutMs: number;
  readonly decisionP95Ms: number;
  readonly decisionP99Ms: number;
}

export const EXTPROC_DEFAULTS = {
  EXTPROC_ADDR: '127.0.0.1:18001',
  PROTO_DIR: '../node_modules/@grpc/grpc-js-xds/deps',
  HOSTS: 'hello.default.example.com',
  NODES: 'edge-1',
  RATE: 200,
  DURATION: '1m',
  PRE_ALLOCATED_VUS: 20,
  MAX_VUS: 200,
  STREAM_TIMEOUT_MS: 1000,
  DECISION_P95_MS: 10,
  DECISION_P99_MS: 50,
} as const;

export function extprocConfig(env: Env): ExtProcConfig {
  const protoset = stringEnv(env, 'PROTOSET', '');
  const dir = stringEnv(env, 'PROTO_DIR', EXTPROC_DEFAULTS.PROTO_DIR).replace(/\/+$/, '');
  const encoding = stringEnv(env, 'HEADER_ENCODING', 'raw');
  if (encoding !== 'raw' && encoding !== 'value') throw new Error(`HEADER_ENCODING=${encoding}: expected raw or value`);
  const preAllocatedVUs = intEnv(env, 'PRE_ALLOCATED_VUS', EXTPROC_DEFAULTS.PRE_ALLOCATED_VUS, 1);
  const maxVUs = intEnv(env, 'MAX_VUS', Math.max(EXTPROC_DEFAULTS.MAX_VUS, preAllocatedVUs), 1);
  if (maxVUs < preAllocatedVUs) throw new Error(`MAX_VUS=${maxVUs} is below PRE_ALLOCATED_VUS=${preAllocatedVUs}`);
  return {
    address: checkAddress('EXTPROC_ADDR', stringEnv(env, 'EXTPROC_ADDR', EXTPROC_DEFAULTS.EXTPROC_ADDR)),
    protos: protoset
      ? { kind: 'protoset', path: protoset }
      : { kind: 'dir', importPaths: PROTO_SUBDIRS.map((d) => `${dir}/${d}`), file: EXTPROC_PROTO },
    hosts: listEnv(env, 'HOSTS', [EXTPROC_DEFAULTS.HOSTS]),
    nodes: listEnv(env, 'NODES', [EXTPROC_DEFAULTS.NODES]),
    rate: intEnv(env, 'RATE', EXTPROC_DEFAULTS.RATE, 1),
    duration: durationEnv(env, 'DURATION', EXTPROC_DEFAULTS.DURATION),
    preAllocatedVUs,
    maxVUs,
    encoding,
    expectDestination: boolEnv(env, 'EXPECT_DESTINATION', true),
    streamTimeoutMs: intEnv(env, 'STREAM_TIMEOUT_MS', EXTPROC_DEFAULTS.STREAM_TIMEOUT_MS, 1),
    decisionP95Ms: numberEnv(env, 'DECISION_P95_MS', EXTPROC_DEFAULTS.DECISION_P95_MS, 0),
    decisionP99Ms: numberEnv(env, 'DECISION_P99_MS', EXTPROC_DEFAULTS.DECISION_P99_MS, 0),
  };
}

export function extprocOptions(c: ExtProcConfig): Options {
  const expected = c.rate * durationSeconds(c.duration);
  const thresholds: Record<string, string[]> = {
    proxima_extproc_decision_ms: [`p(95)<${c.decisionP95Ms}`, `p(99)<${c.decisionP99Ms}`],
    proxima_extproc_stream_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    dropped_iterations: [`count<=${Math.floor(expected * 0.01)}`],
  };
  if (c.expectDestination) thresholds['proxima_extproc_routed'] = ['rate>0.99'];
  return {
    scenarios: {
      extproc: {
        executor: 'constant-arrival-rate',
        rate: c.rate,
        timeUnit: '1s',
        duration: c.duration,
        preAllocatedVUs: c.preAllocatedVUs,
        maxVUs: c.maxVUs,
        gracefulStop: '5s',
        exec: 'decide',
      },
    },
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}
