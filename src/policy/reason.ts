import type { Explanation, Reason } from './types.js';

/** The text of an assignment's reason (an explanation is formatted on every read). */
export function reasonText(reason: Reason): string {
  return typeof reason === 'string' ? reason : reason.text();
}

/** An explanation formatted by `format` (which must capture plain values only: see `Reason`). */
export function explain(format: () => string): Explanation {
  return { text: format };
}
