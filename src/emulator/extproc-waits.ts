import type { RequestRecord } from './stats.js';
import { percentile } from './loadgen.js';

/**
 * What the per-request ext_proc round trip cost a level's requests, from the gateways' records:
 * how long each waited for its decision and how many got none in time (routed by the EDS weights).
 * Every request of an ext_proc setup waits for its decision before it leaves the gateway, so this
 * wait is part of its latency; a wait past the message timeout means the gateway's own event loop
 * was late too (the timeout could not fire).
 */
export interface ExtProcWaits {
  /** Requests that asked for a decision (the percentiles below are 0 when none did). */
  readonly requests: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Share of the requests whose decision did not come in time. */
  readonly fellBackShare: number;
  /** Share of the level's requests whose route disabled the ext_proc filter (sent by the EDS weights, no wait). */
  readonly skippedShare: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Undefined when no record carries a decision wait (a setup without ext_proc). */
export function extprocWaits(records: readonly RequestRecord[]): ExtProcWaits | undefined {
  const waits: number[] = [];
  let fellBack = 0;
  let skipped = 0;
  for (const r of records) {
    if (r.skippedPicker) skipped++;
    if (r.decideMs === undefined) continue;
    waits.push(r.decideMs);
    if (r.fellBack) fellBack++;
  }
  if (waits.length === 0 && skipped === 0) return undefined;
  // Sorted once: percentile's own sort is then a linear pass, and the maximum is the last (a level
  // holds tens of thousands of waits, too many to spread into Math.max).
  waits.sort((a, b) => a - b);
  return {
    requests: waits.length,
    p50Ms: waits.length ? round2(percentile(waits, 50)) : 0,
    p95Ms: waits.length ? round2(percentile(waits, 95)) : 0,
    p99Ms: waits.length ? round2(percentile(waits, 99)) : 0,
    maxMs: waits.length ? round2(waits[waits.length - 1]!) : 0,
    fellBackShare: waits.length ? Math.round((fellBack / waits.length) * 10_000) / 10_000 : 0,
    skippedShare: Math.round((skipped / (waits.length + skipped)) * 10_000) / 10_000,
  };
}

/** What the picker did over one level: its /debug/extproc counters at the end minus those at the start. */
export interface PickerLevel {
  /** Picks by rule (see PickRule): `saturated` means every candidate pod looked full. */
  readonly rules: Readonly<Record<string, number>>;
  /** Share of the picks that were `saturated`. */
  readonly saturatedShare: number;
  readonly leftLocalWithRoom: number;
  readonly abandoned: number;
  /** Largest per-endpoint extra hold at the level's end, ms (how late slots were freed). */
  readonly maxExtraHoldMs: number;
}

/** The part of the /debug/extproc view this reads; anything else in it is ignored. */
export interface PickerCounters {
  readonly rules?: Readonly<Record<string, number>>;
  readonly leftLocalWithRoom?: number;
  readonly abandoned?: number;
  readonly endpoints?: readonly { readonly extraHoldMs?: number }[];
}

const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

export function pickerLevel(before: PickerCounters, after: PickerCounters): PickerLevel {
  const rules: Record<string, number> = {};
  let total = 0;
  for (const [rule, n] of Object.entries(after.rules ?? {})) {
    rules[rule] = num(n) - num(before.rules?.[rule]);
    total += rules[rule];
  }
  let maxExtraHoldMs = 0;
  for (const e of after.endpoints ?? []) maxExtraHoldMs = Math.max(maxExtraHoldMs, num(e.extraHoldMs));
  return {
    rules,
    saturatedShare: total > 0 ? Math.round(((rules['saturated'] ?? 0) / total) * 10_000) / 10_000 : 0,
    leftLocalWithRoom: num(after.leftLocalWithRoom) - num(before.leftLocalWithRoom),
    abandoned: num(after.abandoned) - num(before.abandoned),
    maxExtraHoldMs: round2(maxExtraHoldMs),
  };
}
