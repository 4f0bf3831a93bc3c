import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestAssignment } from './best.js';
import { sharesDistance } from './stats.js';
import { faastScenario } from './scenario.js';

test('best assignment for the true inputs: the demo delay step changes which gateway spills to the cloud', () => {
  const s = faastScenario('quick', 1);
  const podsDown = new Set(['edge-1']);
  const before = bestAssignment(s, { links: s.links, podsDown, users: 10 });
  const stepped = s.links.map((l) => (l.a === 'edge-1' && l.b === 'cloud-1' ? { ...l, rttMs: l.rttMs + 100 } : l));
  const after = bestAssignment(s, { links: stepped, podsDown, users: 10 });
  // Before: edge-1 (no pods) spills to the 50 ms cloud, edge-2 stays local.
  assert.ok((before['edge-1']!['cloud-1'] ?? 0) > 50, JSON.stringify(before));
  assert.equal(before['edge-2']!['edge-2'], 100);
  // After: edge-1 goes to edge-2 (20 ms) and edge-2, 100 ms from the cloud, spills instead of edge-1 (150 ms).
  assert.equal(after['edge-1']!['edge-2'], 100, JSON.stringify(after));
  assert.ok((after['edge-2']!['cloud-1'] ?? 0) > 20, JSON.stringify(after));
  assert.ok(sharesDistance(before['edge-1']!, after['edge-1']!) > 50);
});

test('sharesDistance is the largest per-node difference', () => {
  assert.equal(sharesDistance({ a: 70, b: 30 }, { a: 50, c: 50 }), 50);
  assert.equal(sharesDistance({}, {}), 0);
});

test('best assignment: judged on the demand the gateways really got; more from edge-1 leaves edge-2 less room at home', () => {
  const s = faastScenario('quick', 1);
  const podsDown = new Set(['edge-1']);
  const links = s.links.map((l) => (l.a === 'edge-1' && l.b === 'cloud-1' ? { ...l, rttMs: l.rttMs + 100 } : l));
  const nominal = bestAssignment(s, { links, podsDown, users: 10 });
  // The configured 10 users × 10 requests/s split evenly is the same input spelled out: the same split.
  assert.deepEqual(bestAssignment(s, { links, podsDown, users: 10, offeredRps: { 'edge-1': 50, 'edge-2': 50 } }), nominal);
  // A Poisson draw 3 requests/s above the mean at edge-1 (all of it to edge-2) moves edge-2's best by
  // more than the delay step's 5-point tolerance: the reference must be the drawn demand.
  const busier = bestAssignment(s, { links, podsDown, users: 10, offeredRps: { 'edge-1': 53, 'edge-2': 50 } });
  assert.equal(busier['edge-1']!['edge-2'], 100, JSON.stringify(busier));
  assert.ok(nominal['edge-2']!['edge-2']! - busier['edge-2']!['edge-2']! > 5, `${JSON.stringify(nominal)} vs ${JSON.stringify(busier)}`);
});
