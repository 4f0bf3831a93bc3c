import { evenPolicy } from './even.js';
import { faastPolicy } from './faast.js';
import { nearestPolicy } from './nearest.js';
import { proximaPolicy } from './proxima.js';
import type { Policy, PolicyName } from './types.js';

/** Every policy Proxima can serve, by name. `oracle` is benchmark-only and not listed here. */
const POLICIES = new Map<PolicyName, Policy>([
  ['even', evenPolicy],
  ['nearest', nearestPolicy],
  ['faast', faastPolicy],
  ['proxima', proximaPolicy],
]);

export const SERVABLE_POLICIES: readonly PolicyName[] = ['proxima', 'faast', 'nearest', 'even'];

export function registerPolicy(policy: Policy): void {
  POLICIES.set(policy.name, policy);
}

export function policyByName(name: string): Policy {
  const p = POLICIES.get(name as PolicyName);
  if (!p) throw new Error(`unknown policy "${name}" (known: ${[...POLICIES.keys()].join(', ')})`);
  return p;
}

export function allPolicies(): Policy[] {
  return [...POLICIES.values()];
}
