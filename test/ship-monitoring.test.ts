/**
 * The shipped observability (manifests/monitoring/) against the real thing. There is no cluster
 * here, so no Prometheus Operator: the alert rules go through Debian's `promtool` (syntax and
 * unit tests), a live `proxima serve` (in-process, loopback) and live probe agents provide the
 * exposition every dashboard/alert query must find its metrics in, and a real Debian `prometheus`
 * scrapes them and answers PromQL, including the RTT matrix with delays injected between agents.
 * Missing tools skip locally and fail under CI.
 */
// Manifests and API answers are untyped YAML/JSON; their shape is what these tests check.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { parseOptions } from '../src/config.js';
import { PROBE_SPEC, SERVE_SPEC } from '../src/cli/specs.js';
import { packageRoot } from '../src/cli/paths.js';
import { startServe, serveOptionsFrom, type ServeHandle } from '../src/cli/serve.js';
import { silentLogger } from '../src/log.js';
import type { ProbeAgent } from '../src/probe/agent.js';
import { probeOptionsFrom, runProbe } from '../src/cli/probe.js';
import { delayProxy } from './probe-helpers.js';
import {
  dashboardQueries,
  declaredMetrics,
  declaredNames,
  exposedNames,
  metricNames,
  ruleQueries,
  substituteGrafanaVars,
  type Query,
} from './ship-promql.js';

const ROOT = packageRoot();
const MON = join(ROOT, 'manifests', 'monitoring');
const RULES = join(MON, 'alerts.rules.yml');
const DASHBOARD = join(MON, 'grafana-dashboard.json');
const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
/** Series Prometheus itself makes for every target. */
const PROMETHEUS_BUILTINS = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_series_added']);
/** prom-client's default Node.js metrics break a promtool naming lint; they are not Proxima's to rename. */
const PROM_CLIENT_DEFAULT_LINTS =
  /^proxima_process_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
/** One-way delay injected between the two probe agents (edge-1 → edge-2 and back). */
const ONE_WAY_MS = 25;

function need(t: TestContext, path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env['CI']) assert.fail(`${path} is required in CI (Debian package prometheus; .ci/setup.sh installs it)`);
  t.skip(`${path} not found (apt-get install prometheus); skipped locally`);
  return false;
}

const allQueries = (): Query[] => [...dashboardQueries(readFileSync(DASHBOARD, 'utf8')), ...ruleQueries(readFileSync(RULES, 'utf8'))];

/** A live control plane and two probe agents with ONE_WAY_MS injected between them, all on loopback. */
interface Live {
  serve: ServeHandle;
  agents: ProbeAgent[];
  agentAdmin: string[];
  close(): Promise<void>;
}

async function startLive(): Promise<Live> {
  const o = parseOptions(
    SERVE_SPEC,
    [
      '--policy',
      'nearest',
      '--xds-listen',
      '127.0.0.1:0',
      '--extproc-listen',
      '127.0.0.1:0',
      '--extender-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
    ],
    {},
  );
  const serve = await startServe(serveOptionsFrom(o), silentLogger(), new Registry());
  const agents: ProbeAgent[] = [];
  const closers: Array<() => Promise<void>> = [() => serve.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    // `proxima probe` as the DaemonSet runs it (same flags), against this control plane. Each agent
    // advertises a delaying TCP proxy in front of itself, so the peer list the control plane hands
    // out makes every probe cross ONE_WAY_MS in each direction.
    const agentAdmin: string[] = [];
    for (const node of ['edge-1', 'edge-2']) {
      const i = agents.length;
      const proxy = await delayProxy(() => agents[i]?.listenPort ?? 1, ONE_WAY_MS);
      closers.push(proxy.close);
      const adminPort = await freePort();
      const argv = [
        `--node=${node}`,
        `--control-plane=${serve.addresses.xds}`,
        '--listen=127.0.0.1:0',
        `--advertise=127.0.0.1:${proxy.port}`,
        `--admin-listen=127.0.0.1:${adminPort}`,
        '--interval-ms=200',
        '--timeout-ms=150',
      ];
      const agent = await runProbe(probeOptionsFrom(parseOptions(PROBE_SPEC, argv, {})), silentLogger(), new Registry());
      agents.push(agent);
      closers.push(() => agent.close());
      agentAdmin.push(`127.0.0.1:${adminPort}`);
    }
    return { serve, agents, agentAdmin, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function get(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200, `GET ${url}`);
  return r.text();
}

test('alert rules pass `promtool check rules` and their unit tests (`promtool test rules`)', (t) => {
  if (!need(t, PROMTOOL)) return;
  const check = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = spawnSync(PROMTOOL, ['test', 'rules', join(ROOT, 'test', 'ship-alerts.promtool.yml')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
});

test('the PrometheusRule carries exactly the groups of alerts.rules.yml', () => {
  const plain = parseYaml(readFileSync(RULES, 'utf8')) as { groups: unknown };
  const cr = parseYaml(readFileSync(join(MON, 'alerts.yaml'), 'utf8')) as { kind: string; spec: { groups: unknown } };
  assert.equal(cr.kind, 'PrometheusRule');
  assert.deepEqual(cr.spec.groups, plain.groups);
});

test('the dashboard is well-formed: unique ids, one data source variable, every panel queries something', () => {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: Array<Record<string, any>>;
    templating: { list: Array<{ name: string }> };
  };
  assert.ok(d.uid);
  assert.ok(d.templating.list.some((v) => v.name === 'datasource'));
  const ids = d.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of d.panels) {
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
    if (p.type === 'row') continue;
    assert.equal(p.datasource?.uid, '${datasource}', `${p.title} uses the data source variable`);
    assert.ok(p.targets?.length > 0 && p.targets.every((x: any) => x.expr && x.refId), `${p.title} has queries`);
  }
  const titles = d.panels.map((p) => String(p.title).toLowerCase()).join(' | ');
  for (const topic of ['rtt matrix', 'push latency', 'ack', 'decision', 'placements', 'local vs remote'])
    assert.ok(titles.includes(topic), `a panel about ${topic}`);
  const kust = parseYaml(readFileSync(join(MON, 'kustomization.yaml'), 'utf8')) as any;
  const gen = kust.configMapGenerator.find((g: any) => g.files.includes('grafana-dashboard.json'));
  assert.equal(gen.options.labels.grafana_dashboard, '1', 'the ConfigMap carries the grafana_dashboard label');
});

test('PromQL name extraction (it can fail)', () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (le, type) (rate(proxima_xds_push_latency_seconds_bucket{job=~"$job"}[$__rate_interval])))',
    ),
    ['proxima_xds_push_latency_seconds_bucket'],
  );
  assert.deepEqual(metricNames('sum(up{job="proxima"}) == 0 or absent(up{job="proxima"})'), ['up']);
  assert.deepEqual(metricNames('a / clamp_min(b, 1e-9) > 0.2 unless on (x) c'), ['a', 'b', 'c']);
});

test('a live `proxima serve` exposition passes `promtool check metrics`; every metric the dashboard and alerts query is exported', async (t) => {
  const live = await startLive();
  try {
    const serveText = await get(`http://${live.serve.addresses.admin}/metrics`);
    const probeText = await Promise.all(live.agentAdmin.map((a) => get(`http://${a}/metrics`)));

    if (need(t, PROMTOOL)) {
      for (const [what, text] of [
        ['serve', serveText],
        ['probe', probeText[0]!],
      ] as const) {
        const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
        const problems = (r.stdout + r.stderr)
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !PROM_CLIENT_DEFAULT_LINTS.test(l));
        assert.deepEqual(problems, [], `promtool check metrics on proxima ${what}`);
        assert.ok(r.status === 0 || r.status === 3, `promtool parsed the ${what} exposition (exit ${r.status})`);
      }
    }

    const exposed = new Set([...exposedNames(serveText), ...probeText.flatMap((p) => [...exposedNames(p)]), ...PROMETHEUS_BUILTINS]);
    const declared = declaredNames(join(ROOT, 'src'));
    const invented: string[] = [];
    const unwired = new Map<string, string>();
    for (const q of allQueries()) {
      for (const name of metricNames(q.expr)) {
        if (exposed.has(name)) continue;
        if (declared.has(name)) unwired.set(name, `${q.where} (declared in ${declared.get(name)!.slice(ROOT.length + 1)})`);
        else invented.push(`${q.where}: ${name}`);
      }
    }
    assert.deepEqual(invented, [], 'queries name metrics that no Proxima code exports');
    if (unwired.size > 0) {
      // Declared by a part's metrics factory but not registered by `proxima serve` yet (or only with
      // --kubernetes, which needs a cluster). Reported, not failed, until serve wires the part.
      await t.test(`metrics not exported by a live proxima serve yet: ${[...unwired.keys()].join(', ')}`, { todo: true }, () => {
        assert.fail([...unwired].map(([n, w]) => `${n}: ${w}`).join('\n'));
      });
    }
  } finally {
    await live.close();
  }
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

test('a real Prometheus scrapes proxima serve and probe agents: PromQL returns data, the RTT matrix shows the injected delay, every query parses', async (t) => {
  if (!need(t, PROMETHEUS)) return;
  const live = await startLive();
  const dir = mkdtempSync(join(tmpdir(), 'proxima-ship-prom-'));
  let prom: ChildProcess | undefined;
  let stderr = '';
  try {
    const port = await freePort();
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [RULES],
      scrape_configs: [
        { job_name: 'proxima', static_configs: [{ targets: [live.serve.addresses.admin], labels: { node: 'cloud-1' } }] },
        {
          job_name: 'proxima-probe',
          static_configs: live.agentAdmin.map((a, i) => ({ targets: [a], labels: { node: `edge-${i + 1}` } })),
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const api = `http://127.0.0.1:${port}`;
    const query = async (q: string): Promise<PromResult[]> => {
      const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
      const body = (await r.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
      if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
      return body.data!.result;
    };
    await until('Prometheus ready', async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined), 20_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${stderr}`);
    });

    await until(
      'both jobs scraped and up',
      async () => {
        const up = await query('up == 1');
        return up.length === 3 ? up : undefined;
      },
      20_000,
    );
    const recomputes = await until(
      'proxima_assignment_recomputes_total scraped',
      async () => {
        const r = await query('proxima_assignment_recomputes_total{job="proxima"}');
        return r.length ? r : undefined;
      },
      10_000,
    );
    assert.ok(Number(recomputes[0]!.value[1]) >= 1, 'the policy ran at least once');

    // The dashboard's RTT matrix query, as Grafana sends it.
    const matrixQuery = substituteGrafanaVars('max by (node, peer) (proxima_probe_rtt_milliseconds{job=~"$probe_job"})');
    const matrix = await until(
      'RTT matrix edge-1 ⇄ edge-2',
      async () => {
        const r = await query(matrixQuery);
        return r.length === 2 ? r : undefined;
      },
      15_000,
    );
    const rtt = (from: string, to: string) => Number(matrix.find((m) => m.metric['node'] === from && m.metric['peer'] === to)?.value[1]);
    for (const [from, to] of [
      ['edge-1', 'edge-2'],
      ['edge-2', 'edge-1'],
    ] as const) {
      const ms = rtt(from, to);
      t.diagnostic(`RTT ${from} → ${to} through Prometheus: ${ms.toFixed(1)} ms (injected ${2 * ONE_WAY_MS} ms)`);
      // Two one-way delays per round trip; the upper bound leaves room for a busy 2-core machine.
      assert.ok(ms >= 2 * ONE_WAY_MS * 0.9 && ms <= 2 * ONE_WAY_MS + 100, `RTT ${from} → ${to} = ${ms} ms, injected ${2 * ONE_WAY_MS} ms`);
    }

    // The agents' reports reached the control plane (its collector fed RTT rows into the model).
    await until(
      'RTT rows at the control plane',
      async () => {
        const r = await query('proxima_probe_collector_rows_total{job="proxima"} > 0');
        return r.length ? r : undefined;
      },
      10_000,
    );

    // Every dashboard and alert query is valid PromQL for this Prometheus.
    const bad: string[] = [];
    for (const q of allQueries()) await query(substituteGrafanaVars(q.expr)).catch((err: Error) => bad.push(`${q.where}: ${err.message}`));
    assert.deepEqual(bad, []);

    // The alert rules loaded and evaluate cleanly against live data.
    const rules = await until(
      'rules evaluated',
      async () => {
        const r = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
        };
        const all = r.data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((x) => x.health === 'ok') ? all : undefined;
      },
      10_000,
    );
    assert.equal(rules.length, ruleQueries(readFileSync(RULES, 'utf8')).length);
    const firing = await query('ALERTS{alertstate="firing",alertname=~"ProximaControlPlaneDown|ProximaNodeUnreachable"}');
    assert.deepEqual(firing, [], 'nothing is down, so nothing fires');
  } finally {
    if (prom && prom.exitCode === null) {
      const exited = new Promise<void>((r) => prom!.once('exit', () => r()));
      prom.kill('SIGTERM');
      const timer = setTimeout(() => prom!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await live.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/operations.md documents every metric the code declares, and no metric it does not', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(proxima_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
  const declared = new Set(declaredMetrics(join(ROOT, 'src')).keys());
  assert.ok(declared.size > 20, `found ${declared.size} metric declarations in src/`);
  const missing = [...declared].filter((n) => !documented.has(n)).sort();
  const stale = [...documented].filter((n) => !declared.has(n)).sort();
  assert.deepEqual(missing, [], 'add a row to the metrics table in docs/operations.md');
  assert.deepEqual(stale, [], 'rows for metrics no code declares');
});
