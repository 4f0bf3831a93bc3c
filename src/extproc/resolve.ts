import type { ModelStore } from '../model/store.js';
import type { HttpRoute } from '../model/types.js';

/**
 * Which service an HTTP request is for, from its request headers: Knative's
 * `Knative-Serving-Namespace` / `Knative-Serving-Revision` when they name a known service, else
 * `:authority` (port stripped) → route → first matching rule → one split drawn by percent. Routing
 * through the ORIGINAL_DST cluster bypasses Envoy's weighted clusters, so the split is drawn here and
 * its headers are returned for the caller to add.
 */

export interface Resolved {
  readonly service: string;
  /** Headers the chosen rule and split add (e.g. `Knative-Serving-Revision`). */
  readonly appendHeaders: Readonly<Record<string, string>>;
}

/** Lower-case host without port: `Hello.Example.com:8080` → `hello.example.com`, `[::1]:80` → `::1`. */
export function hostOf(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 0 ? a.slice(1, end) : a;
  }
  const colon = a.indexOf(':');
  // More than one colon without brackets: a bare IPv6 address, keep it whole.
  if (colon >= 0 && a.indexOf(':', colon + 1) < 0) return a.slice(0, colon);
  return a;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Headers `resolve` reads whatever the routes say (plus x-proxima-node, read by the server). */
const BASE_HEADERS = [':authority', 'host', ':path', 'knative-serving-namespace', 'knative-serving-revision', 'x-proxima-node'];

export class ServiceResolver {
  private generation = -1;
  private routesByHost = new Map<string, HttpRoute>();
  private headerNamesSet: ReadonlySet<string> = new Set(BASE_HEADERS);

  /** Every lower-case header name a decision reads: the fixed ones and those routes match on. */
  headerNames(): ReadonlySet<string> {
    this.index();
    return this.headerNamesSet;
  }

  constructor(private readonly store: ModelStore) {}

  private index(): Map<string, HttpRoute> {
    if (this.generation === this.store.generation) return this.routesByHost;
    const byHost = new Map<string, HttpRoute>();
    for (const r of this.store.routes()) for (const h of r.hosts) if (!byHost.has(h.toLowerCase())) byHost.set(h.toLowerCase(), r);
    // Services whose hosts no explicit route covers still resolve by host.
    for (const s of this.store.services()) {
      for (const h of s.hosts) {
        const k = h.toLowerCase();
        if (!byHost.has(k))
          byHost.set(k, {
            name: s.name,
            hosts: s.hosts,
            visibility: ['external', 'internal'],
            rules: [
              {
                pathPrefix: '/',
                headers: [],
                splits: [{ service: s.name, percent: 100, appendHeaders: {} }],
                appendHeaders: {},
                timeoutMs: 0,
              },
            ],
          });
      }
    }
    const names = new Set(BASE_HEADERS);
    for (const r of byHost.values()) for (const rule of r.rules) for (const m of rule.headers) names.add(m.name.toLowerCase());
    this.headerNamesSet = names;
    this.routesByHost = byHost;
    this.generation = this.store.generation;
    return byHost;
  }

  /**
   * @param headers lower-case header name → value (first value wins)
   * @param rng uniform in [0, 1), for the split draw
   */
  resolve(headers: ReadonlyMap<string, string>, rng: () => number): Resolved | undefined {
    const ns = headers.get('knative-serving-namespace');
    const rev = headers.get('knative-serving-revision');
    if (ns && rev) {
      const name = `${ns}/${rev}`;
      if (this.store.service(name)) return { service: name, appendHeaders: NO_HEADERS };
    }
    const authority = headers.get(':authority') ?? headers.get('host');
    if (!authority) return undefined;
    const route = this.index().get(hostOf(authority));
    if (!route) return undefined;
    const path = headers.get(':path') ?? '/';
    const rule = route.rules.find(
      (r) => path.startsWith(r.pathPrefix || '/') && r.headers.every((m) => headers.get(m.name.toLowerCase()) === m.exact),
    );
    if (!rule || rule.splits.length === 0) return undefined;
    let split = rule.splits[0]!;
    if (rule.splits.length > 1) {
      const total = rule.splits.reduce((s, x) => s + Math.max(0, x.percent), 0);
      let r = rng() * total;
      for (const s of rule.splits) {
        r -= Math.max(0, s.percent);
        if (r < 0) {
          split = s;
          break;
        }
      }
    }
    if (!this.store.service(split.service)) return undefined;
    const ruleHeaders = Object.keys(rule.appendHeaders).length > 0;
    const splitHeaders = Object.keys(split.appendHeaders).length > 0;
    const appendHeaders =
      ruleHeaders && splitHeaders
        ? { ...rule.appendHeaders, ...split.appendHeaders }
        : ruleHeaders
          ? rule.appendHeaders
          : splitHeaders
            ? split.appendHeaders
            : NO_HEADERS;
    return { service: split.service, appendHeaders };
  }
}
