import type { ExtenderArgs, ExtenderFilterResult, HostPriorityList } from '../../extender/wire.js';

/**
 * How kube-scheduler calls an HTTP extender (kubernetes `pkg/scheduler/extender.go`, HTTPExtender):
 * `POST <urlPrefix>/<verb>` with the JSON of ExtenderArgs (capitalised keys, no JSON tags on the Go
 * structs), node names only when `nodeCacheCapable`, a client timeout of `httpTimeout`; a reply
 * other than 200 is an error. Nothing here knows Proxima: any extender speaking the wire format works.
 */
export interface ExtenderConfig {
  readonly urlPrefix: string;
  readonly filterVerb: string;
  readonly prioritizeVerb: string;
  readonly weight: number;
  readonly nodeCacheCapable: boolean;
  readonly ignorable: boolean;
  readonly httpTimeoutMs: number;
}

/** What manifests/scheduler/proxima-scheduler-config.yaml configures (over plain HTTP here). */
export function proximaExtenderConfig(urlPrefix: string): ExtenderConfig {
  return {
    urlPrefix,
    filterVerb: 'filter',
    prioritizeVerb: 'prioritize',
    weight: 5,
    nodeCacheCapable: true,
    ignorable: true,
    httpTimeoutMs: 2000,
  };
}

/** Largest reply read (a bounded network input). */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

async function post<T>(cfg: ExtenderConfig, verb: string, args: ExtenderArgs): Promise<T> {
  const url = `${cfg.urlPrefix.replace(/\/+$/, '')}/${verb}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(args),
    signal: AbortSignal.timeout(cfg.httpTimeoutMs),
  });
  const text = await res.text();
  if (text.length > MAX_REPLY_BYTES) throw new Error(`${verb}: reply larger than ${MAX_REPLY_BYTES} bytes`);
  if (res.status !== 200) throw new Error(`${verb}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${verb}: malformed JSON reply (${(err as Error).message})`);
  }
}

function argsFor(cfg: ExtenderConfig, pod: ExtenderArgs['Pod'], nodes: readonly string[]): ExtenderArgs {
  return cfg.nodeCacheCapable
    ? { Pod: pod, Nodes: null, NodeNames: [...nodes] }
    : { Pod: pod, Nodes: { items: nodes.map((name) => ({ metadata: { name } })) }, NodeNames: null };
}

export interface FilterReply {
  readonly passed: string[];
  readonly failed: Record<string, string>;
}

export async function extenderFilter(cfg: ExtenderConfig, pod: ExtenderArgs['Pod'], nodes: readonly string[]): Promise<FilterReply> {
  const r = await post<ExtenderFilterResult>(cfg, cfg.filterVerb, argsFor(cfg, pod, nodes));
  if (r.Error) throw new Error(`filter: extender error: ${r.Error}`);
  const passed = cfg.nodeCacheCapable
    ? (r.NodeNames ?? [])
    : (r.Nodes?.items ?? []).map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
  // FailedAndUnresolvableNodes wins over FailedNodes for the same node (extender.go).
  return { passed: passed.filter((n) => nodes.includes(n)), failed: { ...r.FailedNodes, ...r.FailedAndUnresolvableNodes } };
}

export async function extenderPrioritize(
  cfg: ExtenderConfig,
  pod: ExtenderArgs['Pod'],
  nodes: readonly string[],
): Promise<Map<string, number>> {
  const r = await post<HostPriorityList>(cfg, cfg.prioritizeVerb, argsFor(cfg, pod, nodes));
  if (!Array.isArray(r)) throw new Error('prioritize: reply is not a HostPriorityList');
  const out = new Map<string, number>();
  for (const h of r) if (typeof h?.Host === 'string' && Number.isFinite(h.Score) && nodes.includes(h.Host)) out.set(h.Host, h.Score);
  return out;
}
