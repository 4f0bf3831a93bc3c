/**
 * `proxima demo --netns`: one Linux network namespace per emulated node, joined by a bridge in the
 * root namespace (10.X.0.1/24) through one veth pair per node (10.X.0.N+2/24 inside). Everything is
 * named after a per-run id (`pxm-<pid>-<n>` namespaces, `pxm<pid>` bridge, `pxm<pid>v<n>` veths) so
 * cleanup can find it again, including after a crash. Drives iproute2's `ip` without a shell.
 */
import { execFile } from 'node:child_process';
import { UsageError } from '../config.js';

/** Runs `ip ARGS...`; resolves to stdout, rejects with the command line in the message. */
export type IpRunner = (args: readonly string[]) => Promise<string>;

export const runIp: IpRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', [...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
        reject(new Error(`\`ip ${args.join(' ')}\` failed (${String(code)}): ${String(stderr).trim() || err.message}`));
      } else resolve(String(stdout));
    });
  });

export interface NetnsNode {
  readonly namespace: string;
  /** Root-namespace end of the veth pair (enslaved to the bridge). */
  readonly hostVeth: string;
  /** Namespace end of the veth pair. */
  readonly nodeVeth: string;
  readonly ip: string;
}

export interface NetnsPlan {
  readonly runId: string;
  readonly bridge: string;
  /** The bridge's address: the root namespace (and `proxima serve`) as seen from the nodes. */
  readonly hostIp: string;
  readonly prefixLength: 24;
  readonly nodes: readonly NetnsNode[];
}

/** Interface names are limited to 15 characters (IFNAMSIZ - 1). */
const MAX_IFNAME = 15;
export const MAX_NETNS_NODES = 250;

/** Names and addresses for a run; pure. `subnetOctet` is X in 10.X.0.0/24. */
export function planNetns(pid: number, nodeCount: number, subnetOctet: number): NetnsPlan {
  if (nodeCount < 1 || nodeCount > MAX_NETNS_NODES) throw new RangeError(`netns: 1 to ${MAX_NETNS_NODES} nodes, got ${nodeCount}`);
  const bridge = `pxm${pid}`;
  const nodes = Array.from({ length: nodeCount }, (_, n) => ({
    namespace: `pxm-${pid}-${n}`,
    hostVeth: `${bridge}v${n}`,
    nodeVeth: `${bridge}p${n}`,
    ip: `10.${subnetOctet}.0.${n + 2}`,
  }));
  if (nodes.some((n) => n.hostVeth.length > MAX_IFNAME)) throw new RangeError(`netns: interface names for pid ${pid} are too long`);
  return { runId: `pxm-${pid}`, bridge, hostIp: `10.${subnetOctet}.0.1`, prefixLength: 24, nodes };
}

/**
 * X for 10.X.0.0/24: derived from the pid (so parallel runs differ), skipping any 10.X.* already in
 * `ip -4 route` / `ip -4 addr` output. Pure.
 */
export function pickSubnetOctet(pid: number, ipOutput: string): number {
  const used = new Set([...ipOutput.matchAll(/\b10\.(\d{1,3})\./g)].map((m) => Number(m[1])));
  for (let k = 0; k < 100; k++) {
    const x = 100 + ((pid + k) % 100);
    if (!used.has(x)) return x;
  }
  throw new Error('netns: no free 10.X.0.0/24 subnet among 10.100-10.199');
}

/** Namespace names from `ip netns list` ("name" or "name (id: 3)"). Pure. */
export function parseNetnsList(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** Interface names from `ip -o link show` ("5: name@if4: <...>"). Pure. */
export function parseLinkNames(out: string): string[] {
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Leftovers of run `pid` (or, with `isAlive`, of any pxm run whose process is gone). Pure. */
export function leftovers(
  pid: number,
  namespaces: readonly string[],
  links: readonly string[],
  isAlive: (pid: number) => boolean,
): { namespaces: string[]; links: string[] } {
  const stale = (owner: number) => owner === pid || !isAlive(owner);
  return {
    namespaces: namespaces.filter((n) => {
      const m = /^pxm-(\d+)-\d+$/.exec(n);
      return m !== null && stale(Number(m[1]));
    }),
    links: links.filter((l) => {
      const m = /^pxm(\d+)(?:[vp]\d+)?$/.exec(l);
      return m !== null && stale(Number(m[1]));
    }),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throw a UsageError unless this process can create namespaces (root). */
export function assertCanUseNetns(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new UsageError(
      '--netns needs root (it creates network namespaces, a bridge and veth pairs with `ip`); run with sudo or drop --netns',
    );
  }
}

export interface NetnsOptions {
  readonly nodeCount: number;
  readonly pid?: number;
  readonly ip?: IpRunner;
  readonly progress?: (message: string) => void;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** The live network of one demo run; `destroy()` is idempotent and safe to call concurrently. */
export class NetnsNetwork {
  private destroying: Promise<void> | undefined;

  private constructor(
    readonly plan: NetnsPlan,
    private readonly ip: IpRunner,
  ) {}

  /** Remove leftovers, then create the bridge, namespaces and veths; on failure removes what it made. */
  static async create(opts: NetnsOptions): Promise<NetnsNetwork> {
    const ip = opts.ip ?? runIp;
    const pid = opts.pid ?? process.pid;
    await removeLeftovers(pid, ip, opts.progress);
    const used = (await ip(['-4', 'route', 'show', 'table', 'all']).catch(() => '')) + (await ip(['-4', '-o', 'addr', 'show']));
    const net = new NetnsNetwork(planNetns(pid, opts.nodeCount, pickSubnetOctet(pid, used)), ip);
    try {
      await net.build();
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  get hostIp(): string {
    return this.plan.hostIp;
  }

  /** argv that runs `command args...` inside node `index`'s namespace. */
  exec(index: number, command: string, args: readonly string[]): { command: string; args: string[] } {
    const n = this.plan.nodes[index];
    if (!n) throw new RangeError(`netns: no node ${index}`);
    return { command: 'ip', args: ['netns', 'exec', n.namespace, command, ...args] };
  }

  private async build(): Promise<void> {
    const { bridge, hostIp, prefixLength, nodes } = this.plan;
    const ip = this.ip;
    try {
      await ip(['netns', 'add', nodes[0]!.namespace]);
    } catch (err) {
      throw new UsageError(`--netns: cannot create a network namespace: ${(err as Error).message}`);
    }
    await ip(['link', 'add', bridge, 'type', 'bridge']);
    await ip(['addr', 'add', `${hostIp}/${prefixLength}`, 'dev', bridge]);
    await ip(['link', 'set', bridge, 'up']);
    await inBatches(nodes, 8, async (n) => {
      if (n !== nodes[0]) await ip(['netns', 'add', n.namespace]);
      await ip(['link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', n.nodeVeth, 'netns', n.namespace]);
      await ip(['link', 'set', n.hostVeth, 'master', bridge, 'up']);
      await ip(['-n', n.namespace, 'link', 'set', 'lo', 'up']);
      await ip(['-n', n.namespace, 'addr', 'add', `${n.ip}/${prefixLength}`, 'dev', n.nodeVeth]);
      await ip(['-n', n.namespace, 'link', 'set', n.nodeVeth, 'up']);
      await ip(['-n', n.namespace, 'route', 'add', 'default', 'via', hostIp]);
    });
  }

  /** Delete the veths, the bridge and the namespaces (whatever of them exists). */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      const ns = new Set(parseNetnsList(await this.ip(['netns', 'list']).catch(() => '')));
      const links = new Set(parseLinkNames(await this.ip(['-o', 'link', 'show']).catch(() => '')));
      const errors: string[] = [];
      const attempt = (args: string[]) =>
        this.ip(args).then(
          () => undefined,
          (err: Error) => void errors.push(err.message),
        );
      // Deleting one end of a veth deletes the pair, even while processes still hold the namespace.
      await inBatches(
        this.plan.nodes.filter((n) => links.has(n.hostVeth)),
        16,
        (n) => attempt(['link', 'del', n.hostVeth]),
      );
      if (links.has(this.plan.bridge)) await attempt(['link', 'del', this.plan.bridge]);
      await inBatches(
        this.plan.nodes.filter((n) => ns.has(n.namespace)),
        16,
        (n) => attempt(['netns', 'del', n.namespace]),
      );
      if (errors.length) throw new Error(`netns cleanup: ${errors.join('; ')}`);
    })();
    return this.destroying;
  }
}

/** Remove namespaces and links of an earlier run with this pid, or of pxm runs whose process is gone. */
export async function removeLeftovers(pid: number, ip: IpRunner = runIp, progress?: (m: string) => void): Promise<void> {
  const found = leftovers(pid, parseNetnsList(await ip(['netns', 'list'])), parseLinkNames(await ip(['-o', 'link', 'show'])), processAlive);
  if (found.namespaces.length + found.links.length === 0) return;
  progress?.(`netns: removing leftovers of an earlier run: ${[...found.links, ...found.namespaces].join(', ')}`);
  // Links that vanished with their pair in the meantime are fine.
  for (const l of found.links) await ip(['link', 'del', l]).catch(() => undefined);
  for (const n of found.namespaces) await ip(['netns', 'del', n]);
}
