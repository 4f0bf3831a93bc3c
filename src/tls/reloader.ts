import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { loadTlsMaterial, type TlsFiles, type TlsMaterial } from './material.js';

export interface TlsReloaderOptions {
  readonly files: TlsFiles;
  readonly log: Logger;
  /** Re-read the files at least this often (default 5000 ms); directory watches make it faster. */
  readonly intervalMs?: number;
  /** Called after a failed reload (the last good material stays in force). */
  readonly onError?: (err: Error) => void;
  /** Called after every successful reload with new content. */
  readonly onReload?: (m: TlsMaterial) => void;
}

/**
 * Keeps the newest valid TLS material of a set of files. cert-manager and kubelet (Secret volumes)
 * replace files by swapping the `..data` symlink of the mount directory, which fs.watch on the file
 * itself does not always see; so the directories are watched and the files are also re-read on a
 * timer. A half-written or mismatched set is logged and ignored: the last good set stays in force.
 */
export class TlsReloader {
  private current: TlsMaterial;
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  /** Loads the files once; throws TlsMaterialError when they are unusable at start. */
  constructor(private readonly opts: TlsReloaderOptions) {
    this.current = loadTlsMaterial(opts.files);
  }

  get files(): TlsFiles {
    return this.opts.files;
  }

  get material(): TlsMaterial {
    return this.current;
  }

  /** `fn` receives every new material after a reload (not the current one). Returns an unsubscribe. */
  subscribe(fn: (m: TlsMaterial) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.reload(), this.opts.intervalMs ?? 5000);
    this.timer.unref();
    const { certPath, keyPath, clientCaPath } = this.opts.files;
    const dirs = new Set([certPath, keyPath, ...(clientCaPath ? [clientCaPath] : [])].map((p) => dirname(p)));
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.soon());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // No watch support (or the directory is gone): the timer still reloads.
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = this.debounce = undefined;
    for (const w of this.watchers.splice(0)) w.close();
  }

  /** Re-read now; true when new material was installed. */
  reload(): boolean {
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.opts.files);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastError) this.opts.log.warn({ error: message }, 'TLS files unusable; keeping the last good certificate');
      this.lastError = message;
      this.opts.onError?.(err as Error);
      return false;
    }
    this.lastError = undefined;
    if (next.digest === this.current.digest) return false;
    this.current = next;
    this.opts.log.info({ cert: this.opts.files.certPath, notAfter: next.notAfter }, 'TLS certificate reloaded');
    this.opts.onReload?.(next);
    for (const fn of this.listeners) fn(next);
    return true;
  }

  /** A burst of file events (a symlink swap is several) becomes one reload. */
  private soon(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.reload();
    }, 100);
    this.debounce.unref();
  }
}
