import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { envoyProtos, PROTO_INCLUDE_DIRS } from './envoy.js';

/**
 * Strict proto3 JSON decoding against Envoy's protos: every field must exist in the schema (by its
 * original snake_case name or its lowerCamel JSON name), enums must name a known value, `Any` must
 * name a known type (decoded recursively), and every error is reported with its field path.
 * protobufjs `fromObject` silently drops unknown fields; Envoy rejects them, so a config that passes
 * protobufjs may still fail at Envoy start-up. This closes that gap.
 *
 * Two input forms:
 * - `json` (default): proto3 JSON as Envoy reads YAML/JSON (Duration "1.5s", wrappers as bare
 *   scalars, Struct as a JSON object, Any as `{"@type": ..., fields}`).
 * - `object`: the plain-object form protobufjs `fromObject` takes and the xDS resource builders
 *   produce (Duration `{seconds, nanos}`, wrappers `{value}`); `Any` is still `{"@type", ...}`.
 */

export type StrictDecodeResult = { ok: true; message: protobuf.Message } | { ok: false; errors: string[] };

export interface StrictDecodeOptions {
  readonly form?: 'json' | 'object';
  /** Protobufjs root to resolve types in; defaults to envoyProtos().root. */
  readonly root?: protobuf.Root;
}

const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

/** Types whose proto3 JSON form is not an object of their fields; inside Any they sit under "value". */
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
  'google.protobuf.FieldMask',
]);

const MAX_DEPTH = 100;

type Json = unknown;

class Decoder {
  readonly errors: string[] = [];
  constructor(
    private readonly root: protobuf.Root,
    private readonly form: 'json' | 'object',
  ) {}

  private fail(path: string, msg: string): undefined {
    this.errors.push(`${path || '<root>'}: ${msg}`);
    return undefined;
  }

  /** Returns the protobufjs plain object for `type`, or undefined after recording errors. */
  message(type: protobuf.Type, json: Json, path: string, depth: number): Record<string, unknown> | undefined {
    if (depth > MAX_DEPTH) return this.fail(path, 'nesting too deep');
    const name = type.fullName.replace(/^\./, '');
    if (name === 'google.protobuf.Any') return this.any(json, path, depth);
    if (this.form === 'json' && SPECIAL_JSON.has(name)) return this.wellKnown(name, json, path, depth);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      return this.fail(path, `expected an object for ${name}, got ${describe(json)}`);
    }
    return this.fields(type, json as Record<string, Json>, path, depth, new Set());
  }

  private fields(
    type: protobuf.Type,
    obj: Record<string, Json>,
    path: string,
    depth: number,
    skip: ReadonlySet<string>,
  ): Record<string, unknown> {
    const name = type.fullName.replace(/^\./, '');
    const byJsonName = jsonNames(type);
    const out: Record<string, unknown> = {};
    const oneofSeen = new Map<string, string>();
    for (const [key, value] of Object.entries(obj)) {
      if (skip.has(key)) continue;
      const field = type.fields[key] ?? byJsonName.get(key);
      const fieldPath = path ? `${path}.${key}` : key;
      if (!field) {
        this.fail(fieldPath, `unknown field "${key}" in ${name}`);
        continue;
      }
      if (field.name in out) {
        this.fail(fieldPath, `field "${field.name}" given twice`);
        continue;
      }
      // proto3 JSON: null means "not set" (except google.protobuf.Value, where it is null_value).
      if (value === null && field.type !== 'google.protobuf.Value' && field.resolvedType?.fullName !== '.google.protobuf.Value') continue;
      if (field.partOf) {
        const other = oneofSeen.get(field.partOf.name);
        if (other) {
          this.fail(fieldPath, `oneof "${field.partOf.name}" already set by "${other}"`);
          continue;
        }
        oneofSeen.set(field.partOf.name, key);
      }
      const decoded = this.field(field, value, fieldPath, depth);
      if (decoded !== undefined) out[field.name] = decoded;
    }
    return out;
  }

  private field(field: protobuf.Field, value: Json, path: string, depth: number): unknown {
    if (field.map) {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        return this.fail(path, `expected an object (map), got ${describe(value)}`);
      const keyType = (field as unknown as protobuf.MapField).keyType;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, Json>)) {
        if (keyType !== 'string' && this.scalar(keyType, /^(true|false)$/.test(k) ? k === 'true' : k, `${path}[${k}]`) === undefined)
          continue;
        const d = this.single(field, v, `${path}[${JSON.stringify(k)}]`, depth);
        if (d !== undefined) out[k] = d;
      }
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) return this.fail(path, `expected a list, got ${describe(value)}`);
      const out: unknown[] = [];
      value.forEach((v, i) => {
        const d = this.single(field, v, `${path}[${i}]`, depth);
        if (d !== undefined) out.push(d);
      });
      return out;
    }
    return this.single(field, value, path, depth);
  }

  private single(field: protobuf.Field, value: Json, path: string, depth: number): unknown {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) return this.message(rt, value, path, depth + 1);
    if (rt instanceof protobuf.Enum) return this.enumValue(rt, value, path);
    return this.scalar(field.type, value, path);
  }

  private enumValue(e: protobuf.Enum, value: Json, path: string): unknown {
    const name = e.fullName.replace(/^\./, '');
    if (name === 'google.protobuf.NullValue') return 'NULL_VALUE';
    if (typeof value === 'string') {
      if (value in e.values) return value;
      return this.fail(path, `unknown ${name} value "${value}" (known: ${Object.keys(e.values).join(', ')})`);
    }
    if (typeof value === 'number' && Number.isInteger(value)) {
      if (Object.values(e.values).includes(value)) return value;
      return this.fail(path, `unknown ${name} number ${value}`);
    }
    return this.fail(path, `expected an enum name for ${name}, got ${describe(value)}`);
  }

  private scalar(type: string, value: Json, path: string): unknown {
    switch (type) {
      case 'string':
        return typeof value === 'string' ? value : this.fail(path, `expected a string, got ${describe(value)}`);
      case 'bool':
        return typeof value === 'boolean' ? value : this.fail(path, `expected true or false, got ${describe(value)}`);
      case 'bytes':
        if (value instanceof Uint8Array) return value;
        if (typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) return Buffer.from(value, 'base64');
        return this.fail(path, `expected base64 bytes, got ${describe(value)}`);
      case 'double':
      case 'float': {
        if (typeof value === 'number') return value;
        if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
        if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
        return this.fail(path, `expected a number, got ${describe(value)}`);
      }
      case 'int32':
      case 'sint32':
      case 'sfixed32':
        return this.integer(value, path, -(2 ** 31), 2 ** 31 - 1);
      case 'uint32':
      case 'fixed32':
        return this.integer(value, path, 0, 2 ** 32 - 1);
      case 'int64':
      case 'sint64':
      case 'sfixed64':
        return this.integer64(value, path, false);
      case 'uint64':
      case 'fixed64':
        return this.integer64(value, path, true);
      default:
        return this.fail(path, `unsupported scalar type ${type}`);
    }
  }

  private integer(value: Json, path: string, min: number, max: number): number | undefined {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n)) return this.fail(path, `expected an integer, got ${describe(value)}`);
    if (n < min || n > max) return this.fail(path, `${n} out of range [${min}, ${max}]`);
    return n;
  }

  private integer64(value: Json, path: string, unsigned: boolean): string | undefined {
    let s: string | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) s = String(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) s = value;
    else if (this.form === 'object' && value !== null && typeof value === 'object' && 'low' in value && 'high' in value)
      return String(value);
    if (s === undefined) return this.fail(path, `expected a 64-bit integer, got ${describe(value)}`);
    const b = BigInt(s);
    const [min, max] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
    if (b < min || b > max) return this.fail(path, `${s} out of 64-bit range`);
    return s;
  }

  private wellKnown(name: string, json: Json, path: string, depth: number): Record<string, unknown> | undefined {
    const wrapped = WRAPPERS[name];
    if (wrapped) {
      if (json !== null && typeof json === 'object' && !(json instanceof Uint8Array))
        return this.fail(path, `expected a bare ${wrapped} for ${name}, got ${describe(json)}`);
      const v = this.scalar(wrapped, json, path);
      return v === undefined ? undefined : { value: v };
    }
    switch (name) {
      case 'google.protobuf.Duration': {
        const m = typeof json === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(json) : null;
        if (!m) return this.fail(path, `expected a duration like "1.5s", got ${describe(json)}`);
        const sign = m[1] ? -1 : 1;
        const seconds = Number(m[2]);
        if (seconds > 315_576_000_000) return this.fail(path, 'duration out of range');
        const nanos = Number((m[3] ?? '').padEnd(9, '0'));
        return { seconds: String(sign * seconds), nanos: sign * nanos };
      }
      case 'google.protobuf.Timestamp': {
        const ms = typeof json === 'string' && /^\d{4}-\d\d-\d\dT/.test(json) ? Date.parse(json) : NaN;
        if (Number.isNaN(ms)) return this.fail(path, `expected an RFC 3339 timestamp, got ${describe(json)}`);
        return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
      }
      case 'google.protobuf.FieldMask':
        if (typeof json !== 'string') return this.fail(path, `expected a field mask string, got ${describe(json)}`);
        return { paths: json === '' ? [] : json.split(',').map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)) };
      case 'google.protobuf.Struct':
        if (json === null || typeof json !== 'object' || Array.isArray(json))
          return this.fail(path, `expected an object for Struct, got ${describe(json)}`);
        return this.struct(json as Record<string, Json>, path, depth);
      case 'google.protobuf.ListValue':
        if (!Array.isArray(json)) return this.fail(path, `expected a list, got ${describe(json)}`);
        return { values: json.map((v, i) => this.value(v, `${path}[${i}]`, depth + 1)) };
      case 'google.protobuf.Value':
        return this.value(json, path, depth);
      default:
        return this.fail(path, `unhandled well-known type ${name}`);
    }
  }

  private struct(obj: Record<string, Json>, path: string, depth: number): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) fields[k] = this.value(v, `${path}.${k}`, depth + 1);
    return { fields };
  }

  /** Field name of google.protobuf.Value: protobufjs' bundled copy is camelCase even in a keepCase root. */
  private valueField(snake: string): string {
    const t = this.root.lookupType('google.protobuf.Value');
    return t.fields[snake] ? snake : lowerCamel(snake);
  }

  private value(json: Json, path: string, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) return this.fail(path, 'nesting too deep') ?? {};
    const f = (snake: string, v: unknown): Record<string, unknown> => ({ [this.valueField(snake)]: v });
    if (json === null) return f('null_value', 'NULL_VALUE');
    if (typeof json === 'number') return f('number_value', json);
    if (typeof json === 'string') return f('string_value', json);
    if (typeof json === 'boolean') return f('bool_value', json);
    if (Array.isArray(json)) return f('list_value', { values: json.map((v, i) => this.value(v, `${path}[${i}]`, depth + 1)) });
    if (typeof json === 'object') return f('struct_value', this.struct(json as Record<string, Json>, path, depth));
    this.fail(path, `not a JSON value: ${describe(json)}`);
    return {};
  }

  /** Any: `{"@type": url, ...fields}` (or `{"@type": url, "value": json}` for special types); decoded and re-encoded. */
  private any(json: Json, path: string, depth: number): Record<string, unknown> | undefined {
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      return this.fail(path, `expected an Any object, got ${describe(json)}`);
    const obj = json as Record<string, Json>;
    const typeUrl = obj['@type'];
    if (this.form === 'object' && typeUrl === undefined && ('type_url' in obj || 'value' in obj)) {
      return this.fields(this.root.lookupType('google.protobuf.Any'), obj, path, depth, new Set());
    }
    if (typeof typeUrl !== 'string' || !typeUrl.includes('/'))
      return this.fail(path, `Any needs "@type" like "type.googleapis.com/<message>", got ${describe(typeUrl)}`);
    const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    const inner = lookupOrLoad(this.root, typeName);
    if (!inner) return this.fail(`${path}.@type`, `unknown Any type "${typeName}"`);
    const before = this.errors.length;
    let plain: Record<string, unknown> | undefined;
    if (this.form === 'json' && SPECIAL_JSON.has(typeName)) {
      const extra = Object.keys(obj).filter((k) => k !== '@type' && k !== 'value');
      for (const k of extra) this.fail(`${path}.${k}`, `unknown field "${k}" in Any of ${typeName}`);
      plain = this.wellKnown(typeName, obj.value, `${path}.value`, depth + 1);
    } else {
      plain = this.fields(inner, obj, path, depth + 1, new Set(['@type']));
    }
    if (plain === undefined || this.errors.length > before) return undefined;
    return { type_url: typeUrl, value: inner.encode(inner.fromObject(plain)).finish() };
  }
}

/**
 * Look a message type up, loading its package's .proto files from the include dirs on a miss:
 * typed_config may name any of Envoy's hundreds of extensions, and envoyProtos() loads only the
 * ones Proxima serves. The package maps to a directory (envoy.extensions.x.v3 → envoy/extensions/x/v3).
 */
function lookupOrLoad(root: protobuf.Root, typeName: string): protobuf.Type | undefined {
  const find = (): protobuf.Type | undefined => {
    const t = root.lookup(typeName);
    return t instanceof protobuf.Type ? t : undefined;
  };
  const found = find();
  if (found) return found;
  const parts = typeName.split('.');
  // Try the longest package first: a nested message has extra trailing components.
  for (let n = parts.length - 1; n >= 1; n--) {
    const rel = join(...parts.slice(0, n));
    for (const dir of PROTO_INCLUDE_DIRS) {
      const abs = join(dir, rel);
      if (!existsSync(abs)) continue;
      const files = readdirSync(abs).filter((f) => f.endsWith('.proto'));
      if (files.length === 0) continue;
      try {
        root.loadSync(
          files.map((f) => join(rel, f)),
          { keepCase: true },
        );
        root.resolveAll();
      } catch {
        return undefined;
      }
      return find();
    }
  }
  return undefined;
}

const jsonNameCache = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function jsonNames(type: protobuf.Type): Map<string, protobuf.Field> {
  let m = jsonNameCache.get(type);
  if (!m) {
    m = new Map();
    for (const f of type.fieldsArray) {
      const explicit = (f.options as Record<string, unknown> | undefined)?.json_name;
      m.set(typeof explicit === 'string' ? explicit : lowerCamel(f.name), f);
    }
    jsonNameCache.set(type, m);
  }
  return m;
}

function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return `${typeof v} ${String(v)}`;
}

/**
 * Decode `json` as the proto message `typeName` (e.g. `envoy.config.bootstrap.v3.Bootstrap`),
 * rejecting unknown fields, bad enums and unknown `Any` types, with every error's field path.
 */
export function decodeStrict(typeName: string, json: unknown, opts: StrictDecodeOptions = {}): StrictDecodeResult {
  const root = opts.root ?? envoyProtos().root;
  let type: protobuf.Type;
  try {
    type = root.lookupType(typeName.replace(/^\./, ''));
  } catch {
    return { ok: false, errors: [`unknown message type "${typeName}"`] };
  }
  const d = new Decoder(root, opts.form ?? 'json');
  const plain = d.message(type, json, '', 0);
  if (plain === undefined || d.errors.length > 0) return { ok: false, errors: d.errors.length ? d.errors : ['<root>: invalid'] };
  try {
    return { ok: true, message: type.fromObject(plain) };
  } catch (err) {
    return { ok: false, errors: [`<root>: ${(err as Error).message}`] };
  }
}
