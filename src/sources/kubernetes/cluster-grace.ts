/**
 * Services nothing routes to any more keep their cluster for a grace period (net-kourier
 * pkg/generator/cluster_cache.go keeps old clusters 15 s), so requests a gateway routed with its
 * previous routes still find the cluster while it applies the new ones. Pure bookkeeping: the
 * caller removes what `update` returns and calls again at `nextCheckMs`.
 */
export class ClusterGrace {
  private readonly retiring = new Map<string, number>();

  constructor(private readonly graceMs: number) {}

  /**
   * `previous` owned services, `current` the ones still routed. Returns the services to remove
   * now, the ones to keep (routed or within grace), and when to look again (undefined: never).
   */
  update(
    previous: ReadonlySet<string>,
    current: ReadonlySet<string>,
    nowMs: number,
  ): { readonly remove: string[]; readonly keep: Set<string>; readonly nextCheckMs: number | undefined } {
    for (const s of previous) if (!current.has(s) && !this.retiring.has(s)) this.retiring.set(s, nowMs);
    const remove: string[] = [];
    let next = Infinity;
    for (const [s, since] of this.retiring) {
      if (current.has(s)) this.retiring.delete(s);
      else if (nowMs - since >= this.graceMs) {
        this.retiring.delete(s);
        remove.push(s);
      } else next = Math.min(next, since + this.graceMs);
    }
    return { remove, keep: new Set([...current, ...this.retiring.keys()]), nextCheckMs: next === Infinity ? undefined : next };
  }
}
