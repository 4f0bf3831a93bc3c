/**
 * Helpers for test/ship-monitoring.test.ts: metric names out of PromQL, series names out of a
 * Prometheus text exposition, and the queries of the shipped dashboard and alert rules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Grafana's variables, replaced the way a dashboard would on first load. */
export const GRAFANA_VARS: Readonly<Record<string, string>> = {
  $__rate_interval: '1m',
  $__interval: '15s',
  $__range: '1h',
  $job: 'proxima',
  $probe_job: 'proxima-probe',
};

export function substituteGrafanaVars(expr: string): string {
  return expr.replace(/\$\{?(__rate_interval|__interval|__range|job|probe_job)\}?/g, (_m, v: string) => GRAFANA_VARS[`$${v}`]!);
}

/** Metric names a PromQL expression selects (functions, keywords, labels and numbers excluded). */
export function metricNames(expr: string): string[] {
  let s = substituteGrafanaVars(expr);
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""'); // strings
  s = s.replace(/\{[^}]*\}/g, ' '); // label matchers
  s = s.replace(/\[[^\]]*\]/g, ' '); // ranges and subqueries
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  s = s.replace(/(?<![A-Za-z_:0-9])\d[\d.]*(?:e[+-]?\d+)?/gi, ' '); // numbers
  const names = new Set<string>();
  const re = /[A-Za-z_:][A-Za-z0-9_:]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const rest = s.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/**
 * Metric names in a text exposition: every series, and every `# TYPE` (a labelled metric with no
 * sample yet is still exported), histogram and summary suffixes included.
 */
export function exposedNames(exposition: string): Set<string> {
  const out = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)/.exec(line);
    if (type) {
      out.add(type[1]!);
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(type[1]! + s);
      if (type[2] === 'summary') for (const s of ['_sum', '_count']) out.add(type[1]! + s);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** `name: 'proxima_…'` declarations in src/: base name → declaring file and whether it is a histogram. */
export function declaredMetrics(srcDir: string): Map<string, { file: string; histogram: boolean }> {
  const out = new Map<string, { file: string; histogram: boolean }>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/name:\s*'(proxima_[a-z0-9_]+)'/g)) {
          const histogram = new RegExp(`Histogram\\(\\{[^}]*?name:\\s*'${m[1]}'`, 's').test(text);
          out.set(m[1]!, { file: p, histogram });
        }
      }
    }
  };
  walk(srcDir);
  return out;
}

/** Series names the declared metrics produce (histograms as `_bucket`/`_sum`/`_count`) → declaring file. */
export function declaredNames(srcDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, { file, histogram }] of declaredMetrics(srcDir))
    for (const n of histogram ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]) out.set(n, file);
  return out;
}

export interface Query {
  readonly where: string;
  readonly expr: string;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

export function dashboardQueries(dashboardJson: string): Query[] {
  const d = JSON.parse(dashboardJson) as { panels: Panel[] };
  const out: Query[] = [];
  const visit = (p: Panel) => {
    for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
    for (const c of p.panels ?? []) visit(c);
  };
  d.panels.forEach(visit);
  return out;
}

export function ruleQueries(rulesYaml: string): Query[] {
  const r = parseYaml(rulesYaml) as { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> };
  return r.groups.flatMap((g) => g.rules.map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: String(rule.expr) })));
}
