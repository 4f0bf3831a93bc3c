/**
 * __ENV parsing for the k6 scripts. Pure (no k6 imports) so Node tests can load it too. Every
 * parser throws an Error naming the variable, so a typo stops `k6 run` in the init context with a
 * clear message instead of running a test with a silently different load.
 */

export type Env = Readonly<Record<string, string | undefined>>;

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function stringEnv(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function intEnv(env: Env, name: string, fallback: number, min = 0): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${name}=${v}: expected an integer ≥ ${min}`);
  return Number(v);
}

export function numberEnv(env: Env, name: string, fallback: number, min = 0): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${v}: expected a number ≥ ${min}`);
  return n;
}

/** An optional number: undefined when unset (the threshold it feeds is then left out). */
export function optionalNumberEnv(env: Env, name: string, min: number, max: number): number | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name}=${v}: expected a number in [${min}, ${max}]`);
  return n;
}

export function boolEnv(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new Error(`${name}=${v}: expected true or false`);
}

/** A k6 duration string ("30s", "1m30s", "250ms"). */
export function durationEnv(env: Env, name: string, fallback: string): string {
  const v = raw(env, name) ?? fallback;
  if (!DURATION.test(v)) throw new Error(`${name}=${v}: expected a k6 duration such as 30s, 2m or 1m30s`);
  return v;
}

export function durationSeconds(d: string): number {
  let total = 0;
  DURATION_PART.lastIndex = 0;
  for (let m = DURATION_PART.exec(d); m; m = DURATION_PART.exec(d)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total;
}

export function listEnv(env: Env, name: string, fallback: readonly string[]): string[] {
  const v = raw(env, name);
  if (v === undefined) return [...fallback];
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error(`${name}=${v}: expected a comma-separated list`);
  return items;
}

/** host:port with a numeric port; IPv6 hosts in brackets ([::1]:8080). */
export function checkAddress(name: string, address: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`${name}: "${address}" is not host:port`);
  return address;
}

/** A metric tag / scenario name fragment: letters, digits, '_' and '-' only. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_');
}
