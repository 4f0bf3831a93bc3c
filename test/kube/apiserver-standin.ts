/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * A STAND-IN for kube-apiserver: there is no kube-apiserver on this machine, so tests run the real
 * @kubernetes/client-node clients against this in-process HTTP server, which speaks the parts of the
 * API protocol Proxima uses:
 * - list: `{kind: XList, metadata: {resourceVersion}, items}` for cluster-wide and namespaced paths;
 * - watch (`?watch=true`): a chunked stream of JSON lines `{type, object}` with ADDED / MODIFIED /
 *   DELETED from the requested resourceVersion, BOOKMARK events when `allowWatchBookmarks=true`,
 *   and an ERROR event carrying a `Status` with code 410 (then close) when that resourceVersion was
 *   compacted away; `dropWatches()` closes every open stream as an apiserver restart would;
 * - get/create (POST)/update (PUT, optimistic concurrency on resourceVersion)/delete by name, and
 *   the `status` subresource with PUT and PATCH (`application/merge-patch+json` only: RFC 7386);
 * - `failNext(n, code)` answers the next n requests with an error Status (outage / back-off tests);
 * - finalizers: DELETE of an object with `metadata.finalizers` only sets `deletionTimestamp`; the
 *   object goes once an update or merge patch empties the list; a merge patch carrying
 *   `metadata.resourceVersion` is refused with 409 when stale (optimistic concurrency).
 * Resource versions are one global counter, like etcd's revision. Label/field selectors are ignored.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ResourceDef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'serving.knative.dev', version: 'v1', plural: 'revisions', kind: 'Revision', namespaced: true },
  { group: 'networking.internal.knative.dev', version: 'v1alpha1', plural: 'ingresses', kind: 'Ingress', namespaced: true },
  {
    group: 'networking.internal.knative.dev',
    version: 'v1alpha1',
    plural: 'serverlessservices',
    kind: 'ServerlessService',
    namespaced: true,
  },
  { group: 'proxima.dev', version: 'v1alpha1', plural: 'proximameasurements', kind: 'ProximaMeasurement', namespaced: false },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
];

type Obj = Record<string, any>;

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Obj;
}

interface Watcher {
  readonly res: ServerResponse;
  readonly plural: string;
  readonly namespace: string | undefined;
  readonly bookmarks: boolean;
  /** The request's labelSelector / fieldSelector. */
  readonly selects: (o: Obj) => boolean;
}

/**
 * `labelSelector` (`key`, `!key`, `key=value`, `key!=value`, comma-separated) and `fieldSelector`
 * (`metadata.name=…`, `metadata.namespace=…`) of a list or watch, as the apiserver applies them.
 */
function selectorOf(url: URL): (o: Obj) => boolean {
  const terms = (v: string | null) => (v ?? '').split(',').filter((x) => x !== '');
  const labels = terms(url.searchParams.get('labelSelector')).map((t) => {
    const m = /^(!?)([^=!]+)(?:(!?=)(.*))?$/.exec(t)!;
    return (o: Obj) => {
      const l = (o['metadata']?.['labels'] ?? {}) as Record<string, string>;
      if (m[1]) return !(m[2]! in l);
      if (m[3] === undefined) return m[2]! in l;
      return m[3] === '=' ? l[m[2]!] === m[4] : l[m[2]!] !== m[4];
    };
  });
  const fields = terms(url.searchParams.get('fieldSelector')).map((t) => {
    const [path, value] = t.split('=') as [string, string];
    return (o: Obj) =>
      (path === 'metadata.name' ? o['metadata']?.['name'] : path === 'metadata.namespace' ? o['metadata']?.['namespace'] : undefined) ===
      value;
  });
  return (o) => labels.every((f) => f(o)) && fields.every((f) => f(o));
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
  /** The bearer token the client sent (tests give each replica its own). */
  readonly token: string | undefined;
  /** When the request (with its body) arrived, Date.now(). */
  readonly atMs: number;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function apiVersionOf(d: ResourceDef): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
}

export class ApiServerStandIn {
  private server: Server | undefined;
  private rv = 100;
  /** plural → key (ns/name) → object */
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly log = new Map<string, WatchEvent[]>();
  /** Events at or below this resourceVersion are gone: watches from older versions get 410. */
  private compactedRv = 0;
  private readonly watchers = new Set<Watcher>();
  private failures: { count: number; code: number } = { count: 0, code: 500 };
  readonly requests: RequestRecord[] = [];
  port = 0;

  constructor() {
    for (const d of RESOURCES) {
      this.objects.set(d.plural, new Map());
      this.log.set(d.plural, []);
    }
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Create or replace an object (by kind), emitting ADDED or MODIFIED. Returns the stored copy. */
  apply(obj: Obj): Obj {
    const d = this.defForKind(String(obj['kind']));
    const key = this.keyOf(d, obj);
    const existing = this.objects.get(d.plural)!.get(key);
    const stored = clone(obj);
    stored['apiVersion'] = apiVersionOf(d);
    stored['metadata'] = { ...(stored['metadata'] ?? {}) };
    if (existing) {
      const specChanged = JSON.stringify(existing['spec']) !== JSON.stringify(stored['spec']);
      stored['metadata']['generation'] = (existing['metadata']['generation'] ?? 1) + (specChanged ? 1 : 0);
      stored['metadata']['uid'] = existing['metadata']['uid'];
      if (stored['status'] === undefined && existing['status'] !== undefined) stored['status'] = existing['status'];
    } else {
      stored['metadata']['generation'] = 1;
      stored['metadata']['uid'] = `uid-${this.rv + 1}`;
    }
    return this.put(d, key, stored, existing ? 'MODIFIED' : 'ADDED');
  }

  delete(kind: string, name: string, namespace?: string): boolean {
    const d = this.defForKind(kind);
    const key = d.namespaced ? `${namespace}/${name}` : name;
    const existing = this.objects.get(d.plural)!.get(key);
    if (!existing) return false;
    this.objects.get(d.plural)!.delete(key);
    const tombstone = clone(existing);
    tombstone['metadata']['resourceVersion'] = String(++this.rv);
    this.emit(d, { rv: this.rv, type: 'DELETED', object: tombstone });
    return true;
  }

  /** kube-apiserver's DELETE: with finalizers only `deletionTimestamp` is set; without, the object goes. */
  deleteGracefully(kind: string, name: string, namespace?: string, nowIso = new Date().toISOString()): Obj | undefined {
    const d = this.defForKind(kind);
    const key = d.namespaced ? `${namespace}/${name}` : name;
    const existing = this.objects.get(d.plural)!.get(key);
    if (!existing) return undefined;
    if ((existing['metadata']['finalizers'] ?? []).length === 0) {
      this.delete(kind, name, namespace);
      return undefined;
    }
    if (existing['metadata']['deletionTimestamp']) return clone(existing);
    const next = clone(existing);
    next['metadata']['deletionTimestamp'] = nowIso.replace(/\.\d{3}Z$/, 'Z');
    next['metadata']['deletionGracePeriodSeconds'] = 0;
    return this.put(d, key, next, 'MODIFIED');
  }

  get(kind: string, name: string, namespace?: string): Obj | undefined {
    const d = this.defForKind(kind);
    const o = this.objects.get(d.plural)!.get(d.namespaced ? `${namespace}/${name}` : name);
    return o ? clone(o) : undefined;
  }

  list(kind: string): Obj[] {
    return [...this.objects.get(this.defForKind(kind).plural)!.values()].map(clone);
  }

  /** Forget the event history: watches resuming from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    for (const events of this.log.values()) events.length = 0;
  }

  /** Close every open watch stream (as an apiserver restart or a load balancer would). */
  dropWatches(): number {
    const n = this.watchers.size;
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    return n;
  }

  /** Send a BOOKMARK at the current resourceVersion to every watch that asked for them. */
  sendBookmarks(): number {
    let n = 0;
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const d = this.defForPlural(w.plural);
      w.res.write(
        JSON.stringify({
          type: 'BOOKMARK',
          object: { kind: d.kind, apiVersion: apiVersionOf(d), metadata: { resourceVersion: String(this.rv) } },
        }) + '\n',
      );
      n++;
    }
    return n;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** Answer the next `count` requests with `code`. */
  failNext(count: number, code = 500): void {
    this.failures = { count, code };
  }

  private defForKind(kind: string): ResourceDef {
    const d = RESOURCES.find((r) => r.kind === kind);
    if (!d) throw new Error(`stand-in: unknown kind ${kind}`);
    return d;
  }

  private defForPlural(plural: string): ResourceDef {
    return RESOURCES.find((r) => r.plural === plural)!;
  }

  private keyOf(d: ResourceDef, obj: Obj): string {
    const name = obj['metadata']?.['name'];
    if (typeof name !== 'string' || !name) throw new Error('stand-in: object without metadata.name');
    return d.namespaced ? `${obj['metadata']['namespace'] ?? 'default'}/${name}` : name;
  }

  private put(d: ResourceDef, key: string, stored: Obj, type: 'ADDED' | 'MODIFIED'): Obj {
    stored['metadata']['resourceVersion'] = String(++this.rv);
    this.objects.get(d.plural)!.set(key, stored);
    this.emit(d, { rv: this.rv, type, object: clone(stored) });
    return clone(stored);
  }

  /** Store an update; an object being deleted whose last finalizer just went is deleted instead. */
  private putOrFinish(d: ResourceDef, key: string, next: Obj): Obj {
    if (next['metadata']['finalizers'] === undefined || next['metadata']['finalizers'] === null) delete next['metadata']['finalizers'];
    if (next['metadata']['deletionTimestamp'] && (next['metadata']['finalizers'] ?? []).length === 0) {
      this.objects.get(d.plural)!.set(key, next);
      this.delete(d.kind, next['metadata']['name'], next['metadata']['namespace']);
      return clone(next);
    }
    return this.put(d, key, next, 'MODIFIED');
  }

  private emit(d: ResourceDef, ev: WatchEvent): void {
    this.log.get(d.plural)!.push(ev);
    const ns = ev.object['metadata']?.['namespace'];
    for (const w of this.watchers) {
      if (w.plural !== d.plural || (w.namespace !== undefined && w.namespace !== ns)) continue;
      // An object that no longer matches the watch's selector leaves it as DELETED (as the apiserver does).
      const type = w.selects(ev.object) ? ev.type : ev.type === 'ADDED' ? undefined : 'DELETED';
      if (type) w.res.write(JSON.stringify({ type, object: ev.object }) + '\n');
    }
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private route(
    pathname: string,
  ): { d: ResourceDef; namespace: string | undefined; name: string | undefined; sub: string | undefined } | undefined {
    const core = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(pathname);
    const named = /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(pathname);
    let group: string, version: string, ns: string | undefined, plural: string, name: string | undefined, sub: string | undefined;
    if (core) [group, version, ns, plural, name, sub] = ['', 'v1', core[1], core[2]!, core[3], core[4]];
    else if (named) [group, version, ns, plural, name, sub] = [named[1]!, named[2]!, named[3], named[4]!, named[5], named[6]];
    else return undefined;
    const d = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!d) return undefined;
    return { d, namespace: ns, name: name ? decodeURIComponent(name) : undefined, sub };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return this.status(res, 400, 'BadRequest', 'body is not JSON');
    }
    const method = req.method ?? 'GET';
    const token = /^Bearer (.+)$/.exec(req.headers['authorization'] ?? '')?.[1];
    this.requests.push({
      method,
      path: url.pathname,
      query: url.search,
      contentType: req.headers['content-type'],
      body,
      token,
      atMs: Date.now(),
    });
    if (this.failures.count > 0) {
      this.failures.count--;
      return this.status(res, this.failures.code, 'InternalError', 'injected failure');
    }
    const r = this.route(url.pathname);
    if (!r) return this.status(res, 404, 'NotFound', `no resource at ${url.pathname}`);
    const { d, namespace, name, sub } = r;
    const store = this.objects.get(d.plural)!;
    const key = name === undefined ? undefined : d.namespaced ? `${namespace}/${name}` : name;

    if (name === undefined) {
      if (method === 'GET') {
        const watch = url.searchParams.get('watch');
        if (watch === 'true' || watch === '1') return this.watch(d, namespace, url, res);
        const selects = selectorOf(url);
        const items = [...store.values()].filter(
          (o) => (namespace === undefined || o['metadata']['namespace'] === namespace) && selects(o),
        );
        return this.json(res, 200, {
          kind: `${d.kind}List`,
          apiVersion: apiVersionOf(d),
          metadata: { resourceVersion: String(this.rv) },
          items,
        });
      }
      if (method === 'POST') {
        const obj = body as Obj;
        if (!obj?.['metadata']?.['name']) return this.status(res, 422, 'Invalid', 'metadata.name is required');
        if (d.namespaced) obj['metadata']['namespace'] = namespace ?? obj['metadata']['namespace'] ?? 'default';
        const k = this.keyOf(d, obj);
        if (store.has(k)) return this.status(res, 409, 'AlreadyExists', `${d.plural} "${obj['metadata']['name']}" already exists`);
        return this.json(res, 201, this.apply({ ...obj, kind: d.kind }));
      }
      return this.status(res, 405, 'MethodNotAllowed', `${method} on a collection`);
    }
    const existing = store.get(key!);
    if (!existing) return this.status(res, 404, 'NotFound', `${d.plural} "${name}" not found`);
    if (sub !== undefined && sub !== 'status') return this.status(res, 404, 'NotFound', `no subresource ${sub}`);
    if (method === 'GET') return this.json(res, 200, existing);
    if (method === 'DELETE') {
      const kept = this.deleteGracefully(d.kind, name, namespace);
      return this.json(res, 200, kept ?? { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    }
    const obj = body as Obj;
    if (method === 'PUT') {
      const rv = obj?.['metadata']?.['resourceVersion'];
      if (rv !== undefined && rv !== existing['metadata']['resourceVersion'])
        return this.status(
          res,
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version and try again',
        );
      const next = clone(existing);
      if (sub === 'status') next['status'] = obj['status'];
      else {
        const specChanged = JSON.stringify(existing['spec']) !== JSON.stringify(obj['spec']);
        Object.assign(next, {
          spec: obj['spec'],
          metadata: {
            ...existing['metadata'],
            labels: obj['metadata']?.['labels'],
            annotations: obj['metadata']?.['annotations'],
            finalizers: obj['metadata']?.['finalizers'],
          },
        });
        if (specChanged) next['metadata']['generation'] = (existing['metadata']['generation'] ?? 1) + 1;
      }
      return this.json(res, 200, this.putOrFinish(d, key!, next));
    }
    if (method === 'PATCH') {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (ct !== 'application/merge-patch+json')
        return this.status(res, 415, 'UnsupportedMediaType', `stand-in accepts only application/merge-patch+json, got ${ct}`);
      const rv = obj?.['metadata']?.['resourceVersion'];
      if (rv !== undefined && rv !== existing['metadata']['resourceVersion'])
        return this.status(
          res,
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version and try again',
        );
      const patched = mergePatch(existing, obj) as Obj;
      const next = clone(existing);
      if (sub === 'status') next['status'] = patched['status'];
      else
        Object.assign(next, {
          spec: patched['spec'],
          metadata: {
            ...existing['metadata'],
            labels: patched['metadata']?.['labels'],
            annotations: patched['metadata']?.['annotations'],
            finalizers: patched['metadata']?.['finalizers'],
          },
        });
      return this.json(res, 200, this.putOrFinish(d, key!, next));
    }
    return this.status(res, 405, 'MethodNotAllowed', method);
  }

  private watch(d: ResourceDef, namespace: string | undefined, url: URL, res: ServerResponse): void {
    const from = url.searchParams.get('resourceVersion') ?? '';
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // kube-apiserver sends the headers at once; clients wait for them
    const selects = selectorOf(url);
    const inNs = (o: Obj) => (namespace === undefined || o['metadata']?.['namespace'] === namespace) && selects(o);
    if (from === '' || from === '0') {
      for (const o of this.objects.get(d.plural)!.values()) if (inNs(o)) res.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
    } else {
      const fromRv = Number(from);
      if (!Number.isFinite(fromRv) || fromRv < this.compactedRv) {
        res.write(
          JSON.stringify({
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Failure',
              message: `too old resource version: ${from} (${this.compactedRv})`,
              reason: 'Expired',
              code: 410,
            },
          }) + '\n',
        );
        res.end();
        return;
      }
      for (const ev of this.log.get(d.plural)!)
        if (ev.rv > fromRv && inNs(ev.object)) res.write(JSON.stringify({ type: ev.type, object: ev.object }) + '\n');
    }
    const w: Watcher = { res, plural: d.plural, namespace, bookmarks, selects };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }
}
