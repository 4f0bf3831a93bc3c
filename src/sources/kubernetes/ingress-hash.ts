/**
 * The KIngress hash Knative's readiness probe checks (knative/networking pkg/ingress/ingress.go
 * `ComputeHash`): sha256 over Go's `json.Marshal(ing.Spec)` followed by the namespace and the name.
 * Reproduced here field by field from pkg/apis/networking/v1alpha1/ingress_types.go (struct field
 * order, `omitempty`, the inlined IngressBackend, sorted map keys, Go's HTML-safe string escaping),
 * so the hash equals the one net-kourier and Knative's prober compute for the same object. Pure.
 */
import { createHash } from 'node:crypto';
import { asArray, isRecord } from './objects.js';

/** Go encoding/json string escaping (HTML-safe: <, >, & and U+2028/U+2029 escaped). */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

type Field = readonly [name: string, json: string | undefined];

function object(fields: readonly Field[]): string {
  return `{${fields
    .filter((f): f is readonly [string, string] => f[1] !== undefined)
    .map(([k, v]) => `${goString(k)}:${v}`)
    .join(',')}}`;
}

/** `string` with `omitempty`. */
const optString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? goString(v) : undefined);
/** `string` without omitempty. */
const reqString = (v: unknown): string => goString(typeof v === 'string' ? v : '');
/** `[]string` with omitempty. */
const optStrings = (v: unknown): string | undefined => {
  const a = asArray(v).filter((x): x is string => typeof x === 'string');
  return a.length ? `[${a.map(goString).join(',')}]` : undefined;
};
/** `map[string]string` with omitempty (keys sorted, as Go does). */
const optStringMap = (v: unknown): string | undefined => {
  if (!isRecord(v)) return undefined;
  const keys = Object.keys(v).sort();
  return keys.length ? `{${keys.map((k) => `${goString(k)}:${reqString(v[k])}`).join(',')}}` : undefined;
};
/** A slice without omitempty: `null` when absent. */
const slice = (v: unknown, each: (x: unknown) => string): string => (Array.isArray(v) ? `[${v.map(each).join(',')}]` : 'null');
const optSlice = (v: unknown, each: (x: unknown) => string): string | undefined =>
  Array.isArray(v) && v.length > 0 ? `[${v.map(each).join(',')}]` : undefined;

/** intstr.IntOrString marshals as its int or its string; the zero value is the int 0. */
const intOrString = (v: unknown): string => (typeof v === 'string' ? goString(v) : String(typeof v === 'number' ? Math.trunc(v) : 0));

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

function tls(v: unknown): string {
  const t = rec(v);
  return object([
    ['hosts', optStrings(t['hosts'])],
    ['secretName', optString(t['secretName'])],
    ['secretNamespace', optString(t['secretNamespace'])],
  ]);
}

function split(v: unknown): string {
  const s = rec(v);
  const percent = typeof s['percent'] === 'number' && s['percent'] !== 0 ? String(Math.trunc(s['percent'])) : undefined;
  return object([
    ['serviceNamespace', reqString(s['serviceNamespace'])],
    ['serviceName', reqString(s['serviceName'])],
    ['servicePort', intOrString(s['servicePort'])],
    ['percent', percent],
    ['appendHeaders', optStringMap(s['appendHeaders'])],
  ]);
}

function headers(v: unknown): string | undefined {
  if (!isRecord(v)) return undefined;
  const keys = Object.keys(v).sort();
  if (keys.length === 0) return undefined;
  return `{${keys.map((k) => `${goString(k)}:${object([['exact', reqString(rec(v[k])['exact'])]])}`).join(',')}}`;
}

function path(v: unknown): string {
  const p = rec(v);
  return object([
    ['path', optString(p['path'])],
    ['rewriteHost', optString(p['rewriteHost'])],
    ['headers', headers(p['headers'])],
    ['splits', slice(p['splits'], split)],
    ['appendHeaders', optStringMap(p['appendHeaders'])],
  ]);
}

function rule(v: unknown): string {
  const r = rec(v);
  const http = isRecord(r['http']) ? object([['paths', slice(r['http']['paths'], path)]]) : undefined;
  return object([
    ['hosts', optStrings(r['hosts'])],
    ['visibility', optString(r['visibility'])],
    ['http', http],
  ]);
}

/** Go's `json.Marshal(ingress.Spec)` for a KIngress spec as the API server returns it. */
export function goJsonOfIngressSpec(spec: unknown): string {
  const s = rec(spec);
  return object([
    ['tls', optSlice(s['tls'], tls)],
    ['rules', optSlice(s['rules'], rule)],
    ['httpOption', optString(s['httpOption'])],
  ]);
}

/** knative/networking `ComputeHash` as hex: sha256(json(spec) + namespace + name). */
export function ingressHash(spec: unknown, namespace: string, name: string): string {
  return createHash('sha256').update(goJsonOfIngressSpec(spec)).update(namespace).update(name).digest('hex');
}
