import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, UsageError } from '../config.js';
import { demoOptionsFrom } from './demo.js';
import { DEMO_SPEC } from './specs.js';

const optionsOf = (...argv: string[]) => demoOptionsFrom(parseOptions(DEMO_SPEC, argv, {}));

test('demo options: faast under test gets 120 s levels (5 swings of its loop) after a 30 s warm-up; proxima alone 30 s and 30 s', () => {
  const faast = optionsOf('--policies', 'faast', '--users', '25,45', '--events=false');
  assert.equal(faast.scenario.measureMs, 120_000);
  assert.equal(faast.scenario.warmupMs, 30_000);
  assert.equal(faast.design?.feedback?.policy, 'faast');
  const proxima = optionsOf('--policies', 'proxima', '--users', '25,45');
  assert.equal(proxima.scenario.measureMs, 30_000);
  assert.equal(proxima.scenario.warmupMs, 30_000);
  // A longer level is allowed; the warm-up stays at what the estimators need.
  const longer = optionsOf('--policies', 'faast,proxima', '--level-seconds', '240');
  assert.equal(longer.scenario.measureMs, 240_000);
  assert.equal(longer.scenario.warmupMs, 30_000);
  // Shorter than the design allows: refused, with the reason.
  assert.throws(
    () => optionsOf('--policies', 'faast', '--level-seconds', '60'),
    (e: unknown) => e instanceof UsageError && /5 swings = 120 s/.test(e.message),
  );
  // A smoke run keeps its short levels and decides nothing.
  assert.ok(optionsOf('--policies', 'faast', '--quick').scenario.measureMs < 30_000);
});
