import { existsSync, readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { decodeStrict } from '../src/protos/strict-json.js';

/**
 * Just enough of k6's JavaScript API to run the k6 scripts of loadtest/ inside Node tests: metrics
 * and checks are recorded; `k6/net/grpc` is real (protobufjs loads the protos from the script's own
 * import paths; requests are decoded strictly like protojson, so an unknown or misspelt field fails;
 * streams are real @grpc/grpc-js calls); `k6/http` answers from a test-provided responder, since
 * k6's synchronous HTTP cannot be reproduced in Node.
 */

export interface Sample {
  readonly value: number;
  readonly tags: Readonly<Record<string, string>>;
}
export interface MetricRecord {
  readonly name: string;
  readonly type: 'counter' | 'rate' | 'trend' | 'gauge';
  readonly isTime: boolean;
  readonly samples: Sample[];
}
export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string>;
}

const require = createRequire(import.meta.url);

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return dir;
}
export const LOADTEST_DIR = join(packageRoot(), 'loadtest');

class K6State {
  readonly metrics = new Map<string, MetricRecord>();
  readonly checks: Array<{ name: string; pass: boolean }> = [];
  readonly httpCalls: Array<{ url: string; params: Record<string, unknown> }> = [];
  readonly protoLoads: Array<{ importPaths: string[]; files: string[] }> = [];
  readonly connects: Array<{ address: string; params: unknown }> = [];
  /** Exceptions thrown by script callbacks (k6 would fail the iteration). */
  readonly errors: unknown[] = [];
  readonly execution = { scenario: { name: 'default', iterationInTest: 0 }, vu: { idInTest: 1 } };
  httpResponder: (url: string, params: Record<string, unknown>) => HttpReply = () => ({ status: 200, headers: {} });
  private open = 0;
  private waiters: Array<() => void> = [];
  private readonly channels: grpc.Client[] = [];

  reset(): void {
    this.metrics.clear();
    for (const a of [this.checks, this.httpCalls, this.protoLoads, this.connects, this.errors]) a.length = 0;
    this.execution.scenario.iterationInTest = 0;
    this.httpResponder = () => ({ status: 200, headers: {} });
    this.closeChannels();
  }

  samples(name: string): Sample[] {
    return this.metrics.get(name)?.samples ?? [];
  }

  streamOpened(): void {
    this.open++;
  }
  streamClosed(): void {
    this.open--;
    if (this.open === 0) for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves once every gRPC stream has closed (k6 ends an iteration when its event loop is empty). */
  idle(timeoutMs = 5000): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`k6 shim: ${this.open} streams still open after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        res();
      });
    });
  }
  addChannel(c: grpc.Client): void {
    this.channels.push(c);
  }
  closeChannels(): void {
    for (const c of this.channels.splice(0)) c.close();
  }
}

export const k6 = new K6State();

function metricClass(type: MetricRecord['type']) {
  return class {
    readonly name: string;
    constructor(name: string, isTime = false) {
      if (k6.metrics.has(name)) throw new Error(`k6 shim: metric ${name} defined twice`);
      this.name = name;
      k6.metrics.set(name, { name, type, isTime, samples: [] });
    }
    add(value: number | boolean, tags: Record<string, string> = {}): void {
      const v = type === 'rate' ? (value ? 1 : 0) : Number(value);
      if (!Number.isFinite(v)) throw new Error(`k6 shim: ${this.name}.add(${String(value)}) is not a number`);
      k6.metrics.get(this.name)!.samples.push({ value: v, tags: { ...tags } });
    }
  };
}

function check<T>(value: T, sets: Record<string, (v: T) => unknown>): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const pass = Boolean(fn(value));
    k6.checks.push({ name, pass });
    all &&= pass;
  }
  return all;
}

class Client {
  root: protobuf.Root | undefined;
  channel: grpc.Client | undefined;

  load(importPaths: string[], ...files: string[]): void {
    k6.protoLoads.push({ importPaths, files });
    // k6 resolves relative import paths against the script's directory.
    const dirs = importPaths.map((p) => (isAbsolute(p) ? p : resolve(LOADTEST_DIR, p)));
    for (const d of dirs) if (!existsSync(d)) throw new Error(`k6 shim: import path ${d} does not exist`);
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => {
      for (const d of dirs) if (existsSync(join(d, target))) return join(d, target);
      return target;
    };
    root.loadSync(files, { keepCase: true });
    root.resolveAll();
    this.root = root;
  }

  loadProtoset(path: string): void {
    k6.protoLoads.push({ importPaths: [], files: [path] });
    // The descriptor extension adds Root.fromDescriptor (FileDescriptorSet bytes, as protoc -o writes).
    require('protobufjs/ext/descriptor');
    const fromDescriptor = (protobuf.Root as unknown as { fromDescriptor(b: Buffer): protobuf.Root }).fromDescriptor;
    const root = fromDescriptor(readFileSync(isAbsolute(path) ? path : resolve(LOADTEST_DIR, path)));
    root.resolveAll();
    this.root = root;
  }

  connect(address: string, params: unknown): void {
    k6.connects.push({ address, params });
    this.channel = new grpc.Client(address, grpc.credentials.createInsecure());
    k6.addChannel(this.channel);
  }

  close(): void {
    this.channel?.close();
  }
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** protojson output: lowerCamelCase names (bytes already base64 via toObject). */
function toProtoJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toProtoJson);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), toProtoJson(x)]));
}

type Listener = (data: unknown, meta: { ts: number }) => void;

class Stream {
  private readonly listeners: Record<string, Listener[]> = { data: [], error: [], end: [] };
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly reqType: protobuf.Type;
  private readonly root: protobuf.Root;

  constructor(client: Client, url: string, _params?: unknown) {
    if (!client.root || !client.channel) throw new Error('k6 shim: Stream before client.load/connect');
    const slash = url.lastIndexOf('/');
    const method = client.root.lookupService(url.slice(0, slash)).methods[url.slice(slash + 1)];
    if (!method) throw new Error(`k6 shim: no method ${url}`);
    method.resolve();
    this.root = client.root;
    this.reqType = method.resolvedRequestType!;
    const resType = method.resolvedResponseType!;
    const id = (b: Buffer) => b;
    this.call = client.channel.makeBidiStreamRequest(`/${url}`, id, id);
    k6.streamOpened();
    let closed = false;
    const close = (event: 'end' | 'error', data: unknown) => {
      if (closed) return;
      closed = true;
      this.emit(event, data);
      k6.streamClosed();
    };
    this.call.on('data', (buf: Buffer) => {
      const obj = resType.toObject(resType.decode(buf), { longs: String, enums: String, bytes: String, defaults: false, json: true });
      this.emit('data', toProtoJson(obj));
    });
    this.call.on('error', (err: grpc.ServiceError) => close('error', { code: err.code, message: err.message, details: [err.details] }));
    this.call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) close('end', undefined);
    });
  }

  on(event: string, fn: Listener): void {
    (this.listeners[event] ??= []).push(fn);
  }

  write(message: object): void {
    const r = decodeStrict(this.reqType.fullName, message, { root: this.root });
    if (!r.ok) throw new Error(`k6 shim: message is not valid protojson for ${this.reqType.fullName}: ${r.errors.join('; ')}`);
    this.call.write(Buffer.from(this.reqType.encode(r.message).finish()));
  }

  end(): void {
    this.call.end();
  }

  private emit(event: string, data: unknown): void {
    for (const fn of this.listeners[event] ?? []) {
      try {
        fn(data, { ts: Date.now() });
      } catch (err) {
        k6.errors.push(err);
      }
    }
  }
}

const b64encode = (s: string | ArrayBuffer) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)).toString('base64');
const b64decode = (s: string, _enc?: string, format?: string) => {
  const b = Buffer.from(s, 'base64');
  return format === 's' ? b.toString('utf8') : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};

export const k6modules: Record<string, unknown> = {
  k6: {
    check,
    sleep: () => undefined,
    fail: (msg: string) => {
      throw new Error(msg);
    },
    group: <T>(_name: string, fn: () => T) => fn(),
  },
  'k6/http': {
    get(url: string, params: Record<string, unknown> = {}) {
      k6.httpCalls.push({ url, params });
      return { ...k6.httpResponder(url, params), url };
    },
  },
  'k6/metrics': { Counter: metricClass('counter'), Rate: metricClass('rate'), Trend: metricClass('trend'), Gauge: metricClass('gauge') },
  'k6/net/grpc': { Client, Stream, StatusOK: grpc.status.OK },
  'k6/timers': { setTimeout, clearTimeout },
  'k6/encoding': { b64encode, b64decode },
  'k6/execution': k6.execution,
};

let registered = false;
let generation = 0;

/**
 * Import a k6 script of loadtest/ afresh with `env` as __ENV (a new module instance each call, so
 * init code and `options` see this env). Returns the module's exports.
 */
export async function importK6Script(file: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  if (!registered) {
    register(new URL('./loadtest-k6-hooks.js', import.meta.url).href, {
      data: { shimUrl: import.meta.url, loadtestUrl: pathToFileURL(LOADTEST_DIR).href + '/' },
    });
    registered = true;
  }
  k6.reset();
  setK6Env(env);
  return (await import(`${pathToFileURL(join(LOADTEST_DIR, file)).href}?case=${++generation}`)) as Record<string, unknown>;
}

/** Set __ENV (e.g. the init env merged with a scenario's `env`, as k6 does for that scenario's VUs). */
export function setK6Env(env: Record<string, string>): void {
  const g = globalThis as Record<string, unknown>;
  g['__ENV'] = { ...env };
  g['__VU'] = 1;
  g['__ITER'] = 0;
}
