import type { ActivatorChoice } from '../model/data-path.js';

/** The control-plane policy of a demo policy label. */
export function basePolicy(label: string): string {
  return label.split('+')[0]!;
}

/** "proxima+extproc": gateways ask the ext_proc picker per request, as an Envoy gateway with the filter would. */
export function usesExtProc(label: string): boolean {
  return label.split('+').includes('extproc');
}

/**
 * "proxima+public": the gateways get the revision's public endpoints — Knative's activators while
 * the revision is in Proxy mode — as Kourier (and Proxima before it learned about the activator) does.
 * Without it Proxima routes around the activator (pods first, activators as the last priority).
 */
export function routesToPublic(label: string): boolean {
  return label.split('+').includes('public');
}

export function activatorChoiceOf(label: string): ActivatorChoice {
  return routesToPublic(label) ? 'keep' : 'bypass';
}

/** Why a setup label is not valid (undefined when it is). */
export function setupLabelError(label: string, policies: readonly string[], withActivator: boolean): string | undefined {
  const [base, ...extras] = label.split('+');
  if (!policies.includes(base!)) return `unknown policy "${base}" in "${label}" (known: ${policies.join(', ')})`;
  const unknown = extras.find((e) => e !== 'extproc' && e !== 'public');
  if (unknown !== undefined) return `unknown modifier "+${unknown}" in "${label}" (known: +extproc, +public)`;
  if (new Set(extras).size !== extras.length) return `a modifier is repeated in "${label}"`;
  if (extras.includes('public') && !withActivator)
    return `"${label}": +public needs --activator (without it the public endpoints are the pods)`;
  return undefined;
}
