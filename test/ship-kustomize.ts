/**
 * A small kustomize resolver for tests (no cluster and no kustomize binary in CI): follows
 * `resources`, `patches` and `configMapGenerator` the way kustomize does, with its default load
 * restrictor (files only inside the kustomization's own directory; other directories only when they
 * are kustomizations themselves), and reports every problem instead of stopping at the first.
 * It does not apply patches or transformers; the tests check what those would touch exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
};

export interface LoadedObject {
  readonly file: string;
  readonly index: number;
  readonly obj: K8sObject;
}

export interface PatchRef {
  readonly kustomization: string;
  readonly file: string;
  readonly target?: { kind?: string; name?: string; namespace?: string; labelSelector?: string };
  readonly docs: unknown[];
}

export interface GeneratedConfigMap {
  readonly kustomization: string;
  readonly name: string;
  readonly namespace?: string;
  readonly files: ReadonlyMap<string, string>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Resolved {
  /** Every file read, kustomization files included. */
  readonly files: Set<string>;
  readonly objects: LoadedObject[];
  readonly patches: PatchRef[];
  readonly configMaps: GeneratedConfigMap[];
  readonly images: Array<{ name: string; newName?: string; newTag?: string }>;
  readonly errors: string[];
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const KNOWN_KEYS = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'resources',
  'components',
  'patches',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'images',
  'labels',
  'commonAnnotations',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'replicas',
]);

export function kustomizationFile(dir: string): string | undefined {
  for (const f of KUSTOMIZATION_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  return undefined;
}

/** Parse every YAML document of a file; parse errors are returned, not thrown. */
export function parseYamlFile(file: string): { docs: unknown[]; errors: string[] } {
  const docs: unknown[] = [];
  const errors: string[] = [];
  for (const d of parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true })) {
    if (d.errors.length) errors.push(...d.errors.map((e) => `${file}: ${e.message}`));
    const v: unknown = d.toJS();
    if (v !== null && v !== undefined) docs.push(v);
  }
  return { docs, errors };
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== '' && !r.startsWith('..') && !r.startsWith(sep);
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Resolve the kustomization in `dir` and everything it reaches. */
export function resolveKustomization(dir: string, out?: Resolved, stack: string[] = []): Resolved {
  const acc: Resolved = out ?? { files: new Set(), objects: [], patches: [], configMaps: [], images: [], errors: [] };
  const kfile = kustomizationFile(dir);
  if (!kfile) {
    acc.errors.push(`${dir}: no kustomization.yaml`);
    return acc;
  }
  if (stack.includes(kfile)) {
    acc.errors.push(`${kfile}: cycle through ${stack.join(' -> ')}`);
    return acc;
  }
  acc.files.add(kfile);
  const { docs, errors } = parseYamlFile(kfile);
  acc.errors.push(...errors);
  const k = docs[0] as Record<string, unknown> | undefined;
  if (!k || typeof k !== 'object') {
    acc.errors.push(`${kfile}: empty`);
    return acc;
  }
  if (k['kind'] !== 'Kustomization' || k['apiVersion'] !== 'kustomize.config.k8s.io/v1beta1')
    acc.errors.push(`${kfile}: expected apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization`);
  for (const key of Object.keys(k)) if (!KNOWN_KEYS.has(key)) acc.errors.push(`${kfile}: unknown or unsupported field "${key}"`);

  const fileRef = (what: string, p: unknown): string | undefined => {
    if (typeof p !== 'string' || !p) {
      acc.errors.push(`${kfile}: ${what}: expected a path, got ${JSON.stringify(p)}`);
      return undefined;
    }
    if (/^[a-z]+:\/\//i.test(p) || p.startsWith('github.com/')) {
      acc.errors.push(`${kfile}: ${what} "${p}" is remote; keep manifests self-contained and reproducible`);
      return undefined;
    }
    return resolve(dir, p);
  };

  for (const r of asList(k['resources'])) {
    const p = fileRef('resources', r);
    if (!p) continue;
    if (!existsSync(p)) {
      acc.errors.push(`${kfile}: resource "${String(r)}" does not exist`);
      continue;
    }
    if (statSync(p).isDirectory()) {
      resolveKustomization(p, acc, [...stack, kfile]);
      continue;
    }
    if (!inside(dir, p)) {
      acc.errors.push(`${kfile}: resource file "${String(r)}" is outside the kustomization root (kustomize's load restrictor rejects it)`);
      continue;
    }
    acc.files.add(p);
    const parsed = parseYamlFile(p);
    acc.errors.push(...parsed.errors);
    parsed.docs.forEach((obj, index) => {
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) acc.errors.push(`${p}#${index}: not an object`);
      else acc.objects.push({ file: p, index, obj: obj as K8sObject });
    });
  }

  for (const patch of asList(k['patches'])) {
    const pr = patch as Record<string, unknown>;
    if (typeof pr['patch'] === 'string') {
      acc.patches.push({
        kustomization: kfile,
        file: kfile,
        docs: parseAllDocuments(pr['patch']).map((d) => d.toJS() as unknown),
        ...targetOf(pr),
      });
      continue;
    }
    const p = fileRef('patches.path', pr['path']);
    if (!p) continue;
    if (!existsSync(p) || !inside(dir, p)) {
      acc.errors.push(`${kfile}: patch "${String(pr['path'])}" is missing or outside the kustomization root`);
      continue;
    }
    acc.files.add(p);
    const parsed = parseYamlFile(p);
    acc.errors.push(...parsed.errors);
    acc.patches.push({ kustomization: kfile, file: p, docs: parsed.docs, ...targetOf(pr) });
  }

  const genOpts = (k['generatorOptions'] ?? {}) as { labels?: Record<string, string> };
  for (const g of asList(k['configMapGenerator'])) {
    const gr = g as { name?: string; namespace?: string; files?: unknown[]; options?: { labels?: Record<string, string> } };
    const files = new Map<string, string>();
    for (const f of asList(gr.files)) {
      const [key, path] = typeof f === 'string' && f.includes('=') ? f.split('=', 2) : [undefined, f];
      const p = fileRef('configMapGenerator.files', path);
      if (!p) continue;
      if (!existsSync(p) || !inside(dir, p)) {
        acc.errors.push(`${kfile}: configMapGenerator file "${String(path)}" is missing or outside the kustomization root`);
        continue;
      }
      acc.files.add(p);
      files.set(key ?? p.slice(dirname(p).length + 1), readFileSync(p, 'utf8'));
    }
    if (!gr.name) acc.errors.push(`${kfile}: configMapGenerator without a name`);
    acc.configMaps.push({
      kustomization: kfile,
      name: gr.name ?? '',
      ...(gr.namespace ? { namespace: gr.namespace } : {}),
      files,
      labels: { ...(genOpts.labels ?? {}), ...(gr.options?.labels ?? {}) },
    });
  }
  for (const i of asList(k['images'])) acc.images.push(i as { name: string });
  return acc;
}

function targetOf(p: Record<string, unknown>): { target?: PatchRef['target'] } {
  const t = p['target'];
  return t && typeof t === 'object' ? { target: t as PatchRef['target'] } : {};
}

/** Does a patch target (kind regex, name, labelSelector `k=v,...`) select this object? */
export function targetMatches(t: NonNullable<PatchRef['target']>, o: K8sObject): boolean {
  if (t.kind && !new RegExp(`^(?:${t.kind})$`).test(o.kind ?? '')) return false;
  if (t.name && !new RegExp(`^(?:${t.name})$`).test(o.metadata?.name ?? '')) return false;
  if (t.namespace && t.namespace !== o.metadata?.namespace) return false;
  if (t.labelSelector) {
    for (const term of t.labelSelector.split(',')) {
      const [key, value] = term.split('=');
      if (o.metadata?.labels?.[key!.trim()] !== value?.trim()) return false;
    }
  }
  return true;
}

/** Every YAML/JSON file under `dir`, recursively. */
export function manifestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...manifestFiles(p));
    else if (/\.(ya?ml|json)$/.test(e.name) || e.name === 'Kustomization') out.push(p);
  }
  return out.sort();
}
