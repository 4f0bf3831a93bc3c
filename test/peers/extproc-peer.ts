/**
 * Shared fixtures for the ext_proc tests and benchmark: a real ExtProcServer on loopback over a
 * topology, the independent Python client (protoc-generated classes, Debian grpcio), and a small
 * grpc-js client that speaks the raw protocol.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { AssignmentEngine } from '../../src/engine/assignments.js';
import { encodeRequest, decodeResponse } from '../../src/extproc/codec.js';
import { ExtProcServer, EXTPROC_METHOD_PATH, type ExtProcServerOptions } from '../../src/extproc/server.js';
import { silentLogger } from '../../src/log.js';
import { ModelStore } from '../../src/model/store.js';
import { parseTopology } from '../../src/model/topology.js';
import { nearestPolicy } from '../../src/policy/nearest.js';
import { PROTO_INCLUDE_DIRS } from '../../src/protos/envoy.js';
import { listenFront } from '../../src/net/front-listener.js';
import { DEBIAN_PEERS, missingPeers } from '../helpers/debian-peers.js';

/** A decoded protobuf/JSON tree: walked by tests, asserted field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

const here = dirname(fileURLToPath(import.meta.url));
// The repo test/peers folder (this file runs from a build dir such as dist/test/peers).
export const PEERS_DIR = resolve(here, '..', '..', '..', 'test', 'peers');
export const PYTHON = '/usr/bin/python3';

export const TOPOLOGY = `
defaults: { rttMs: 50, localRttMs: 0.2, capacity: 10, serviceTimeMs: 10 }
nodes:
  - { name: edge-1, zone: edge-a, region: edge }
  - { name: edge-2, zone: edge-b, region: edge }
  - { name: cloud-1, zone: cloud-a, region: cloud }
latency:
  - { from: edge-1, to: edge-2, rtt: 20 }
  - { from: edge-1, to: cloud-1, rtt: 50 }
  - { from: edge-2, to: cloud-1, rtt: 100 }
services:
  - name: default/hello
    hosts: [hello.default.svc.cluster.local, hello.default.example.com]
    endpoints:
      - { address: 10.0.1.1, port: 8012, node: edge-1, capacity: 1 }
      - { address: 10.0.2.1, port: 8012, node: edge-2, capacity: 1 }
      - { address: 10.0.3.1, port: 8012, node: cloud-1, capacity: 50 }
`;

export interface Fixture {
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly extproc: ExtProcServer;
  readonly registry: Registry;
  readonly target: string;
  close(): Promise<void>;
}

export async function startFixture(
  opts: Partial<ExtProcServerOptions> = {},
  topology = TOPOLOGY,
  maxStreamsPerConnection = 1000,
): Promise<Fixture> {
  const parsed = parseTopology(topology);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const store = new ModelStore();
  store.replaceTopology(parsed.topology);
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  const registry = new Registry();
  const extproc = new ExtProcServer({ store, engine, log: silentLogger(), registry, ...opts });
  // As `proxima serve` runs it: the node:http2 transport behind a front listener.
  const transport = extproc.transport({ maxMessageBytes: 4 * 1024 * 1024, maxStreamsPerConnection });
  const front = await listenFront(
    { host: '127.0.0.1', port: 0 },
    { maxPerPeer: 1000, maxTotal: 1000 },
    (socket) => transport.accept(socket),
    () => undefined,
  );
  const port = front.port;
  return {
    store,
    engine,
    extproc,
    registry,
    target: `127.0.0.1:${port}`,
    async close() {
      extproc.close();
      engine.stop();
      await transport.close();
      await front.close();
    },
  };
}

/** Why the Python peer cannot run here, or undefined when it can. */
export function pythonPeerMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const p = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' });
  if (p.status !== 0) return `python3-grpcio / python3-protobuf missing: ${p.stderr.trim()}`;
  return missingPeers(DEBIAN_PEERS.protoc, DEBIAN_PEERS.protobufIncludes);
}

/** Every .proto reachable from `entry` through imports, except google/protobuf/* (python ships them). */
function protoClosure(entry: string, includes: readonly string[]): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f) || f.startsWith('google/protobuf/')) continue;
    seen.add(f);
    const dir = includes.find((d) => existsSync(join(d, f)));
    if (!dir) throw new Error(`proto ${f} not found`);
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/^import\s+(?:public\s+)?"([^"]+)";/gm)) stack.push(m[1]!);
  }
  return [...seen].sort();
}

/**
 * protoc --python_out for the ext_proc protos and their imports into a temp dir. The bundled (old)
 * validate.proto lacks `ignore_empty` (field 26 of StringRules), which Envoy's protos use: a patched
 * copy goes first on the include path.
 */
export function generatePythonProtos(): string {
  const out = mkdtempSync(join(tmpdir(), 'proxima-extproc-py-'));
  const patched = join(out, 'include');
  mkdirSync(join(patched, 'validate'), { recursive: true });
  const pgv = PROTO_INCLUDE_DIRS.find((d) => d.endsWith('protoc-gen-validate'))!;
  const validate = readFileSync(join(pgv, 'validate', 'validate.proto'), 'utf8');
  const anchor = /(optional bool strict\s*=\s*25[^;]*;)/;
  if (!anchor.test(validate)) throw new Error('validate.proto: StringRules.strict not found; cannot add ignore_empty');
  writeFileSync(join(patched, 'validate', 'validate.proto'), validate.replace(anchor, '$1\n  optional bool ignore_empty = 26;'));
  const includes = [patched, ...PROTO_INCLUDE_DIRS.filter((d) => existsSync(d)), '/usr/include'];
  const files = protoClosure('envoy/service/ext_proc/v3/external_processor.proto', includes);
  const gen = join(out, 'gen');
  mkdirSync(gen);
  const r = spawnSync('protoc', [...includes.map((d) => `-I${d}`), `--python_out=${gen}`, ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`protoc failed: ${r.stderr}`);
  copyFileSync(join(PEERS_DIR, 'extproc_client.py'), join(out, 'extproc_client.py'));
  return gen;
}

export function removeGenerated(genDir: string): void {
  rmSync(dirname(genDir), { recursive: true, force: true });
}

export interface PyStream {
  readonly responses: Json[];
  readonly error: string | null;
}

/** Run one Python scenario; `onPause(name)` runs at each pause step, the client resumes after it. */
export async function runPython(
  genDir: string,
  target: string,
  scenario: unknown,
  onPause?: (name: string) => Promise<void>,
): Promise<PyStream[]> {
  const file = join(dirname(genDir), `scenario-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(scenario));
  const child = spawn(PYTHON, [join(PEERS_DIR, 'extproc_client.py'), genDir, target, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    let result: PyStream[] | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const ev = JSON.parse(line) as { event: string; name?: string; streams?: PyStream[] };
      if (ev.event === 'paused') {
        await onPause?.(ev.name ?? '');
        child.stdin.write('\n');
      } else if (ev.event === 'result') result = ev.streams;
    }
    const code = await new Promise<number | null>((ok) => (child.exitCode !== null ? ok(child.exitCode) : child.once('exit', ok)));
    if (!result || code !== 0) throw new Error(`python ext_proc client failed (exit ${code}): ${stderr}`);
    return result;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(file, { force: true });
  }
}

/** A grpc-js client stream speaking raw ProcessingRequest / ProcessingResponse bytes. */
export class RawExtProcClient {
  private readonly client: grpc.Client;
  constructor(target: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.client = new grpc.Client(target, credentials, options);
  }
  open(metadata = new grpc.Metadata()): RawStream {
    const call = this.client.makeBidiStreamRequest<Buffer, Buffer>(
      EXTPROC_METHOD_PATH,
      (b) => b,
      (b) => b,
      metadata,
    );
    return new RawStream(call);
  }
  close(): void {
    this.client.close();
  }
}

export class RawStream {
  private readonly queue: Buffer[] = [];
  private waiters: Array<(b: Buffer) => void> = [];
  ended = false;
  constructor(readonly call: grpc.ClientDuplexStream<Buffer, Buffer>) {
    call.on('data', (b: Buffer) => {
      const w = this.waiters.shift();
      if (w) w(b);
      else this.queue.push(b);
    });
    call.on('error', () => undefined);
    call.on('end', () => (this.ended = true));
  }
  send(obj: Record<string, unknown>): void {
    this.call.write(encodeRequest(obj));
  }
  /** Next reply, decoded (proto field names, enums as names, bytes base64). */
  async recv(timeoutMs = 5000): Promise<Json> {
    const b =
      this.queue.shift() ??
      (await new Promise<Buffer>((ok, fail) => {
        const t = setTimeout(() => fail(new Error('no ext_proc reply')), timeoutMs);
        this.waiters.push((x) => {
          clearTimeout(t);
          ok(x);
        });
      }));
    return decodeResponse(b);
  }
}

/** request_headers as current Envoy sends them (raw_value bytes). */
export function requestHeaders(headers: Record<string, string>, raw = true): Record<string, unknown> {
  return {
    request_headers: {
      headers: { headers: Object.entries(headers).map(([key, v]) => (raw ? { key, raw_value: Buffer.from(v) } : { key, value: v })) },
      end_of_stream: true,
    },
  };
}

export function responseHeaders(status = '200'): Record<string, unknown> {
  return { response_headers: { headers: { headers: [{ key: ':status', raw_value: Buffer.from(status) }] } } };
}

/** The value of a header set by a reply (raw_value is base64 in decoded replies). */
export function setHeader(reply: Json, name: string): string | undefined {
  const set = (reply['request_headers']?.response?.header_mutation?.set_headers ?? []) as Array<{
    header: { key: string; value?: string; raw_value?: string };
  }>;
  const h = set.find((s) => s.header.key === name)?.header;
  if (!h) return undefined;
  return h.raw_value !== undefined ? Buffer.from(h.raw_value, 'base64').toString() : h.value;
}
