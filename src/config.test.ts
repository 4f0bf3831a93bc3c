import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envName, parseOptions, renderHelp, UsageError } from './config.js';
import { SERVE_SPEC } from './cli/specs.js';

test('defaults, env and flags: a flag wins over env, env over default', () => {
  const o = parseOptions(SERVE_SPEC, ['--xds-listen', '127.0.0.1:0'], { PROXIMA_XDS_LISTEN: '0.0.0.0:1', PROXIMA_POLICY: 'even' });
  assert.deepEqual(o['xds-listen'], { host: '127.0.0.1', port: 0 });
  assert.equal(o['policy'], 'even');
  assert.deepEqual(o['admin-listen'], { host: '127.0.0.1', port: 9090 });
  assert.ok(Object.isFrozen(o));
});

test('bad values are usage errors with the flag or env var named', () => {
  assert.throws(
    () => parseOptions(SERVE_SPEC, ['--policy', 'bogus'], {}),
    (e: Error) => e instanceof UsageError && /--policy/.test(e.message),
  );
  assert.throws(() => parseOptions(SERVE_SPEC, ['--xds-listen', 'nope'], {}), /not host:port/);
  assert.throws(() => parseOptions(SERVE_SPEC, [], { PROXIMA_RECOMPUTE_INTERVAL_MS: 'soon' }), /PROXIMA_RECOMPUTE_INTERVAL_MS/);
  assert.throws(() => parseOptions(SERVE_SPEC, ['--frobnicate'], {}), /unknown option --frobnicate/);
  assert.throws(() => parseOptions(SERVE_SPEC, ['--topology'], {}), /needs a value/);
});

test('--help lists every option with its env var', () => {
  const help = renderHelp(SERVE_SPEC);
  for (const o of SERVE_SPEC.options) {
    assert.ok(help.includes(`--${o.name}`), o.name);
    assert.ok(help.includes(envName(o.name)), envName(o.name));
  }
});

test('booleans accept --flag, --no-flag and --flag=value', () => {
  assert.equal(parseOptions(SERVE_SPEC, ['--kubernetes'], {})['kubernetes'], true);
  assert.equal(parseOptions(SERVE_SPEC, ['--no-kubernetes'], { PROXIMA_KUBERNETES: 'true' })['kubernetes'], false);
  assert.equal(parseOptions(SERVE_SPEC, ['--kubernetes=false'], {})['kubernetes'], false);
});
