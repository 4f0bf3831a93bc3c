import type { ModelStore } from '../model/store.js';
import { matrixChart } from '../report/svg.js';

/** One observed flow: requests/s entering `gateway` and served on `node`. */
export interface TrafficFlow {
  readonly gateway: string;
  readonly node: string;
  readonly rps: number;
}

/** The effective RTT matrix as an SVG heat map (what the policy uses right now). */
export function rttMatrixSvg(store: ModelStore, nowMs: number): string {
  const nodes = store.nodeNames().sort();
  return matrixChart(nodes, nodes, (r, c) => (store.reachable(r, c, nowMs) ? store.rttMs(r, c, nowMs) : undefined), {
    title: 'RTT matrix (ms; – = unreachable)',
    unit: '',
    rowLabel: 'from',
    colLabel: 'to',
  });
}

/** Gateway → serving node traffic (requests/s) as an SVG heat map. */
export function trafficMatrixSvg(store: ModelStore, flows: readonly TrafficFlow[]): string {
  const nodes = store.nodeNames().sort();
  const gateways = [...new Set([...nodes, ...flows.map((f) => f.gateway)])].sort();
  const cell = new Map<string, number>();
  for (const f of flows) cell.set(`${f.gateway}>${f.node}`, (cell.get(`${f.gateway}>${f.node}`) ?? 0) + f.rps);
  return matrixChart(gateways, nodes, (g, n) => cell.get(`${g}>${n}`) ?? 0, {
    title: 'traffic gateway → serving node (req/s)',
    unit: '',
    rowLabel: 'gateway',
    colLabel: 'served on',
  });
}

/**
 * The live page at /ui: self-contained (no CDN: edge clusters and this machine have no internet),
 * refreshing the RTT matrix, the traffic matrix and each gateway's assignment every 2 s.
 */
export function uiPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Proxima — live routing</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} .sub{color:#666;margin-bottom:12px}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
table{border-collapse:collapse;font-size:13px} td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}
.bar{display:inline-block;height:10px;background:#1f77b4;vertical-align:middle;margin-right:4px}
.p1{background:#aaa}.err{color:#b00}
.warn{background:#fff4e5;border:1px solid #f0a030;border-radius:6px;padding:8px 10px;margin-bottom:12px;white-space:pre-wrap}
</style></head>
<body>
<h1>Proxima — live routing</h1>
<div class="sub" id="status">loading…</div>
<div class="warn" id="topology-warning" hidden></div>
<div class="row">
  <div class="card"><img id="rtt" alt="RTT matrix"></div>
  <div class="card"><img id="traffic" alt="traffic matrix"></div>
</div>
<h2>Assignments (priority 0 receives traffic; lower priorities are failover)</h2>
<div class="card"><table id="assignments"><thead><tr><th>service</th><th>gateway</th><th>localities</th><th>why</th></tr></thead><tbody></tbody></table></div>
<script>
'use strict';
function el(tag, text, cls){const e=document.createElement(tag); if(text!==undefined) e.textContent=text; if(cls) e.className=cls; return e;}
async function refresh(){
  const stamp = Date.now();
  document.getElementById('rtt').src = '/ui/rtt.svg?t=' + stamp;
  document.getElementById('traffic').src = '/ui/traffic.svg?t=' + stamp;
  try {
    const r = await fetch('/debug/assignments');
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const data = await r.json();
    const body = document.querySelector('#assignments tbody');
    body.replaceChildren();
    for (const [service, s] of Object.entries(data.services)) {
      for (const [gateway, a] of Object.entries(s.gateways)) {
        const tr = el('tr');
        tr.append(el('td', service), el('td', gateway));
        const td = el('td');
        for (const l of a.localities) {
          const line = el('div');
          const bar = el('span', undefined, 'bar' + (l.priority > 0 ? ' p1' : ''));
          bar.style.width = Math.max(2, l.priority === 0 ? l.sharePercent : 4) + 'px';
          line.append(bar, document.createTextNode(l.node + ' p' + l.priority + (l.priority === 0 ? ' ' + l.sharePercent + '%' : '') + (l.rttMs !== null ? ' (' + l.rttMs + ' ms)' : '')));
          td.append(line);
        }
        tr.append(td, el('td', a.reason));
        body.append(tr);
      }
    }
    await showTopologyState();
    document.getElementById('status').textContent = 'policy ' + data.policy + ' · model generation ' + data.generation + ' · updated ' + new Date().toLocaleTimeString();
    document.getElementById('status').className = 'sub';
  } catch (e) {
    document.getElementById('status').textContent = 'cannot reach the control plane: ' + e.message;
    document.getElementById('status').className = 'sub err';
  }
}
async function showTopologyState(){
  const box = document.getElementById('topology-warning');
  const r = await fetch('/debug/source');
  const src = r.ok ? await r.json() : undefined;
  if (!src || src.kind !== 'file' || src.status !== 'invalid') { box.hidden = true; return; }
  const errs = src.errors.map((e) => (e.line ? 'line ' + e.line + (e.column ? ', column ' + e.column : '') + ': ' : '') + e.path + ': ' + e.message);
  if (src.moreErrors) errs.push('… and ' + src.moreErrors + ' more');
  box.textContent = 'The topology file ' + src.path + ' was refused (since ' + src.invalidSince + '); the last good one is in force' +
    (src.lastGood ? ' (' + src.lastGood.hash + ', applied ' + src.lastGood.appliedAt + ')' : '') + ':\\n' + errs.join('\\n');
  box.hidden = false;
}
refresh();
setInterval(refresh, 2000);
</script>
</body></html>
`;
}
