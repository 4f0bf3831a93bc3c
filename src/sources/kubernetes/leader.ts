/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it
 * (k8s.io/client-go/tools/leaderelection/leaderelection.go, resourcelock/leaselock.go), which is
 * what net-kourier's generated reconcilers use to let one replica write:
 * - a candidate takes the Lease when it does not exist, when it holds it, or when the holder has not
 *   renewed for `leaseDuration` as measured on the candidate's own clock since it last saw the
 *   record change (client-go's observedTime: no trust in other replicas' clocks);
 * - every write carries the resourceVersion it read, so two candidates can never both win;
 * - the leader renews every `retryPeriod` and stops acting as leader when it could not renew
 *   within `renewDeadline` (< leaseDuration), before anyone else may take over.
 * One difference: client-go only polls every retryPeriod, so a standby sees a renewal up to one
 * period late and tries again up to one period after the expiry (takeover up to leaseDuration + 2 ×
 * retryPeriod after a crash). Here a standby is also fed every Lease change by a watch (`observe`),
 * so its observed time is the renewal's arrival, and it tries to acquire exactly when the lease it
 * observed expires (a timer), not at its next poll. The safety rule is unchanged: it still counts
 * the full leaseDuration on its own clock from when it saw the last change.
 * The Lease goes over the wire as an untyped object: its `renewTime`/`acquireTime` are MicroTime,
 * RFC 3339 with six fractional digits (k8s.io/apimachinery metav1.MicroTime), which the typed
 * client's Date serialisation (toISOString, three digits) does not produce.
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { LeaderElectionOptions } from './kourier-options.js';
import { asString, isRecord } from './objects.js';

/** The Lease calls the elector needs (CustomObjectsApi on coordination.k8s.io/v1 leases). */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<unknown>;
  create(namespace: string, body: object): Promise<unknown>;
  replace(namespace: string, name: string, body: object): Promise<unknown>;
}

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' } as const;

/** coordination.k8s.io/v1 Leases as untyped objects (leader.ts explains why). */
export function leaseClient(custom: CustomObjectsApi): LeaseClient {
  return {
    get: (namespace, name) => custom.getNamespacedCustomObject({ ...LEASES, namespace, name }),
    create: (namespace, body) => custom.createNamespacedCustomObject({ ...LEASES, namespace, body }),
    replace: (namespace, name, body) => custom.replaceNamespacedCustomObject({ ...LEASES, namespace, name, body }),
  };
}

/** metav1.MicroTime: RFC 3339, UTC, six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface LeaseRecord {
  readonly holder: string;
  readonly durationSeconds: number;
  readonly transitions: number;
  readonly acquireTime: string | undefined;
  readonly resourceVersion: string | undefined;
  /** Identifies the record for observed-time tracking (holder + renewTime + rv). */
  readonly fingerprint: string;
}

function recordOf(o: unknown): LeaseRecord | undefined {
  if (!isRecord(o)) return undefined;
  const spec = isRecord(o['spec']) ? o['spec'] : {};
  const meta = isRecord(o['metadata']) ? o['metadata'] : {};
  const holder = asString(spec['holderIdentity']) ?? '';
  const renew = asString(spec['renewTime']) ?? '';
  return {
    holder,
    durationSeconds: typeof spec['leaseDurationSeconds'] === 'number' ? spec['leaseDurationSeconds'] : 0,
    transitions: typeof spec['leaseTransitions'] === 'number' ? spec['leaseTransitions'] : 0,
    acquireTime: asString(spec['acquireTime']),
    resourceVersion: asString(meta['resourceVersion']),
    fingerprint: `${holder}\u0000${renew}\u0000${asString(meta['resourceVersion']) ?? ''}`,
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number; statusCode?: number; body?: unknown } | undefined;
  return e?.code === 404 || e?.statusCode === 404;
}

export interface LeaderElectorOptions extends LeaderElectionOptions {
  readonly client: LeaseClient;
  readonly log: Logger;
  readonly nowMs?: () => number;
  /** Called on every change of leadership (true: this replica now leads). */
  readonly onChange?: (leading: boolean) => void;
}

export class LeaderElector {
  private readonly opts: LeaderElectorOptions;
  private readonly nowMs: () => number;
  private readonly namespace: string;
  private readonly name: string;
  private observed: { fingerprint: string; atMs: number; record: LeaseRecord } | undefined;
  private lastRenewMs: number | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.nowMs = opts.nowMs ?? Date.now;
    const slash = opts.lease.indexOf('/');
    this.namespace = opts.lease.slice(0, slash);
    this.name = opts.lease.slice(slash + 1);
  }

  /** True while this replica holds the Lease and renewed it within the renew deadline. */
  isLeader(): boolean {
    if (!this.leading || this.lastRenewMs === undefined) return false;
    if (this.nowMs() - this.lastRenewMs > this.opts.renewDeadlineMs) {
      this.setLeading(false);
      return false;
    }
    return true;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      void this.round().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.retryPeriodMs);
      });
    };
    tick();
  }

  /** One acquire-or-renew round at a time; a round asked for meanwhile runs right after. */
  private round(atExpiry = false): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        // At the expiry of what the watch showed, write at once: the write carries the observed
        // resourceVersion, so a renewal the watch has not delivered yet makes it fail (409), never win.
        if (atExpiry && (await this.acquireObserved())) return;
        do {
          this.again = false;
          await this.tryAcquireOrRenew();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /**
   * A Lease object as a watch delivered it (or undefined when it was deleted): the observed time is
   * now, and a standby schedules its acquisition for the moment this observation expires.
   */
  observe(lease: unknown): void {
    if (this.stopped) return;
    if (lease === undefined) return void this.round();
    const rec = recordOf(lease);
    if (rec) this.noteObserved(rec, this.nowMs());
  }

  private noteObserved(rec: LeaseRecord, now: number): void {
    if (!this.observed || this.observed.fingerprint !== rec.fingerprint)
      this.observed = { fingerprint: rec.fingerprint, atMs: now, record: rec };
    if (rec.holder === this.opts.identity) return;
    const expiresAtMs = rec.holder === '' ? now : this.observed.atMs + rec.durationSeconds * 1000;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        if (!this.stopped) void this.round(true);
      },
      Math.max(0, expiresAtMs - now),
    );
    this.expiryTimer.unref?.();
  }

  /** Stop campaigning. Like client-go with ReleaseOnCancel, a leader gives the Lease up so another replica takes over at once. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.running;
    if (opts.release !== false && this.leading) await this.release();
    this.setLeading(false);
  }

  /** Take the Lease as last observed if that observation has expired; false when it could not. */
  private async acquireObserved(): Promise<boolean> {
    const o = this.observed;
    const now = this.nowMs();
    if (!o || o.record.holder === this.opts.identity || !o.record.resourceVersion) return false;
    if (o.record.holder !== '' && o.atMs + o.record.durationSeconds * 1000 > now) return false;
    try {
      await this.opts.client.replace(this.namespace, this.name, this.leaseBody(o.record, now));
      this.renewed(now);
      return true;
    } catch (err) {
      this.failed('update', err);
      return false;
    }
  }

  /** One round: read the Lease, take or renew it when allowed. Never throws. */
  async tryAcquireOrRenew(): Promise<void> {
    const now = this.nowMs();
    const me = this.opts.identity;
    let current: unknown;
    try {
      current = await this.opts.client.get(this.namespace, this.name);
    } catch (err) {
      if (!isNotFound(err)) return this.failed('read', err);
      try {
        await this.opts.client.create(this.namespace, this.leaseBody(undefined, now));
        return this.renewed(now);
      } catch (e) {
        return this.failed('create', e);
      }
    }
    const rec = recordOf(current);
    if (!rec) return this.failed('read', new Error('the Lease is not an object'));
    // Observed when the read returned (client-go takes the clock after its Get too).
    const seenAtMs = this.nowMs();
    this.noteObserved(rec, seenAtMs);
    const expired = this.observed!.atMs + rec.durationSeconds * 1000 <= seenAtMs;
    if (rec.holder !== '' && rec.holder !== me && !expired) {
      this.setLeading(false);
      return;
    }
    try {
      await this.opts.client.replace(this.namespace, this.name, this.leaseBody(rec, now));
      this.renewed(now);
    } catch (err) {
      this.failed('update', err);
    }
  }

  private leaseBody(prev: LeaseRecord | undefined, now: number): object {
    const me = this.opts.identity;
    const keep = prev !== undefined && prev.holder === me;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(prev?.resourceVersion ? { resourceVersion: prev.resourceVersion } : {}),
      },
      spec: {
        holderIdentity: me,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000)),
        acquireTime: keep && prev.acquireTime ? prev.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: prev === undefined ? 0 : keep ? prev.transitions : prev.transitions + 1,
      },
    };
  }

  private async release(): Promise<void> {
    try {
      const rec = recordOf(await this.opts.client.get(this.namespace, this.name));
      if (!rec || rec.holder !== this.opts.identity) return;
      const now = this.nowMs();
      await this.opts.client.replace(this.namespace, this.name, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.name, namespace: this.namespace, ...(rec.resourceVersion ? { resourceVersion: rec.resourceVersion } : {}) },
        spec: {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(now),
          acquireTime: microTime(now),
          leaseTransitions: rec.transitions,
        },
      });
    } catch (err) {
      this.opts.log.warn({ lease: this.opts.lease, err: String((err as Error)?.message ?? err) }, 'could not release the leader Lease');
    }
  }

  private renewed(now: number): void {
    this.lastRenewMs = now;
    this.setLeading(true);
  }

  private failed(what: string, err: unknown): void {
    this.opts.log.debug({ lease: this.opts.lease, err: String((err as Error)?.message ?? err) }, `leader Lease ${what} failed`);
    this.isLeader(); // steps down once the renew deadline has passed
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.opts.log.info({ lease: this.opts.lease, identity: this.opts.identity }, leading ? 'became the leader' : 'no longer the leader');
    this.opts.onChange?.(leading);
  }
}
