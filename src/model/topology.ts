import { LineCounter, parseDocument, isNode, visit, type Document } from 'yaml';
import type { Endpoint, LatencyEntry, ModelDefaults, NodeInfo, Service, ServicePlatform, ServiceProtocol, Topology } from './types.js';
import { DEFAULT_MODEL_DEFAULTS } from './types.js';

/** One problem in a topology document, with the field path and (when known) the 1-based line and column. */
export interface TopologyError {
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** `errors` holds at most MAX_TOPOLOGY_ERRORS entries; `moreErrors` counts the rest. */
export type TopologyResult = { ok: true; topology: Topology } | { ok: false; errors: TopologyError[]; moreErrors?: number };

/** A broken file can hold a million errors; a person reads the first few, a log line must stay small. */
export const MAX_TOPOLOGY_ERRORS = 50;
const MAX_MESSAGE_CHARS = 300;

export function formatTopologyError(e: TopologyError): string {
  const at = e.line === undefined ? '' : `line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''}: `;
  return `${at}${e.path}: ${e.message}`;
}

export function formatTopologyErrors(errors: readonly TopologyError[], moreErrors = 0): string {
  const lines = errors.map(formatTopologyError);
  if (moreErrors > 0) lines.push(`… and ${moreErrors} more`);
  return lines.join('\n');
}

function capped(errors: readonly TopologyError[]): { ok: false; errors: TopologyError[]; moreErrors?: number } {
  const shown = errors.slice(0, MAX_TOPOLOGY_ERRORS).map((e) => ({
    ...e,
    path: e.path.length > MAX_MESSAGE_CHARS ? `${e.path.slice(0, MAX_MESSAGE_CHARS)}…` : e.path,
    message: e.message.length > MAX_MESSAGE_CHARS ? `${e.message.slice(0, MAX_MESSAGE_CHARS)}…` : e.message,
  }));
  return errors.length > shown.length
    ? { ok: false, errors: shown, moreErrors: errors.length - shown.length }
    : { ok: false, errors: shown };
}

const PROTOCOLS: readonly ServiceProtocol[] = ['http', 'h2c', 'grpc'];
const PLATFORMS: readonly ServicePlatform[] = ['knative', 'openfaas', 'service'];
const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SERVICE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const HOST_RE = /^(\*\.)?[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?$/;

type Path = (string | number)[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parse and validate a topology document (YAML or JSON). Collects every error with its field path
 * and line; returns a topology only when there are none.
 */
export function parseTopology(text: string): TopologyResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return capped(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return { path: '(document)', message: e.message.split('\n')[0] ?? e.message, ...(pos ? { line: pos.line, column: pos.col } : {}) };
      }),
    );
  }
  const unresolved: TopologyError[] = [];
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return;
      const pos = node.range ? lineCounter.linePos(node.range[0]) : undefined;
      unresolved.push({
        path: '(document)',
        message: `alias *${node.source} names no anchor defined before it`,
        ...(pos ? { line: pos.line, column: pos.col } : {}),
      });
    },
  });
  if (unresolved.length) return capped(unresolved);
  let data: unknown;
  try {
    // Resolving the document can still fail, e.g. an alias to an anchor that does not exist (`*typo`),
    // and an alias bomb is cut off by maxAliasCount.
    data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (err) {
    return capped([{ path: '(document)', message: String((err as Error)?.message ?? err).split('\n')[0]! }]);
  }
  const v = new Validator(doc, lineCounter);
  const topology = v.topology(data);
  return v.errors.length > 0 || !topology ? capped(v.errors) : { ok: true, topology };
}

class Validator {
  readonly errors: TopologyError[] = [];
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private positionOf(path: Path): { line: number; column: number } | undefined {
    for (let p = path; p.length > 0; p = p.slice(0, -1)) {
      const node = this.doc.getIn(p, true);
      if (isNode(node) && node.range) {
        const pos = this.lines.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return undefined;
  }

  private fail(path: Path, message: string): undefined {
    // Past the errors anyone will see, count without looking up positions (a huge broken file stays cheap).
    const position = this.errors.length < MAX_TOPOLOGY_ERRORS ? this.positionOf(path) : undefined;
    this.errors.push({ path: formatPath(path), message, ...position });
    return undefined;
  }

  private unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: Path): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }

  private str(obj: Record<string, unknown>, field: string, path: Path, re?: RegExp, what?: string): string | undefined {
    const v = obj[field];
    if (typeof v !== 'string' || v.length === 0) return this.fail([...path, field], 'required, a non-empty string');
    if (re && !re.test(v)) return this.fail([...path, field], `"${v}" is not a valid ${what ?? field}`);
    return v;
  }

  private num(
    obj: Record<string, unknown>,
    field: string,
    path: Path,
    opts: { min: number; max: number; integer?: boolean },
    fallback?: number,
  ): number | undefined {
    const v = obj[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail([...path, field], 'required, a number');
    if (opts.integer && !Number.isInteger(v)) return this.fail([...path, field], `${v} is not an integer`);
    if (v < opts.min || v > opts.max) return this.fail([...path, field], `${v} is out of range [${opts.min}, ${opts.max}]`);
    return v;
  }

  topology(root: unknown): Topology | undefined {
    if (!isObject(root)) return this.fail([], 'the document must be a mapping with nodes, latency and services');
    this.unknownKeys(root, ['nodes', 'latency', 'services', 'defaults'], []);
    const defaults = this.defaults(root['defaults']);
    const nodes = this.nodes(root['nodes']);
    const names = new Set(nodes.map((n) => n.name));
    const latency = this.latency(root['latency'], names);
    const services = this.services(root['services'], names, defaults);
    if (!defaults) return undefined;
    return { nodes, latency, services, defaults };
  }

  private defaults(raw: unknown): ModelDefaults | undefined {
    if (raw === undefined) return DEFAULT_MODEL_DEFAULTS;
    const path: Path = ['defaults'];
    if (!isObject(raw)) return this.fail(path, 'must be a mapping');
    this.unknownKeys(raw, ['rttMs', 'localRttMs', 'capacity', 'serviceTimeMs', 'demandRps'], path);
    const d = DEFAULT_MODEL_DEFAULTS;
    const out = {
      rttMs: this.num(raw, 'rttMs', path, { min: 0, max: 60_000 }, d.rttMs),
      localRttMs: this.num(raw, 'localRttMs', path, { min: 0, max: 60_000 }, d.localRttMs),
      capacity: this.num(raw, 'capacity', path, { min: 1, max: 1_000_000, integer: true }, d.capacity),
      serviceTimeMs: this.num(raw, 'serviceTimeMs', path, { min: 0, max: 3_600_000 }, d.serviceTimeMs),
      demandRps: this.num(raw, 'demandRps', path, { min: 0, max: 1e9 }, d.demandRps),
    };
    if (Object.values(out).some((v) => v === undefined)) return undefined;
    return Object.freeze(out as unknown as ModelDefaults);
  }

  private nodes(raw: unknown): NodeInfo[] {
    if (!Array.isArray(raw) || raw.length === 0) {
      this.fail(['nodes'], 'required, a non-empty list of nodes');
      return [];
    }
    const out: NodeInfo[] = [];
    const seen = new Set<string>();
    raw.forEach((n, i) => {
      const path: Path = ['nodes', i];
      if (!isObject(n)) return this.fail(path, 'must be a mapping with name and zone');
      this.unknownKeys(n, ['name', 'zone', 'region', 'labels', 'ready'], path);
      const name = this.str(n, 'name', path, NAME_RE, 'node name (lowercase DNS label)');
      if (name && seen.has(name)) return this.fail([...path, 'name'], `duplicate node "${name}"`);
      if (name) seen.add(name);
      const zone = n['zone'] === undefined ? 'default' : this.str(n, 'zone', path);
      const region = n['region'] === undefined ? 'default' : this.str(n, 'region', path);
      let labels: Record<string, string> = {};
      if (n['labels'] !== undefined) {
        if (!isObject(n['labels']) || Object.values(n['labels']).some((x) => typeof x !== 'string')) {
          this.fail([...path, 'labels'], 'must be a mapping of strings');
        } else labels = n['labels'] as Record<string, string>;
      }
      if (n['ready'] !== undefined && typeof n['ready'] !== 'boolean') this.fail([...path, 'ready'], 'must be true or false');
      if (name && zone && region) out.push({ name, zone, region, labels, ready: n['ready'] !== false });
      return undefined;
    });
    return out;
  }

  private latency(raw: unknown, nodes: ReadonlySet<string>): LatencyEntry[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) {
      this.fail(['latency'], 'must be a list of {from, to, rtt}');
      return [];
    }
    const out: LatencyEntry[] = [];
    const seen = new Set<string>();
    raw.forEach((l, i) => {
      const path: Path = ['latency', i];
      if (!isObject(l)) return this.fail(path, 'must be a mapping {from, to, rtt}');
      this.unknownKeys(l, ['from', 'to', 'rtt'], path);
      const from = this.str(l, 'from', path);
      const to = this.str(l, 'to', path);
      const rtt = this.num(l, 'rtt', path, { min: 0, max: 60_000 });
      if (from && !nodes.has(from)) this.fail([...path, 'from'], `unknown node "${from}"`);
      if (to && !nodes.has(to)) this.fail([...path, 'to'], `unknown node "${to}"`);
      if (from && to && from === to) this.fail([...path, 'to'], 'from and to must differ (RTT inside a node is defaults.localRttMs)');
      if (from && to) {
        const k = `${from}->${to}`;
        if (seen.has(k)) this.fail(path, `duplicate latency entry ${from} -> ${to}`);
        seen.add(k);
      }
      if (from && to && rtt !== undefined && nodes.has(from) && nodes.has(to) && from !== to) out.push({ from, to, rttMs: rtt });
      return undefined;
    });
    return out;
  }

  private services(raw: unknown, nodes: ReadonlySet<string>, defaults: ModelDefaults | undefined): Service[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) {
      this.fail(['services'], 'must be a list of services');
      return [];
    }
    const out: Service[] = [];
    const seenNames = new Set<string>();
    const hostOwner = new Map<string, string>();
    raw.forEach((s, i) => {
      const path: Path = ['services', i];
      if (!isObject(s)) return this.fail(path, 'must be a mapping with name, hosts and endpoints');
      this.unknownKeys(s, ['name', 'hosts', 'protocol', 'endpoints', 'activators', 'capacity', 'platform'], path);
      const name = this.str(s, 'name', path, SERVICE_RE, 'service name (namespace/name)');
      if (name && seenNames.has(name)) return this.fail([...path, 'name'], `duplicate service "${name}"`);
      if (name) seenNames.add(name);
      const protocol = (s['protocol'] ?? 'http') as ServiceProtocol;
      if (!PROTOCOLS.includes(protocol)) this.fail([...path, 'protocol'], `must be one of ${PROTOCOLS.join(', ')}`);
      const platform = s['platform'] as ServicePlatform | undefined;
      if (platform !== undefined && !PLATFORMS.includes(platform))
        this.fail([...path, 'platform'], `must be one of ${PLATFORMS.join(', ')}`);
      const hosts: string[] = [];
      if (s['hosts'] !== undefined) {
        if (!Array.isArray(s['hosts'])) this.fail([...path, 'hosts'], 'must be a list of host names');
        else
          s['hosts'].forEach((h: unknown, j: number) => {
            if (typeof h !== 'string' || !HOST_RE.test(h)) return this.fail([...path, 'hosts', j], `"${String(h)}" is not a valid host`);
            const owner = hostOwner.get(h);
            if (owner) return this.fail([...path, 'hosts', j], `host "${h}" already belongs to service "${owner}"`);
            hostOwner.set(h, name ?? `services[${i}]`);
            hosts.push(h);
            return undefined;
          });
      }
      const serviceCapacity =
        s['capacity'] === undefined ? undefined : this.num(s, 'capacity', path, { min: 1, max: 1_000_000, integer: true });
      const endpoints = this.endpoints(
        s['endpoints'],
        [...path, 'endpoints'],
        nodes,
        serviceCapacity ?? defaults?.capacity ?? DEFAULT_MODEL_DEFAULTS.capacity,
      );
      const activators = this.endpoints(
        s['activators'],
        [...path, 'activators'],
        nodes,
        serviceCapacity ?? defaults?.capacity ?? DEFAULT_MODEL_DEFAULTS.capacity,
      );
      if (name && PROTOCOLS.includes(protocol))
        out.push({
          name,
          hosts,
          protocol,
          endpoints,
          ...(activators.length ? { activators } : {}),
          ...(platform && PLATFORMS.includes(platform) ? { platform } : {}),
        });
      return undefined;
    });
    return out;
  }

  private endpoints(raw: unknown, path: Path, nodes: ReadonlySet<string>, defaultCapacity: number): Endpoint[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) {
      this.fail(path, 'must be a list of endpoints');
      return [];
    }
    const out: Endpoint[] = [];
    const seen = new Set<string>();
    raw.forEach((e, i) => {
      const p: Path = [...path, i];
      if (!isObject(e)) return this.fail(p, 'must be a mapping {address, port, node}');
      this.unknownKeys(e, ['address', 'port', 'node', 'ready', 'capacity'], p);
      const address = this.str(e, 'address', p);
      if (address && !isIp(address)) this.fail([...p, 'address'], `"${address}" is not an IPv4 or IPv6 address`);
      const port = this.num(e, 'port', p, { min: 1, max: 65535, integer: true });
      const node = this.str(e, 'node', p);
      if (node && !nodes.has(node)) this.fail([...p, 'node'], `unknown node "${node}"`);
      if (e['ready'] !== undefined && typeof e['ready'] !== 'boolean') this.fail([...p, 'ready'], 'must be true or false');
      const capacity = this.num(e, 'capacity', p, { min: 1, max: 1_000_000, integer: true }, defaultCapacity);
      if (address && port !== undefined) {
        const k = `${address}:${port}`;
        if (seen.has(k)) this.fail(p, `duplicate endpoint ${k}`);
        seen.add(k);
      }
      if (address && isIp(address) && port !== undefined && node && nodes.has(node) && capacity !== undefined) {
        out.push({ address, port, node, ready: e['ready'] !== false, capacity });
      }
      return undefined;
    });
    return out;
  }
}

function isIp(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) return s.split('.').every((o) => Number(o) <= 255);
  return /^[0-9a-fA-F:]+$/.test(s) && s.includes(':');
}

function formatPath(path: Path): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
