import { timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../config.js';

/** Shortest token accepted: a guessable token is no boundary. */
export const MIN_TOKEN_CHARS = 16;

function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`token file ${path}: ${(err as Error).message}`);
  }
  if (text.length < MIN_TOKEN_CHARS) throw new UsageError(`token file ${path}: the token must be at least ${MIN_TOKEN_CHARS} characters`);
  return text;
}

/**
 * A bearer token from a file (a Secret mount), re-read when the file changes (checked at most once
 * a second) so a rotated Secret takes effect without a restart. Comparison is constant-time.
 */
export class TokenFile {
  private token: string;
  private mtimeMs: number;
  private checkedAtMs = 0;

  constructor(readonly path: string) {
    this.token = readToken(path);
    this.mtimeMs = statSync(path).mtimeMs;
  }

  /** True when `header` is `Bearer <token>`. */
  accepts(header: string | undefined): boolean {
    this.refresh();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return false;
    const digest = (s: string) => createHash('sha256').update(s).digest();
    return timingSafeEqual(digest(m[1]!), digest(this.token));
  }

  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAtMs < 1000) return;
    this.checkedAtMs = now;
    try {
      const m = statSync(this.path).mtimeMs;
      if (m !== this.mtimeMs) {
        this.token = readToken(this.path);
        this.mtimeMs = m;
      }
    } catch {
      // A Secret mid-swap: keep the last good token.
    }
  }
}
