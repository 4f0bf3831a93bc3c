/**
 * The kube-scheduler extender wire format (k8s.io/kube-scheduler/extender/v1, types.go). The Go
 * structs carry no JSON tags, so kube-scheduler's json.Marshal sends capitalised keys (`Pod`,
 * `Nodes`, `NodeNames`) while the embedded Kubernetes objects (v1.Pod, v1.NodeList) use their own
 * lower-case tags. Replies use the same capitalised field names.
 */

/** The parts of a v1.Pod the extender reads; everything else is ignored. */
export interface KubePod {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: { readonly schedulerName?: string; readonly nodeName?: string };
}

/** A v1.Node as received; passed back untouched in filter replies. */
export interface KubeNode {
  readonly metadata?: { readonly name?: string };
  readonly [key: string]: unknown;
}

/** v1.NodeList. */
export interface KubeNodeList {
  readonly metadata?: unknown;
  readonly items?: readonly KubeNode[];
  readonly [key: string]: unknown;
}

/** ExtenderArgs: `Nodes` when nodeCacheCapable is false, `NodeNames` when true. */
export interface ExtenderArgs {
  readonly Pod: KubePod;
  readonly Nodes?: KubeNodeList | null;
  readonly NodeNames?: readonly string[] | null;
}

/** FailedNodesMap: node name → reason. */
export type FailedNodesMap = Record<string, string>;

/** ExtenderFilterResult. `Nodes` answers a `Nodes` request, `NodeNames` a `NodeNames` request. */
export interface ExtenderFilterResult {
  Nodes: KubeNodeList | null;
  NodeNames: string[] | null;
  FailedNodes: FailedNodesMap;
  FailedAndUnresolvableNodes: FailedNodesMap;
  Error: string;
}

/** HostPriority; Score is 0..MAX_EXTENDER_PRIORITY (the scheduler multiplies it by the weight). */
export interface HostPriority {
  Host: string;
  Score: number;
}

export type HostPriorityList = HostPriority[];

/** extenderv1.MaxExtenderPriority. */
export const MAX_EXTENDER_PRIORITY = 10;

/** A request reduced to what the extender needs: the pod and candidate node names in order. */
export interface ParsedArgs {
  readonly pod: KubePod;
  readonly nodeNames: readonly string[];
  /** The request's node objects by name when it came as a NodeList (nodeCacheCapable: false). */
  readonly nodeList?: KubeNodeList;
  readonly nodeItems?: readonly KubeNode[];
  /** Which shape the request used, so the reply uses the same one. */
  readonly mode: 'Nodes' | 'NodeNames';
}

export type ParseResult = { readonly ok: true; readonly args: ParsedArgs } | { readonly ok: false; readonly error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate a decoded ExtenderArgs body. Every problem is reported with its field path. */
export function parseExtenderArgs(body: unknown): ParseResult {
  if (!isObject(body)) return { ok: false, error: 'body must be a JSON object (ExtenderArgs)' };
  const pod = body['Pod'];
  if (!isObject(pod)) return { ok: false, error: 'Pod: missing or not an object (ExtenderArgs.Pod is required)' };
  const meta = pod['metadata'];
  if (meta !== undefined && !isObject(meta)) return { ok: false, error: 'Pod.metadata: not an object' };
  const labels = isObject(meta) ? meta['labels'] : undefined;
  if (labels !== undefined && labels !== null && !isObject(labels)) return { ok: false, error: 'Pod.metadata.labels: not an object' };

  const nodes = body['Nodes'];
  const names = body['NodeNames'];
  if (nodes !== undefined && nodes !== null) {
    if (!isObject(nodes)) return { ok: false, error: 'Nodes: not a NodeList object' };
    const items = nodes['items'];
    if (!Array.isArray(items)) return { ok: false, error: 'Nodes.items: missing or not an array' };
    const nodeNames: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const it: unknown = items[i];
      const name = isObject(it) && isObject(it['metadata']) ? it['metadata']['name'] : undefined;
      if (typeof name !== 'string' || name === '') return { ok: false, error: `Nodes.items[${i}].metadata.name: missing or not a string` };
      nodeNames.push(name);
    }
    if (nodeNames.length === 0) return { ok: false, error: 'Nodes.items: empty candidate node list' };
    return {
      ok: true,
      args: { pod: pod as KubePod, nodeNames, nodeList: nodes as KubeNodeList, nodeItems: items as KubeNode[], mode: 'Nodes' },
    };
  }
  if (names !== undefined && names !== null) {
    if (!Array.isArray(names)) return { ok: false, error: 'NodeNames: not an array of strings' };
    for (let i = 0; i < names.length; i++) {
      if (typeof names[i] !== 'string' || names[i] === '') return { ok: false, error: `NodeNames[${i}]: not a non-empty string` };
    }
    if (names.length === 0) return { ok: false, error: 'NodeNames: empty candidate node list' };
    return { ok: true, args: { pod: pod as KubePod, nodeNames: names as string[], mode: 'NodeNames' } };
  }
  return { ok: false, error: 'neither Nodes (nodeCacheCapable: false) nor NodeNames (nodeCacheCapable: true) given' };
}
