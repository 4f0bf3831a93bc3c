/** Protobuf base-128 varints, for the hand-written wire encoders (xDS resources, ext_proc replies). */

/** Bytes `n` (a uint32) takes as a varint. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes `n` (a uint32) as a varint at `at` of `out`; returns the offset after it. */
export function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n > 0x7f) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}
