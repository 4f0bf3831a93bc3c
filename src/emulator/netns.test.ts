import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../config.js';
import { leftovers, NetnsNetwork, parseLinkNames, parseNetnsList, pickSubnetOctet, planNetns, type IpRunner } from './netns.js';

test('planNetns: per-run names, bridge at .1, nodes from .2, names fit IFNAMSIZ', () => {
  const p = planNetns(4194304, 3, 142);
  assert.equal(p.bridge, 'pxm4194304');
  assert.equal(p.hostIp, '10.142.0.1');
  assert.deepEqual(
    p.nodes.map((n) => [n.namespace, n.hostVeth, n.nodeVeth, n.ip]),
    [
      ['pxm-4194304-0', 'pxm4194304v0', 'pxm4194304p0', '10.142.0.2'],
      ['pxm-4194304-1', 'pxm4194304v1', 'pxm4194304p1', '10.142.0.3'],
      ['pxm-4194304-2', 'pxm4194304v2', 'pxm4194304p2', '10.142.0.4'],
    ],
  );
  assert.ok(planNetns(4194304, 250, 100).nodes.every((n) => n.hostVeth.length <= 15));
  assert.throws(() => planNetns(1, 0, 100), RangeError);
  assert.throws(() => planNetns(1, 251, 100), RangeError);
});

test('pickSubnetOctet: follows the pid and skips 10.X networks in use', () => {
  assert.equal(pickSubnetOctet(1234, ''), 134);
  assert.equal(pickSubnetOctet(1234, '10.134.0.0/24 dev x\n10.135.2.0/16 via 10.0.0.1'), 136);
  const all = Array.from({ length: 100 }, (_, k) => `10.${100 + k}.0.0/24`).join('\n');
  assert.throws(() => pickSubnetOctet(1, all), /no free/);
});

test('parse `ip netns list` and `ip -o link show`', () => {
  assert.deepEqual(parseNetnsList('pxm-9-1 (id: 1)\npxm-9-0\n\n'), ['pxm-9-1', 'pxm-9-0']);
  assert.deepEqual(parseLinkNames('1: lo: <LOOPBACK,UP> mtu 65536\n7: pxm9v0@if6: <BROADCAST> mtu 1500\n8: pxm9: <BROADCAST> mtu 1500\n'), [
    'lo',
    'pxm9v0',
    'pxm9',
  ]);
});

test('leftovers: this pid and dead pids only, never foreign names or live runs', () => {
  const alive = (pid: number) => pid === 20;
  const found = leftovers(
    10,
    ['pxm-10-0', 'pxm-20-0', 'pxm-30-1', 'pxm-probe-1', 'other'],
    ['lo', 'eth0', 'pxm10', 'pxm10v0', 'pxm20v0', 'pxm30p1', 'pxmx', 'ifb0'],
    alive,
  );
  assert.deepEqual(found, { namespaces: ['pxm-10-0', 'pxm-30-1'], links: ['pxm10', 'pxm10v0', 'pxm30p1'] });
});

function fakeIp(failOn: (args: readonly string[]) => boolean): { ip: IpRunner; calls: string[] } {
  const calls: string[] = [];
  const nsSet = new Set<string>();
  const links = new Set<string>();
  const ip: IpRunner = async (args) => {
    const line = args.join(' ');
    calls.push(line);
    if (failOn(args)) throw new Error(`\`ip ${line}\` failed (1): boom`);
    if (line === 'netns list') return [...nsSet].join('\n');
    if (line === '-o link show') return [...links].map((l, i) => `${i + 1}: ${l}: <UP>`).join('\n');
    if (args[0] === 'netns' && args[1] === 'add') nsSet.add(args[2]!);
    if (args[0] === 'netns' && args[1] === 'del') nsSet.delete(args[2]!);
    if (args[0] === 'link' && args[1] === 'add') links.add(args[2]!);
    if (args[0] === 'link' && args[1] === 'del') links.delete(args[2]!);
    return '';
  };
  return { ip, calls };
}

test('NetnsNetwork: builds with checked commands, destroy removes everything once', async () => {
  const { ip, calls } = fakeIp(() => false);
  const net = await NetnsNetwork.create({ nodeCount: 2, pid: 77, ip });
  assert.equal(net.hostIp, '10.177.0.1');
  assert.ok(calls.includes('link add pxm77v1 type veth peer name pxm77p1 netns pxm-77-1'));
  assert.ok(calls.includes('-n pxm-77-0 route add default via 10.177.0.1'));
  assert.deepEqual(net.exec(1, '/usr/bin/node', ['x.js']), { command: 'ip', args: ['netns', 'exec', 'pxm-77-1', '/usr/bin/node', 'x.js'] });
  calls.length = 0;
  await Promise.all([net.destroy(), net.destroy()]);
  assert.deepEqual(calls.filter((c) => c.includes(' del ')).sort(), [
    'link del pxm77',
    'link del pxm77v0',
    'link del pxm77v1',
    'netns del pxm-77-0',
    'netns del pxm-77-1',
  ]);
});

test('NetnsNetwork: a failing `ip netns add` is a UsageError; a later failure cleans up and names the command', async () => {
  const a = fakeIp((args) => args[0] === 'netns' && args[1] === 'add');
  await assert.rejects(
    NetnsNetwork.create({ nodeCount: 2, pid: 5, ip: a.ip }),
    (e: Error) => e instanceof UsageError && /ip netns add pxm-5-0/.test(e.message),
  );
  const b = fakeIp((args) => args.join(' ') === '-n pxm-5-1 addr add 10.105.0.3/24 dev pxm5p1');
  await assert.rejects(
    NetnsNetwork.create({ nodeCount: 2, pid: 5, ip: b.ip }),
    /`ip -n pxm-5-1 addr add 10\.105\.0\.3\/24 dev pxm5p1` failed/,
  );
  assert.ok(b.calls.includes('link del pxm5'));
  assert.ok(b.calls.includes('netns del pxm-5-1'));
});
