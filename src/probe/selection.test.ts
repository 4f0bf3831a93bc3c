import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectPeers, type PeerView } from './selection.js';

const peer = (name: string, rttMs: number | undefined, extra: Partial<PeerView> = {}): PeerView => ({
  name,
  rttMs,
  reachable: true,
  suspect: false,
  probed: rttMs !== undefined,
  ...extra,
});

test('small clusters: every peer every round', () => {
  const peers = [peer('a', 5), peer('b', 50), peer('c', undefined)];
  const s = selectPeers({ peers, maxPeers: 32, nearRttMs: 10, cursor: 0 });
  assert.deepEqual([...s.names].sort(), ['a', 'b', 'c']);
});

test('large clusters: near + suspect + a rotating slice that covers everyone over n/k rounds', () => {
  const peers: PeerView[] = [];
  for (let i = 0; i < 1000; i++) peers.push(peer(`n${String(i).padStart(4, '0')}`, i < 5 ? 2 : 80));
  peers[500] = peer(peers[500]!.name, 80, { suspect: true });
  const seen = new Set<string>();
  let cursor = 0;
  const rounds = Math.ceil(995 / 32) + 1;
  for (let r = 0; r < rounds; r++) {
    const s = selectPeers({ peers, maxPeers: 32, nearRttMs: 10, cursor });
    cursor = s.nextCursor;
    assert.equal(s.near, 5);
    assert.equal(s.suspect, 1);
    assert.equal(s.rotating, 32);
    assert.ok(s.names.length <= 3 * 32);
    for (const n of ['n0000', 'n0001', 'n0004', 'n0500']) assert.ok(s.names.includes(n), `${n} probed every round`);
    for (const n of s.names) seen.add(n);
  }
  assert.equal(seen.size, 1000, 'the rotation reaches every peer');
});

test('never-probed peers (a new node) are probed in the next round', () => {
  const peers: PeerView[] = [];
  for (let i = 0; i < 100; i++) peers.push(peer(`p${i}`, 50));
  peers.push(peer('new-node', undefined));
  const s = selectPeers({ peers, maxPeers: 4, nearRttMs: 10, cursor: 37 });
  assert.ok(s.names.includes('new-node'));
  assert.equal(s.names.length, 4);
});

test('near peers are capped at maxPeers, nearest first; unreachable peers are never "near"', () => {
  const peers = [peer('a', 3), peer('b', 1), peer('c', 2), peer('d', 0.5, { reachable: false })];
  const s = selectPeers({ peers, maxPeers: 2, nearRttMs: 10, cursor: 0 });
  assert.equal(s.near, 2);
  assert.deepEqual(s.names.slice(0, 2), ['b', 'c']);
});
