import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatTopologyErrors, MAX_TOPOLOGY_ERRORS, parseTopology } from './topology.js';

const example = readFileSync(fileURLToPath(new URL('../../../examples/topology.yaml', import.meta.url)), 'utf8');

const base = `
nodes:
  - { name: edge-1, zone: edge }
  - { name: cloud-1, zone: cloud }
latency:
  - { from: edge-1, to: cloud-1, rtt: 50 }
services:
  - name: default/hello
    hosts: [hello.default.svc.cluster.local]
    endpoints:
      - { address: 10.0.0.1, port: 8080, node: edge-1 }
`;

test('the shipped example topology is valid', () => {
  const r = parseTopology(example);
  assert.ok(r.ok, r.ok ? '' : formatTopologyErrors(r.errors));
  assert.deepEqual(
    r.topology.nodes.map((n) => n.name),
    ['edge-1', 'edge-2', 'cloud-1'],
  );
  assert.equal(r.topology.services.length, 2);
});

test('a minimal topology parses with defaults filled in', () => {
  const r = parseTopology(base);
  assert.ok(r.ok);
  const [svc] = r.topology.services;
  assert.equal(svc?.protocol, 'http');
  assert.deepEqual(svc?.endpoints[0], { address: '10.0.0.1', port: 8080, node: 'edge-1', ready: true, capacity: 10 });
  assert.equal(r.topology.nodes[0]?.region, 'default');
  assert.deepEqual(r.topology.latency, [{ from: 'edge-1', to: 'cloud-1', rttMs: 50 }]);
});

const bad: Array<[string, string, RegExp, number | undefined]> = [
  [
    'unknown node in an endpoint',
    base.replace('node: edge-1 }', 'node: edge-9 }'),
    /services\[0\]\.endpoints\[0\]\.node: unknown node "edge-9"/,
    11,
  ],
  ['duplicate node names', base.replace('cloud-1, zone: cloud', 'edge-1, zone: cloud'), /nodes\[1\]\.name: duplicate node "edge-1"/, 4],
  ['port out of range', base.replace('port: 8080', 'port: 70000'), /endpoints\[0\]\.port: 70000 is out of range/, 11],
  ['port not an integer', base.replace('port: 8080', 'port: 80.5'), /endpoints\[0\]\.port: 80.5 is not an integer/, 11],
  ['negative RTT', base.replace('rtt: 50', 'rtt: -5'), /latency\[0\]\.rtt: -5 is out of range/, 6],
  ['YAML syntax error', base.replace('- { name: edge-1, zone: edge }', '- { name: edge-1, zone: edge'), /\(document\)/, undefined],
  [
    'duplicate service names',
    base + base.slice(base.indexOf('  - name: default/hello')).replace('hello.default.svc.cluster.local', 'x.example.com'),
    /services\[1\]\.name: duplicate service/,
    undefined,
  ],
  [
    'host owned twice',
    base + base.slice(base.indexOf('  - name: default/hello')).replace('default/hello', 'default/other'),
    /already belongs to service "default\/hello"/,
    undefined,
  ],
  ['bad address', base.replace('10.0.0.1', 'not-an-ip'), /address: "not-an-ip" is not an IPv4 or IPv6 address/, 11],
  ['unknown field', base.replace('zone: edge }', 'zone: edge, colour: red }'), /nodes\[0\]\.colour: unknown field/, 3],
  ['service name without namespace', base.replace('default/hello', 'hello'), /services\[0\]\.name: "hello" is not a valid service name/, 8],
  ['empty document', '', /must be a mapping/, undefined],
  ['latency to self', base.replace('to: cloud-1', 'to: edge-1'), /from and to must differ/, 6],
];

for (const [name, text, pattern, line] of bad) {
  test(`rejects: ${name}`, () => {
    const r = parseTopology(text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const msg = formatTopologyErrors(r.errors);
    assert.match(msg, pattern);
    if (line !== undefined) {
      const e = r.errors.find((x) => pattern.test(`${x.line !== undefined ? `line ${x.line}: ` : ''}${x.path}: ${x.message}`));
      assert.equal(e?.line, line, msg);
    }
  });
}

test('collects every error, not just the first', () => {
  const r = parseTopology(
    base.replace('port: 8080', 'port: -1').replace('rtt: 50', 'rtt: -1').replace('node: edge-1 }', 'node: nowhere }'),
  );
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.errors.length, 3, formatTopologyErrors(r.errors));
});

test('errors carry line and column; a YAML alias to a missing anchor is an error, never a throw', () => {
  const syntax = parseTopology('nodes:\n  - { name: a\n');
  assert.equal(syntax.ok, false);
  if (!syntax.ok) assert.ok(syntax.errors[0]!.line !== undefined && syntax.errors[0]!.column !== undefined, JSON.stringify(syntax.errors));
  const field = parseTopology('nodes:\n  - { name: a }\nlatency:\n  - { from: a, to: a, rtt: -1 }\n');
  assert.equal(field.ok, false);
  if (!field.ok) assert.match(formatTopologyErrors(field.errors), /^line 4, column \d+: latency\[0\]/m);
  for (const text of ['nodes: *typo\n', 'nodes:\n  - *missing\n', 'a: &x [*x]\n']) {
    const r = parseTopology(text);
    assert.equal(r.ok, false, text);
  }
});

test('an alias bomb is cut off, and thousands of errors stay a bounded list', () => {
  const bomb = [
    'a: &a [x, x, x, x, x, x, x, x, x]',
    ...Array.from(
      { length: 8 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
    ),
  ].join('\n');
  const r = parseTopology(bomb);
  assert.equal(r.ok, false);
  const nodes = Array.from({ length: 5000 }, (_, i) => `  - { name: BAD_${i} }`).join('\n');
  const many = parseTopology(`nodes:\n${nodes}\n`);
  assert.equal(many.ok, false);
  if (!many.ok) {
    assert.equal(many.errors.length, MAX_TOPOLOGY_ERRORS);
    assert.equal(many.errors.length + (many.moreErrors ?? 0), 5000);
    assert.match(formatTopologyErrors(many.errors, many.moreErrors), /… and 4950 more$/);
  }
});

test('activators: a service may list them; they are checked like endpoints and kept apart', () => {
  const r = parseTopology(`${base}    activators:\n      - { address: 10.0.0.9, port: 8012, node: cloud-1 }\n`);
  assert.ok(r.ok, r.ok ? '' : formatTopologyErrors(r.errors));
  assert.deepEqual(r.topology.services[0]?.activators, [{ address: '10.0.0.9', port: 8012, node: 'cloud-1', ready: true, capacity: 10 }]);
  assert.equal(r.topology.services[0]?.endpoints.length, 1);
  const bad = parseTopology(`${base}    activators:\n      - { address: 10.0.0.9, port: 8012, node: mars }\n`);
  assert.ok(!bad.ok);
  assert.match(formatTopologyErrors(bad.errors), /services\[0\]\.activators\[0\]\.node: unknown node "mars"/);
});
