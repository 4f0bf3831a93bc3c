/**
 * The docs against the code. For README.md, docs/*.md, envoy/README.md, loadtest/README.md and
 * manifests/*.md:
 * - every flag given to `proxima serve|probe|demo` is an option of that subcommand (src/cli/specs.ts),
 *   and every other `--flag` is a Proxima option or a listed flag of another tool;
 * - every `PROXIMA_*` name is an env var derived from the specs (src/config.ts envName), the ext_proc
 *   opt-in key, or an env var a shipped manifest sets;
 * - every `proxima_*` name is a metric that a running `proxima serve` and `proxima probe` (or the
 *   Kubernetes source's metric set) register — read from the real registries — a k6 metric the
 *   loadtest scripts define, or an xDS resource name the code builds;
 * - every relative link resolves inside the repository (and to a heading, when it has an anchor);
 * - nothing points at documents outside the repository (shared/, DESIGN.md …), in docs or code;
 * - manifests/rbac-notes.md's rules table is what the shipped ClusterRole grants.
 * Each checker is also run on a planted bad fixture, so each can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import ts from 'typescript';
import { Registry } from 'prom-client';
import { envName } from '../src/config.js';
import { DEMO_SPEC, PROBE_SPEC, SERVE_SPEC } from '../src/cli/specs.js';
import { CLOSED_LOOP_SPEC } from '../src/cli/closed-loop.js';
import { packageRoot } from '../src/cli/paths.js';
import { startServe } from '../src/cli/serve.js';
import { runProbe } from '../src/cli/probe.js';
import { silentLogger } from '../src/log.js';
import { createKubernetesMetrics } from '../src/sources/kubernetes/metrics.js';
import { EXTPROC_CLUSTER, EXTPROC_OPT_IN_KEY, ORIGINAL_DST_CLUSTER, PICKED_ROUTE } from '../src/xds/resources/extproc.js';
import { testServeOptions } from './helpers/serve-options.js';
import { manifestFiles } from './ship-kustomize.js';
import { sourceFiles } from './repo-imports.js';
import {
  brokenLinks,
  commandFlags,
  outsideReferences,
  rbacTableRules,
  unknownCommandFlags,
  unknownEnvVars,
  unknownFlags,
  unknownProximaNames,
  type Doc,
  type Subcommand,
} from './docs-drift.js';

const ROOT = packageRoot();
const rel = (p: string) => relative(ROOT, p);
const read = (repoPath: string) => readFileSync(join(ROOT, repoPath), 'utf8');
const mdIn = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => (dir === '.' ? f : `${dir}/${f}`));

const DOC_FILES = ['README.md', ...mdIn('docs'), 'envoy/README.md', 'loadtest/README.md', ...mdIn('manifests')];
const docs = (): Doc[] => DOC_FILES.map((file) => ({ file, text: read(file) }));

/** Flags of other tools the docs show, and whose they are. A new one is a deliberate addition here. */
const FOREIGN_FLAGS: ReadonlyMap<string, string> = new Map([
  ['env', 'k6 run'],
  ['compatibility-mode', 'k6 run'],
  ['replicas', 'kubectl scale'],
  ['from-file', 'kubectl create secret'],
  ['type', 'kubectl patch'],
  ['service-node', 'envoy'],
  ['service-cluster', 'envoy'],
  ['service-zone', 'envoy'],
  ['config-yaml', 'envoy'],
  ['mode', 'envoy'],
  ['name', 'kind load docker-image'],
  ['kube-scheduler-arg', 'k3s server'],
  ['disable', 'k3s server'],
  ['test', 'node'],
  ['expose-gc', 'node'],
  ['cpu-prof', 'node'],
  ['reps', 'test/bench/full-compute-probe.ts'],
  ['alloc', 'test/bench/full-compute-probe.ts'],
  ['check', 'prettier'],
  ['include_imports', 'protoc'],
]);

const SPECS: ReadonlyMap<Subcommand, typeof SERVE_SPEC> = new Map([
  ['serve', SERVE_SPEC],
  ['probe', PROBE_SPEC],
  ['demo', DEMO_SPEC],
  ['closed-loop', CLOSED_LOOP_SPEC],
]);
// Boolean options also take the --no-NAME form (src/config.ts).
const optionsOf = (spec: typeof SERVE_SPEC) =>
  new Set(['help', ...spec.options.flatMap((o) => (o.kind === 'boolean' ? [o.name, `no-${o.name}`] : [o.name]))]);
const commandOptions = new Map([...SPECS].map(([name, spec]) => [name, optionsOf(spec)] as const));
const allOptions = new Set([...commandOptions.values()].flatMap((s) => [...s]));

/** Env var names the shipped manifests set on containers. */
function manifestEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (Array.isArray(o['containers']))
      for (const c of o['containers'] as Array<{ env?: Array<{ name?: string }> }>)
        for (const e of c.env ?? []) if (e.name) names.add(e.name);
    Object.values(o).forEach(walk);
  };
  for (const f of manifestFiles(join(ROOT, 'manifests')).filter((x) => /\.ya?ml$/.test(x)))
    for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) walk(d.toJS());
  return names;
}

/** k6 metrics the loadtest scripts create: `new Counter|Rate|Trend|Gauge('name')`, read with the TypeScript parser. */
function k6MetricNames(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'loadtest'))) {
    const visit = (node: ts.Node): void => {
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        ['Counter', 'Rate', 'Trend', 'Gauge'].includes(node.expression.text) &&
        node.arguments?.[0] &&
        ts.isStringLiteral(node.arguments[0])
      )
        names.add(node.arguments[0].text);
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true));
  }
  return names;
}

/** Metric names in a registry, with the series names a histogram or summary adds. */
async function registryNames(registry: Registry): Promise<string[]> {
  const out: string[] = [];
  for (const m of await registry.getMetricsAsJSON()) {
    out.push(m.name);
    if (String(m.type) === 'histogram') out.push(`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`);
    if (String(m.type) === 'summary') out.push(`${m.name}_sum`, `${m.name}_count`);
  }
  return out;
}

/** Every metric a running `proxima serve` and `proxima probe` register, plus the Kubernetes source's. */
async function registeredMetricNames(): Promise<Set<string>> {
  const serveRegistry = new Registry();
  const serve = await startServe(
    testServeOptions({ topologyPath: join(ROOT, 'examples', 'topology.yaml') }),
    silentLogger(),
    serveRegistry,
  );
  try {
    const probeRegistry = new Registry();
    const agent = await runProbe(
      {
        node: 'edge-1',
        controlPlane: serve.addresses.xds,
        listen: { host: '127.0.0.1', port: 0 },
        adminListen: { host: '127.0.0.1', port: 0 },
        intervalMs: 60_000,
        timeoutMs: 1000,
        maxPeers: 32,
        nearRttMs: 10,
        // On by default in `proxima probe`: its metrics are part of what the agent exports.
        queueProxy: { intervalMs: 60_000, timeoutMs: 1000, concurrency: 1 },
      },
      silentLogger(),
      probeRegistry,
    );
    try {
      const kubernetesRegistry = new Registry();
      createKubernetesMetrics(kubernetesRegistry);
      return new Set([
        ...(await registryNames(serveRegistry)),
        ...(await registryNames(probeRegistry)),
        ...(await registryNames(kubernetesRegistry)),
      ]);
    } finally {
      await agent.close();
    }
  } finally {
    await serve.close();
  }
}

test('every flag given to proxima serve|probe|demo in the docs is an option of that subcommand', () => {
  const found = docs().flatMap((d) => commandFlags(d));
  assert.ok(found.length > 20, `found ${found.length} flags in proxima command lines`);
  assert.deepEqual(
    docs().flatMap((d) => unknownCommandFlags(d, commandOptions)),
    [],
  );
});

test('every --flag in the docs is a Proxima option or a listed flag of another tool', () => {
  assert.deepEqual(
    docs().flatMap((d) => unknownFlags(d, allOptions, FOREIGN_FLAGS)),
    [],
  );
  // The list of foreign flags stays honest: each is still used somewhere and is no Proxima option.
  const text = docs()
    .map((d) => d.text)
    .join('\n');
  for (const flag of FOREIGN_FLAGS.keys()) {
    assert.ok(text.includes(`--${flag}`), `--${flag} (${FOREIGN_FLAGS.get(flag)}) is no longer in the docs: drop it from FOREIGN_FLAGS`);
    assert.ok(!allOptions.has(flag), `--${flag} is a Proxima option now: drop it from FOREIGN_FLAGS`);
  }
});

test('the flag checks catch a wrong flag (fixture)', () => {
  const doc: Doc = {
    file: 'fixture.md',
    text: [
      'Run `proxima serve --topology x.yaml --xds-listn :18000` or',
      '```sh',
      'proxima probe --node edge-1 \\',
      '  --max-peers 8 --topology t.yaml   # serve has --topology, probe does not',
      'npm run demo -- --quick --seedz 3 | tee out.txt --not-a-demo-flag',
      '```',
      'and `--frobnicate`.',
    ].join('\n'),
  };
  assert.deepEqual(unknownCommandFlags(doc, commandOptions), [
    'fixture.md:1: `proxima serve` has no option --xds-listn',
    'fixture.md:3: `proxima probe` has no option --topology',
    'fixture.md:5: `proxima demo` has no option --seedz',
  ]);
  assert.deepEqual(
    unknownFlags(doc, allOptions, FOREIGN_FLAGS).map((p) => p.split(' ')[0]),
    ['fixture.md:1:', 'fixture.md:5:', 'fixture.md:5:', 'fixture.md:7:'],
  );
});

test('every PROXIMA_* name in the docs is an env var from the option specs, the ext_proc key or a manifest env var', () => {
  const known = new Set([...allOptions].map(envName));
  known.add(EXTPROC_OPT_IN_KEY);
  for (const n of manifestEnvNames()) if (n.startsWith('PROXIMA_')) known.add(n);
  assert.ok(known.has('PROXIMA_XDS_LISTEN') && known.has('PROXIMA_NODE'), 'env names derived from the specs');
  assert.deepEqual(
    docs().flatMap((d) => unknownEnvVars(d, known)),
    [],
  );
  const fixture: Doc = { file: 'fixture.md', text: 'Set `PROXIMA_XDS_LISTEN` or `PROXIMA_XDS_PORT`.' };
  assert.deepEqual(unknownEnvVars(fixture, known), ['fixture.md:1: PROXIMA_XDS_PORT is not an env var or key Proxima defines']);
});

test('every proxima_* name in the docs is a registered metric, a k6 metric of loadtest/ or an xDS resource name', async () => {
  const metrics = await registeredMetricNames();
  assert.ok(metrics.has('proxima_xds_unknown_node_streams'), 'serve registered its xDS metrics');
  assert.ok(metrics.has('proxima_probe_rtt_milliseconds'), 'the probe agent registered its metrics');
  assert.ok(metrics.has('proxima_extproc_decision_duration_seconds_bucket'), 'histogram series names are included');
  const k6 = k6MetricNames();
  assert.ok(k6.has('proxima_served_requests'), 'the k6 metrics were read');
  const known = new Set([...metrics, ...k6, EXTPROC_CLUSTER, ORIGINAL_DST_CLUSTER, PICKED_ROUTE]);
  assert.deepEqual(
    docs().flatMap((d) => unknownProximaNames(d, known)),
    [],
  );
  // The name loadtest/README.md used to give the ext_proc server histogram is caught.
  const fixture: Doc = { file: 'fixture.md', text: 'Compare with `proxima_extproc_decision_seconds`; `proxima_process_` metrics.' };
  assert.deepEqual(unknownProximaNames(fixture, known), [
    'fixture.md:1: proxima_extproc_decision_seconds is not a metric or resource name the code defines',
  ]);
});

test('every relative link in the docs resolves inside the repository', () => {
  assert.deepEqual(
    docs().flatMap((d) => brokenLinks(d, ROOT, read)),
    [],
  );
  const fixture: Doc = {
    file: 'docs/fixture.md',
    text: '[ok](operations.md#metrics) [gone](missing.md) [anchor](../README.md#no-such-heading) [out](../../shared/x.md) [web](https://example.com)',
  };
  assert.deepEqual(brokenLinks(fixture, ROOT, read), [
    'docs/fixture.md:1: missing.md does not exist',
    'docs/fixture.md:1: ../README.md#no-such-heading: no heading with anchor #no-such-heading in README.md',
    'docs/fixture.md:1: ../../shared/x.md points outside the repository',
  ]);
});

test('no doc or code comment refers to documents outside the repository', () => {
  const code = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'test'))]
    .filter((f) => !f.endsWith('docs-drift.test.ts'))
    .map((f) => ({ file: rel(f), text: readFileSync(f, 'utf8') }));
  assert.deepEqual([...docs(), ...code].flatMap(outsideReferences), []);
  const design = 'DESIGN' + '.md';
  const fixture: Doc = { file: 'fixture.md', text: `See ${design} and ../shared/REFERENCE.md; proxima.dev/shared-with-kourier is fine.` };
  assert.equal(outsideReferences(fixture).length, 3);
});

test("manifests/rbac-notes.md's rules table is exactly what the shipped ClusterRole grants", () => {
  const documented = rbacTableRules(read('manifests/rbac-notes.md'));
  const role = parseAllDocuments(read('manifests/base/rbac.yaml'))
    .map(
      (d) =>
        d.toJS() as {
          kind?: string;
          metadata?: { name?: string };
          rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
        },
    )
    .find((o) => o.kind === 'ClusterRole' && o.metadata?.name === 'proxima-control-plane');
  assert.ok(role, 'manifests/base/rbac.yaml has the ClusterRole proxima-control-plane that rbac-notes.md names');
  assert.match(read('manifests/rbac-notes.md'), /`proxima-control-plane`/);
  const granted = new Set<string>();
  for (const r of role.rules ?? [])
    for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) granted.add(`${g}/${res}:${v}`);
  assert.ok(documented.size >= 10, `read ${documented.size} documented rules`);
  assert.deepEqual([...documented].sort(), [...granted].sort());
  const fixture = '| API group | resource | verbs | why |\n| --- | --- | --- | --- |\n| "" (core) | pods | get | planted |';
  assert.deepEqual([...rbacTableRules(fixture)], ['/pods:get']);
});

/** The docs speak to a reader on their own machine, never of "this machine" (the one they were written on). */
export function writerMachinePhrases(doc: Doc): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(/\bthis (?:(?:shared |2-core |two-core )*machine|kernel|box)\b/gi))
    out.push(`${doc.file}:${doc.text.slice(0, m.index).split('\n').length}: "${m[0]}"`);
  return out;
}

test('no doc speaks of "this machine" or "this kernel" (a reader is not on the writer\'s machine)', () => {
  assert.deepEqual(
    docs().flatMap((d) => writerMachinePhrases(d)),
    [],
  );
  assert.deepEqual(writerMachinePhrases({ file: 'f.md', text: 'a\nrun on this shared 2-core machine and this kernel' }), [
    'f.md:2: "this shared 2-core machine"',
    'f.md:2: "this kernel"',
  ]);
});
