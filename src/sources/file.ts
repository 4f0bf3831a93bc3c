import { readFile, stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import { formatTopologyErrors, parseTopology, type TopologyError } from '../model/topology.js';
import { UsageError } from '../config.js';

export interface FileTopologySourceOptions {
  readonly path: string;
  readonly store: ModelStore;
  readonly log: Logger;
  readonly registry: Registry;
  /** Coalesce bursts of file events (editors write in several steps). */
  readonly debounceMs?: number;
  /** Also poll the file's mtime/size this often, for filesystems where fs.watch is unreliable. */
  readonly pollIntervalMs?: number;
  /** A larger file is refused unread (default DEFAULT_TOPOLOGY_MAX_BYTES). */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

export const DEFAULT_TOPOLOGY_MAX_BYTES = 8 * 1024 * 1024;

export type ReloadOutcome =
  { ok: true; changed: boolean; hash: string } | { ok: false; errors: readonly TopologyError[]; moreErrors?: number };

/** What /readyz, /debug/source and /ui show about the topology file. */
export interface TopologyFileState {
  readonly path: string;
  /** `invalid`: the file on disk was refused and the last good topology is in force. */
  readonly status: 'ok' | 'invalid';
  readonly lastGood?: { readonly hash: string; readonly appliedAt: string; readonly nodes: number; readonly services: number };
  /** Since when the file on disk has been refused, and why. */
  readonly invalidSince?: string;
  readonly errors: readonly TopologyError[];
  readonly moreErrors: number;
}

function createMetrics(registry: Registry) {
  return {
    reloads: new Counter({
      name: 'proxima_topology_reloads_total',
      help: 'Topology file loads by outcome (applied, unchanged, invalid, unreadable).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'proxima_topology_last_success_timestamp_seconds',
      help: 'Unix time of the last topology file load that was applied or unchanged.',
      registers: [registry],
    }),
    invalid: new Gauge({
      name: 'proxima_topology_invalid',
      help: '1 while the file on disk is invalid and the last good topology is in force.',
      registers: [registry],
    }),
  };
}

/**
 * Serves a topology YAML file into the model and keeps watching it. A valid edit applies live; an
 * invalid one is logged with line and reason, counted, and the last good topology stays in force.
 */
export class FileTopologySource {
  readonly path: string;
  private readonly store: ModelStore;
  private readonly log: Logger;
  private readonly metrics: ReturnType<typeof createMetrics>;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private lastHash: string | undefined;
  private lastStat = '';
  private reloading: Promise<ReloadOutcome> | undefined;
  private pendingReload = false;
  private lastErrors: readonly TopologyError[] = [];
  private lastMoreErrors = 0;
  /** Hash of the refused content, so the same bad file is reported once, not at every poll. */
  private refusedHash: string | undefined;
  private invalidSinceMs: number | undefined;
  private lastGood: TopologyFileState['lastGood'];
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(opts: FileTopologySourceOptions) {
    this.path = resolve(opts.path);
    this.store = opts.store;
    this.log = opts.log.child({ source: 'file', path: this.path });
    this.metrics = createMetrics(opts.registry);
    this.debounceMs = opts.debounceMs ?? 100;
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
    this.maxBytes = opts.maxBytes ?? DEFAULT_TOPOLOGY_MAX_BYTES;
    this.now = opts.now ?? Date.now;
  }

  /** Load the file once (it must be valid) and start watching it. */
  async start(): Promise<void> {
    const first = await this.reload();
    if (!first.ok) {
      const fileProblem = first.errors.length === 1 && first.errors[0]!.path === '(file)' ? first.errors[0]!.message : undefined;
      if (fileProblem) throw new UsageError(`--topology ${this.path}: ${fileProblem.replace(/, stat '.*'$/, '')}`);
      const count = first.errors.length + (first.moreErrors ?? 0);
      throw new UsageError(
        `--topology ${this.path}: ${count === 1 ? 'invalid' : `${count} errors`}; nothing is served until it is fixed:\n` +
          formatTopologyErrors(first.errors, first.moreErrors),
      );
    }
    // Watch the directory, not the file: editors and Kubernetes ConfigMaps replace files by rename.
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (!file || file === name || file.startsWith('..')) this.scheduleReload();
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'file watch failed; polling continues'));
    } catch (err) {
      this.log.warn({ err }, 'cannot watch the topology directory; polling only');
    }
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    this.pollTimer.unref();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
  }

  /** True while the file on disk is invalid (the last good topology is in force). */
  get invalid(): boolean {
    return this.lastErrors.length > 0;
  }

  get errors(): readonly TopologyError[] {
    return this.lastErrors;
  }

  state(): TopologyFileState {
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      path: this.path,
      status: this.invalid ? 'invalid' : 'ok',
      ...(this.lastGood ? { lastGood: this.lastGood } : {}),
      ...(this.invalidSinceMs !== undefined ? { invalidSince: iso(this.invalidSinceMs) } : {}),
      errors: this.lastErrors,
      moreErrors: this.lastMoreErrors,
    };
  }

  private scheduleReload(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload(), this.debounceMs);
    this.debounceTimer.unref();
  }

  private async poll(): Promise<void> {
    try {
      const s = await stat(this.path);
      const sig = `${s.mtimeMs}:${s.size}:${s.ino}`;
      if (sig !== this.lastStat) {
        this.lastStat = sig;
        this.scheduleReload();
      }
    } catch {
      // A missing file is reported by reload() when an event fires; polling stays quiet.
    }
  }

  /** Read, validate and apply the file now. Concurrent calls are serialised. */
  async reload(): Promise<ReloadOutcome> {
    if (this.reloading) {
      this.pendingReload = true;
      return this.reloading;
    }
    this.reloading = this.doReload();
    try {
      return await this.reloading;
    } finally {
      this.reloading = undefined;
      if (this.pendingReload) {
        this.pendingReload = false;
        void this.reload();
      }
    }
  }

  private async doReload(): Promise<ReloadOutcome> {
    let text: string;
    try {
      const size = (await stat(this.path)).size;
      if (size > this.maxBytes) {
        const errors = [{ path: '(file)', message: `${size} bytes, more than the ${this.maxBytes} allowed (--topology-max-bytes)` }];
        return this.reject('invalid', `size:${size}`, errors);
      }
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const errors = [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }];
      return this.reject('unreadable', `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`, errors);
    }
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    if (hash === this.lastHash) {
      this.recovered(hash, 'unchanged');
      this.metrics.reloads.inc({ outcome: 'unchanged' });
      return { ok: true, changed: false, hash };
    }
    const parsed = parseTopology(text);
    if (!parsed.ok) return this.reject('invalid', hash, parsed.errors, parsed.moreErrors);
    const change = this.store.replaceTopology(parsed.topology);
    const t = parsed.topology;
    this.lastHash = hash;
    this.lastGood = { hash, appliedAt: new Date(this.now()).toISOString(), nodes: t.nodes.length, services: t.services.length };
    this.recovered(hash, 'applied');
    this.metrics.reloads.inc({ outcome: 'applied' });
    this.log.info(
      { hash, nodes: t.nodes.length, services: t.services.length, changedServices: change.services.size, global: change.global },
      'topology applied',
    );
    return { ok: true, changed: true, hash };
  }

  /** The file on disk is good again (applied, or back to the content in force): say so once. */
  private recovered(hash: string, how: 'applied' | 'unchanged'): void {
    if (this.invalidSinceMs !== undefined) {
      const seconds = Math.round((this.now() - this.invalidSinceMs) / 1000);
      this.log.info({ hash, invalidForSeconds: seconds }, `topology file is valid again (${how}); the refused edit is no longer on disk`);
    }
    this.lastErrors = [];
    this.lastMoreErrors = 0;
    this.refusedHash = undefined;
    this.invalidSinceMs = undefined;
    this.metrics.invalid.set(0);
    this.metrics.lastSuccess.setToCurrentTime();
  }

  private reject(outcome: 'invalid' | 'unreadable', contentKey: string, errors: readonly TopologyError[], moreErrors = 0): ReloadOutcome {
    const repeated = contentKey === this.refusedHash;
    this.lastErrors = errors;
    this.lastMoreErrors = moreErrors;
    this.refusedHash = contentKey;
    this.invalidSinceMs ??= this.now();
    this.metrics.invalid.set(1);
    if (repeated) return { ok: false, errors, moreErrors };
    this.metrics.reloads.inc({ outcome });
    // Before the first good load, start() reports the errors (once) as the reason serve cannot start.
    if (this.lastHash !== undefined) {
      this.log.error(
        { outcome, errors: errors.length + moreErrors },
        `topology ${outcome}; keeping the last good topology (${this.lastHash}):\n${formatTopologyErrors(errors, moreErrors)}`,
      );
    }
    return { ok: false, errors, moreErrors };
  }
}
