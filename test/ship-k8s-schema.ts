/**
 * Kubernetes schema validation for tests, from the OpenAPI-generated validators of
 * `kubernetes-models` (core APIs) and `@kubernetes-models/prometheus-operator`, made strict: those
 * schemas allow unknown fields (the API server drops them with a warning), which would let a typo
 * such as `readOnlyRootFilesytem` pass silently. The validator is run on a Proxy that records
 * which keys it looked up; in an object whose schema names properties, a key the validator never
 * looked at is not in the schema. Free-form objects (no properties read) and maps (keys
 * enumerated) are left alone.
 */
import { K8sObject } from './ship-kustomize.js';

type ModelCtor = { prototype: { validate(this: unknown): void } };

const cache = new Map<string, ModelCtor | null>();

async function modelFor(apiVersion: string, kind: string): Promise<ModelCtor | null> {
  const key = `${apiVersion}/${kind}`;
  if (cache.has(key)) return cache.get(key)!;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  if (!/^[A-Za-z0-9.-]*$/.test(group!) || !/^[A-Za-z0-9]+$/.test(version!) || !/^[A-Za-z]+$/.test(kind)) return null;
  const spec =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
  let ctor: ModelCtor | null = null;
  try {
    const mod = (await import(spec)) as Record<string, ModelCtor>;
    ctor = mod[kind] ?? null;
  } catch {
    ctor = null;
  }
  cache.set(key, ctor);
  return ctor;
}

/**
 * Property names the kubernetes-models generator loses (it strips `description` keywords from the
 * OpenAPI schema, and with them properties that are themselves called `description`, e.g. in
 * CustomResourceColumnDefinition); never reported as unknown.
 */
const DROPPED_BY_GENERATOR = new Set(['description']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface SchemaOptions {
  /** For patches: a partial object, so missing required fields are fine. */
  readonly partial?: boolean;
}

/**
 * Validate `obj` against its apiVersion/kind schema; returns every problem (empty when valid), or
 * undefined when no schema is known for the kind.
 */
export async function validateK8s(obj: K8sObject, opts: SchemaOptions = {}): Promise<string[] | undefined> {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return ['apiVersion and kind are required'];
  const ctor = await modelFor(obj.apiVersion, obj.kind);
  if (!ctor) return undefined;

  const touched = new WeakMap<object, Set<PropertyKey>>();
  const enumerated = new WeakSet<object>();
  const proxies = new WeakMap<object, object>();
  const wrap = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    let p = proxies.get(v);
    if (!p) {
      touched.set(v, new Set());
      p = new Proxy(v, {
        get(t, k, r) {
          touched.get(t)!.add(k);
          return wrap(Reflect.get(t, k, r));
        },
        has(t, k) {
          touched.get(t)!.add(k);
          return Reflect.has(t, k);
        },
        ownKeys(t) {
          enumerated.add(t);
          return Reflect.ownKeys(t);
        },
      });
      proxies.set(v, p);
    }
    return p;
  };

  const problems: string[] = [];
  try {
    ctor.prototype.validate.call(wrap(obj));
  } catch (err) {
    const errors = (err as { errors?: Array<{ instancePath: string; keyword: string; message?: string; params?: unknown }> }).errors;
    if (!errors) problems.push((err as Error).message);
    for (const e of errors ?? []) {
      if (opts.partial && e.keyword === 'required') continue;
      problems.push(`${e.instancePath || '/'}: ${e.message ?? e.keyword} ${e.params ? JSON.stringify(e.params) : ''}`.trim());
    }
  }

  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}/${i}`));
      return;
    }
    if (!isPlainObject(v)) return;
    const seen = touched.get(v);
    if (!seen || seen.size === 0) return; // free-form (e.g. x-kubernetes-preserve-unknown-fields)
    if (!enumerated.has(v)) {
      for (const key of Object.keys(v))
        if (!seen.has(key) && !DROPPED_BY_GENERATOR.has(key))
          problems.push(`${path}/${key}: unknown field (not in the ${obj.kind} schema)`);
    }
    for (const [key, child] of Object.entries(v)) walk(child, `${path}/${key}`);
  };
  walk(obj, '');
  return problems;
}
