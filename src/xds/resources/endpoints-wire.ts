/**
 * A ClusterLoadAssignment of the shape `buildClusterLoadAssignment` makes, written straight to
 * protobuf wire bytes: the same bytes protobufjs's `fromObject` + `encode` give (fields in number
 * order, explicitly set proto3 scalars written even when zero or empty, uint32 values as `>>> 0`),
 * without the message objects in between. A full build encodes tens of thousands of these. Any
 * other shape (an unknown key, a value of another type) returns undefined, and the caller encodes
 * it with protobufjs as before. Field numbers: envoy/config/endpoint/v3/endpoint.proto and
 * endpoint_components.proto, envoy/config/core/v3/address.proto and base.proto.
 */

import { putVarint, varintSize } from '../../util/varint.js';

/** envoy.config.core.v3.HealthStatus by name (the builder writes names; protobufjs maps them). */
const HEALTH_STATUS: Readonly<Record<string, number>> = { UNKNOWN: 0, HEALTHY: 1, UNHEALTHY: 2, DRAINING: 3, TIMEOUT: 4, DEGRADED: 5 };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** True when every own enumerable key of `o` is one of `allowed`. */
function onlyKeys(o: Obj, allowed: readonly string[]): boolean {
  for (const k in o) if (!allowed.includes(k)) return false;
  return true;
}

/** No lone surrogates (String.prototype.isWellFormed, Node 20). */
const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function asciiOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A field's value as protobufjs's fromObject leaves it: present, or undefined (not written). */
const present = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * The planned message: a flat list of operations written in order. Lengths of nested messages are
 * known before their contents, so sizes are computed first (children before parents).
 */
class Plan {
  readonly ops: Array<number | string> = [];
  size = 0;
  /** A tag with a varint value. */
  varint(field: number, value: number): void {
    this.ops.push((field << 3) | 0, value);
    this.size += varintSize((field << 3) | 0) + varintSize(value);
  }
  /** A tag with a UTF-8 string. */
  string(field: number, value: string): void {
    const bytes = asciiOnly(value) ? value.length : Buffer.byteLength(value, 'utf8');
    this.ops.push((field << 3) | 2, -1 - bytes, value);
    this.size += varintSize((field << 3) | 2) + varintSize(bytes) + bytes;
  }
  /** A nested message: call `open`, add its fields, then `close` with the returned mark. */
  open(field: number): number {
    this.ops.push((field << 3) | 2, 0);
    return this.ops.length - 1;
  }
  close(mark: number, sizeBefore: number): void {
    const length = this.size - sizeBefore;
    this.ops[mark] = length;
    this.size += varintSize((this.ops[mark - 1] as number) >>> 0) + varintSize(length);
  }
}

function uint32(v: unknown): number | undefined {
  return typeof v === 'number' ? v >>> 0 : undefined;
}

/** An optional uint32 scalar as field `field`; false when it is not a number. */
function planUInt32(plan: Plan, field: number, v: unknown): boolean {
  if (!present(v)) return true;
  const n = uint32(v);
  if (n === undefined) return false;
  plan.varint(field, n);
  return true;
}

/** UInt32Value{value = 1} as field `field`; false when the shape is not the plain one. */
function planUInt32Value(plan: Plan, field: number, v: unknown): boolean {
  if (!present(v)) return true;
  if (!isObj(v) || !onlyKeys(v, ['value'])) return false;
  const before = plan.size;
  const mark = plan.open(field);
  if (!planUInt32(plan, 1, v['value'])) return false;
  plan.close(mark, before);
  return true;
}

function planString(plan: Plan, field: number, v: unknown): boolean {
  if (!present(v)) return true;
  // A lone surrogate has no UTF-8 form, and protobufjs's writers disagree on its bytes: left to protobufjs.
  if (typeof v !== 'string' || (!asciiOnly(v) && !wellFormed(v))) return false;
  plan.string(field, v);
  return true;
}

/** LbEndpoint{endpoint = 1 {address = 1 {socket_address = 1 {address = 2, port_value = 3}}}, health_status = 2}. */
function planLbEndpoint(plan: Plan, e: unknown): boolean {
  if (!isObj(e) || !onlyKeys(e, ['endpoint', 'health_status'])) return false;
  const before = plan.size;
  const mark = plan.open(2);
  const endpoint = e['endpoint'];
  if (present(endpoint)) {
    if (!isObj(endpoint) || !onlyKeys(endpoint, ['address'])) return false;
    const b1 = plan.size;
    const m1 = plan.open(1);
    const address = endpoint['address'];
    if (present(address)) {
      if (!isObj(address) || !onlyKeys(address, ['socket_address'])) return false;
      const b2 = plan.size;
      const m2 = plan.open(1);
      const socket = address['socket_address'];
      if (present(socket)) {
        if (!isObj(socket) || !onlyKeys(socket, ['address', 'port_value'])) return false;
        const b3 = plan.size;
        const m3 = plan.open(1);
        if (!planString(plan, 2, socket['address'])) return false;
        if (!planUInt32(plan, 3, socket['port_value'])) return false;
        plan.close(m3, b3);
      }
      plan.close(m2, b2);
    }
    plan.close(m1, b1);
  }
  const health = e['health_status'];
  if (present(health)) {
    const n =
      typeof health === 'string' ? HEALTH_STATUS[health] : typeof health === 'number' && Number.isInteger(health) ? health : undefined;
    if (n === undefined || n < 0) return false;
    plan.varint(2, n);
  }
  plan.close(mark, before);
  return true;
}

/** LocalityLbEndpoints{locality = 1, lb_endpoints = 2, load_balancing_weight = 3, priority = 5} as CLA field 2. */
function planLocality(plan: Plan, l: unknown): boolean {
  if (!isObj(l) || !onlyKeys(l, ['locality', 'lb_endpoints', 'load_balancing_weight', 'priority'])) return false;
  const before = plan.size;
  const mark = plan.open(2);
  const locality = l['locality'];
  if (present(locality)) {
    if (!isObj(locality) || !onlyKeys(locality, ['region', 'zone', 'sub_zone'])) return false;
    const b = plan.size;
    const m = plan.open(1);
    if (!planString(plan, 1, locality['region']) || !planString(plan, 2, locality['zone']) || !planString(plan, 3, locality['sub_zone']))
      return false;
    plan.close(m, b);
  }
  const endpoints = l['lb_endpoints'];
  if (present(endpoints)) {
    if (!Array.isArray(endpoints)) return false;
    for (const e of endpoints) if (!planLbEndpoint(plan, e)) return false;
  }
  if (!planUInt32Value(plan, 3, l['load_balancing_weight'])) return false;
  if (!planUInt32(plan, 5, l['priority'])) return false;
  plan.close(mark, before);
  return true;
}

function write(plan: Plan): Buffer {
  const out = Buffer.allocUnsafe(plan.size);
  let at = 0;
  const ops = plan.ops;
  for (let i = 0; i < ops.length;) {
    const tag = ops[i++] as number;
    at = putVarint(out, at, tag);
    const next = ops[i++] as number;
    if ((tag & 7) === 0 || next >= 0) at = putVarint(out, at, next);
    else {
      const bytes = -1 - next;
      at = putVarint(out, at, bytes);
      const text = ops[i++] as string;
      // Names and addresses are ASCII: byte by byte beats a call into the UTF-8 encoder per string.
      if (bytes === text.length) for (let c = 0; c < bytes; c++) out[at++] = text.charCodeAt(c);
      else at += out.write(text, at, 'utf8');
    }
  }
  if (at !== plan.size) throw new Error(`ClusterLoadAssignment wire size mismatch: ${at} != ${plan.size}`);
  return out;
}

/**
 * Wire bytes of a ClusterLoadAssignment plain object {cluster_name, endpoints, policy}, or
 * undefined when it is not of the shape this writer knows (then use protobufjs).
 */
export function encodeClusterLoadAssignmentValue(value: unknown): Buffer | undefined {
  if (!isObj(value) || !onlyKeys(value, ['cluster_name', 'endpoints', 'policy'])) return undefined;
  const plan = new Plan();
  if (!planString(plan, 1, value['cluster_name'])) return undefined;
  const endpoints = value['endpoints'];
  if (present(endpoints)) {
    if (!Array.isArray(endpoints)) return undefined;
    for (const l of endpoints) if (!planLocality(plan, l)) return undefined;
  }
  const policy = value['policy'];
  if (present(policy)) {
    if (!isObj(policy) || !onlyKeys(policy, ['overprovisioning_factor'])) return undefined;
    const before = plan.size;
    const mark = plan.open(4);
    if (!planUInt32Value(plan, 3, policy['overprovisioning_factor'])) return undefined;
    plan.close(mark, before);
  }
  return write(plan);
}
