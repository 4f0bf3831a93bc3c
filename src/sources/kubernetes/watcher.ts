/**
 * One list/watch informer (client-node `makeInformer`) with what client-node leaves to the caller:
 * a promise for the first successful list, exponential back-off with jitter after errors (client-
 * node's ListWatch stops on any error other than 410 Gone / a client timeout), and bookmarks
 * (client-node's Watch does not ask for them, so the path carries `allowWatchBookmarks=true`).
 * 410 Gone — an ERROR event or status — makes client-node relist on its own.
 */
import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { KubernetesMetrics } from './metrics.js';

export interface WatcherOptions {
  readonly resource: string;
  readonly kubeConfig: KubeConfig;
  /** API path of the collection, e.g. `/api/v1/nodes`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
  readonly log: Logger;
  readonly metrics: KubernetesMetrics;
  readonly onChange: () => void;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly rng: () => number;
}

export class ResourceWatcher {
  readonly resource: string;
  private readonly informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  private readonly opts: WatcherOptions;
  private syncedFlag = false;
  private resolveSynced!: () => void;
  readonly synced: Promise<void>;
  private failures = 0;
  /** The last list/watch error, for the start-up timeout message; logged at warn only when it changes. */
  private lastErrorText: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private listed = false;

  constructor(opts: WatcherOptions) {
    this.opts = opts;
    this.resource = opts.resource;
    this.synced = new Promise((r) => (this.resolveSynced = r));
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = await opts.list();
      this.listed = true;
      opts.metrics.lists.inc({ resource: opts.resource });
      return result;
    };
    this.informer = makeInformer(opts.kubeConfig, `${opts.path}${opts.path.includes('?') ? '&' : '?'}allowWatchBookmarks=true`, list);
    const on = (type: string) => () => {
      opts.metrics.events.inc({ resource: opts.resource, type });
      this.failures = 0;
      opts.onChange();
    };
    this.informer.on('add', on('add'));
    this.informer.on('update', on('update'));
    this.informer.on('delete', on('delete'));
    // 'connect' fires before each (re)list/watch; the first list has completed once a watch is open.
    this.informer.on('error', (err: unknown) => this.retry(err));
  }

  get isSynced(): boolean {
    return this.syncedFlag;
  }

  objects(): readonly KubernetesObject[] {
    return this.informer.list();
  }

  get(name: string, namespace?: string): KubernetesObject | undefined {
    return this.informer.get(name, namespace);
  }

  /** Why the last list/watch failed (undefined once it works again). */
  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
    if (this.lastErrorText !== undefined && this.listed) {
      this.opts.log.info({ resource: this.resource, after: this.failures }, 'kubernetes list/watch works again');
      this.lastErrorText = undefined;
    }
    this.markSyncedIfListed();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.informer.stop();
  }

  private markSyncedIfListed(): void {
    if (this.syncedFlag || this.stopped || !this.listed) return;
    this.syncedFlag = true;
    this.opts.metrics.synced.set({ resource: this.resource }, 1);
    this.resolveSynced();
    this.opts.onChange();
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    this.opts.metrics.watchErrors.inc({ resource: this.resource });
    const exp = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** this.failures);
    const delayMs = Math.round(exp * (0.5 + this.opts.rng() / 2));
    this.failures++;
    const text = String((err as Error)?.message ?? err);
    // The same failure every back-off step is one warning, not one per retry per resource.
    const level = text === this.lastErrorText ? 'debug' : 'warn';
    this.lastErrorText = text;
    this.opts.log[level](
      { resource: this.resource, err: text, delayMs, failures: this.failures },
      'kubernetes list/watch failed; retrying',
    );
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      void this.start().catch((e: unknown) => this.retry(e));
    }, delayMs);
  }
}
