/**
 * The one thing the emulated gateway needs from a ProcessingResponse: the value of a header it sets
 * on request_headers (request_headers.response.header_mutation.set_headers[].header, `raw_value` or
 * `value`). A small protobuf walk instead of a full decode: the demo's gateways run on the same
 * cores as everything else, and Envoy does this in C++.
 */

/** [end of the varint, value]; value -1 on truncation or more than 32 bits. */
function varint(buf: Buffer, at: number, end: number): [number, number] {
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= end) return [at, -1];
    const b = buf[at++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [at, v];
  }
  return [at, -1];
}

/** The length-delimited field `field` inside [start, end): its [start, end), or undefined. */
function* fields(buf: Buffer, start: number, end: number, field: number): Generator<[number, number]> {
  let at = start;
  while (at < end) {
    const [a, tag] = varint(buf, at, end);
    if (tag <= 0) return;
    at = a;
    const wt = tag & 7;
    if (wt === 0) {
      const [b, v] = varint(buf, at, end);
      if (v < 0) return;
      at = b;
    } else if (wt === 1) at += 8;
    else if (wt === 5) at += 4;
    else if (wt === 2) {
      const [b, len] = varint(buf, at, end);
      if (len < 0 || b + len > end) return;
      if (tag >>> 3 === field) yield [b, b + len];
      at = b + len;
    } else return;
  }
}

function first(buf: Buffer, start: number, end: number, field: number): [number, number] | undefined {
  for (const r of fields(buf, start, end, field)) return r;
  return undefined;
}

/** Value of header `name` (lower-case) set by a request_headers reply, or undefined. */
export function setHeaderValue(reply: Buffer, name: string): string | undefined {
  const headers = first(reply, 0, reply.length, 1);
  const common = headers && first(reply, headers[0], headers[1], 1);
  const mutation = common && first(reply, common[0], common[1], 2);
  if (!mutation) return undefined;
  for (const [os, oe] of fields(reply, mutation[0], mutation[1], 1)) {
    const hv = first(reply, os, oe, 1);
    if (!hv) continue;
    const key = first(reply, hv[0], hv[1], 1);
    if (!key || reply.toString('latin1', key[0], key[1]).toLowerCase() !== name) continue;
    const v = first(reply, hv[0], hv[1], 3) ?? first(reply, hv[0], hv[1], 2);
    return v ? reply.toString('utf8', v[0], v[1]) : '';
  }
  return undefined;
}
