/**
 * The top-level fields of a DiscoveryResponse read straight from the wire, for the xds-fanout
 * benchmark's simulated gateways (xds-fanout-clients.ts): a thousand of them share one process and
 * the server's two cores, so they decode no resource, yet must tell a partial response from a whole
 * one. Field numbers: envoy/service/discovery/v3/discovery.proto (DiscoveryResponse: version_info 1,
 * resources 2, type_url 4, nonce 5), google/protobuf/any.proto (value 2) and
 * envoy/config/endpoint/v3/endpoint.proto (ClusterLoadAssignment.endpoints 2).
 */

export interface Head {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  count: number;
  /** Resources whose body holds no entry of field 2 (a ClusterLoadAssignment without endpoints). */
  withoutField2: number;
}

/**
 * The read position of `varint` and the scanners below. Module state, not an object per call: the
 * parse is synchronous and never re-entered, and this process reads a million resources per resync.
 */
let pos = 0;

/** Reads one varint at `pos` of `buf`. */
function varint(buf: Buffer): number {
  let b = buf[pos++]!;
  if (b < 0x80) return b;
  let result = b & 0x7f;
  let scale = 0x80;
  for (;;) {
    b = buf[pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 0x80;
  }
}

/** Skips the value of a field of wire type `wire` at `pos`; false for a wire type a message here never holds. */
function skipValue(buf: Buffer, wire: number): boolean {
  if (wire === 0) varint(buf);
  else if (wire === 2) {
    const len = varint(buf); // first: `pos += varint(buf)` would add to the position before the length
    pos += len;
  } else if (wire === 5) pos += 4;
  else if (wire === 1) pos += 8;
  else return false;
  return true;
}

/**
 * True when the resource (a google.protobuf.Any) in buf[start, end) has a body (its field 2) that
 * holds at least one length-delimited field 2: a ClusterLoadAssignment with endpoints.
 */
function bodyHasField2(buf: Buffer, start: number, end: number): boolean {
  pos = start;
  let bodyEnd = -1;
  while (pos < end) {
    const tag = varint(buf);
    if ((tag & 7) !== 2) return false;
    const len = varint(buf);
    if (tag >>> 3 === 2) {
      bodyEnd = pos + len;
      break;
    }
    pos += len;
  }
  if (bodyEnd < 0) return false;
  while (pos < bodyEnd) {
    const tag = varint(buf);
    if (tag >>> 3 === 2 && (tag & 7) === 2) return true;
    if (!skipValue(buf, tag & 7)) return false;
  }
  return false;
}

/** Top-level fields of a DiscoveryResponse, read straight from the wire. */
export function parseHead(buf: Buffer): Head {
  const head: Head = { versionInfo: '', typeUrl: '', nonce: '', count: 0, withoutField2: 0 };
  pos = 0;
  while (pos < buf.length) {
    const tag = varint(buf);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      varint(buf);
      continue;
    }
    if (wire !== 2) throw new Error(`unexpected wire type ${wire}`);
    const len = varint(buf);
    const from = pos;
    const next = from + len;
    if (field === 1) head.versionInfo = buf.toString('utf8', from, next);
    else if (field === 2) {
      head.count++;
      if (!bodyHasField2(buf, from, next)) head.withoutField2++;
    } else if (field === 4) head.typeUrl = buf.toString('utf8', from, next);
    else if (field === 5) head.nonce = buf.toString('utf8', from, next);
    pos = next;
  }
  return head;
}
