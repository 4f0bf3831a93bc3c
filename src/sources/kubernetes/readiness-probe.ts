/**
 * Per-KIngress readiness the way Knative's status prober does it for net-kourier (knative/networking
 * pkg/status/status.go; net-kourier pkg/reconciler/ingress): every ready gateway pod (the endpoints
 * of `kourier-internal`) is asked `GET /healthz` on the external (HTTPS 9443 when the ingress has
 * `spec.tls`) and/or cluster-local HTTP port, with
 * the ingress host as Host, `User-Agent: Knative-Ingress-Probe`, `K-Network-Probe: probe` and
 * `K-Network-Hash: override`. The gateway's probe route replaces the hash with the KIngress hash and
 * the backend echoes it: 200 with that hash means this pod serves this version of the ingress.
 * The ingress is ready when every pod answers so. Results are kept per (ingress, hash, pods), so a
 * new version or a new gateway pod is probed again. Requests are bounded (timeout, no body read).
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../../log.js';
import { HASH_HEADER, HASH_VALUE_OVERRIDE, PROBE_HEADER, PROBE_USER_AGENT, PROBE_VALUE } from '../../model/knative-probe.js';
import type { IngressTranslation } from './ingress.js';
import { asArray, isRecord, metaOf } from './objects.js';

export interface ProbePorts {
  /** net-kourier HTTPPortProb (8090): the external routes. */
  readonly external: number;
  /** HTTPSPortProb (9443): the external routes of an ingress with `spec.tls` (its HTTP side may only redirect). */
  readonly externalTls: number;
  /** HTTPPortLocal (8081): the cluster-local routes. */
  readonly internal: number;
}

export const KOURIER_PROBE_PORTS: ProbePorts = Object.freeze({ external: 8090, externalTls: 9443, internal: 8081 });
export const PROBE_PATH = '/healthz';

export interface ProbeTarget {
  readonly ip: string;
  readonly port: number;
  readonly host: string;
  /** HTTPS with SNI = host and no certificate check, as Knative's prober (InsecureSkipVerify). */
  readonly tls?: boolean;
}

/** Ready addresses of the gateway Service's EndpointSlices (`kourier-internal` in the gateway namespace). */
export function gatewayPodIps(slices: readonly unknown[], namespace: string, service = 'kourier-internal'): string[] {
  const ips = new Set<string>();
  for (const s of slices) {
    const meta = metaOf(s);
    if (!meta || !isRecord(s) || meta.namespace !== namespace || meta.labels['kubernetes.io/service-name'] !== service) continue;
    for (const e of asArray(s['endpoints'])) {
      if (!isRecord(e)) continue;
      const ready = isRecord(e['conditions']) ? e['conditions']['ready'] !== false : true;
      if (ready) for (const a of asArray(e['addresses'])) if (typeof a === 'string') ips.add(a);
    }
  }
  return [...ips].sort();
}

/**
 * One target per pod and visibility the ingress uses (net-kourier lister.go: ExternalIP rules on
 * the external probe port, ClusterLocal rules on the local port), with the visibility's first
 * non-wildcard host.
 */
export function probeTargets(t: IngressTranslation, podIps: readonly string[], ports: ProbePorts): ProbeTarget[] {
  const firstHost = (external: boolean) =>
    t.routes
      .filter((r) => r.visibility.includes('external') === external)
      .flatMap((r) => r.hosts)
      .find((h) => h !== '*');
  const external = firstHost(true);
  const internal = firstHost(false);
  const tls = t.routes.some((r) => (r.tls?.length ?? 0) > 0);
  const out: ProbeTarget[] = [];
  for (const ip of podIps) {
    if (external) out.push(tls ? { ip, port: ports.externalTls, host: external, tls } : { ip, port: ports.external, host: external });
    if (internal) out.push({ ip, port: ports.internal, host: internal });
  }
  return out;
}

/** knative/networking probeVerifier: 200 and the expected hash echoed. */
export function probeSucceeded(status: number, hash: string | undefined, want: string): boolean {
  return status === 200 && hash === want;
}

export interface IngressProberOptions {
  readonly log: Logger;
  readonly timeoutMs: number;
  /** A failed ingress is probed again after this long. */
  readonly retryMs: number;
  /** Called when an ingress became ready (so status is written at once). */
  readonly onReady: () => void;
  readonly nowMs?: () => number;
  /** Probes in flight at most (a new gateway pod re-probes every ingress at once). Default 32. */
  readonly maxConcurrent?: number;
}

interface ProbeState {
  readonly signature: string;
  ready: boolean;
  inFlight: boolean;
  lastMs: number;
}

export class IngressProber {
  private readonly states = new Map<string, ProbeState>();
  private readonly nowMs: () => number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly opts: IngressProberOptions) {
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** True once every target answered with the hash; otherwise starts (or retries) probing and returns false. */
  isReady(key: string, hash: string, targets: readonly ProbeTarget[]): boolean {
    if (targets.length === 0) return false;
    const signature = `${hash}|${targets.map((x) => `${x.ip}:${x.port}/${x.host}`).join(',')}`;
    let st = this.states.get(key);
    if (!st || st.signature !== signature) {
      st = { signature, ready: false, inFlight: false, lastMs: 0 };
      this.states.set(key, st);
    }
    if (st.ready) return true;
    if (!st.inFlight && this.nowMs() - st.lastMs >= this.opts.retryMs) void this.run(key, st, hash, targets);
    return false;
  }

  /** Forget ingresses that no longer exist. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.states.keys()) if (!keys.has(k)) this.states.delete(k);
  }

  private async run(key: string, st: ProbeState, hash: string, targets: readonly ProbeTarget[]): Promise<void> {
    st.inFlight = true;
    st.lastMs = this.nowMs();
    const results = await Promise.all(targets.map((x) => this.probeOne(x, hash)));
    st.inFlight = false;
    if (this.states.get(key) !== st) return;
    st.ready = results.every((ok) => ok);
    if (st.ready) this.opts.onReady();
    else
      this.opts.log.debug(
        { ingress: key, failed: targets.filter((_, i) => !results[i]).map((x) => `${x.ip}:${x.port}`) },
        'KIngress probe not ready yet',
      );
  }

  /** One probe once a slot is free (at most maxConcurrent in flight). */
  private async probeOne(x: ProbeTarget, want: string): Promise<boolean> {
    if (this.inFlight >= (this.opts.maxConcurrent ?? 32)) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    try {
      return await this.send(x, want);
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  private send(x: ProbeTarget, want: string): Promise<boolean> {
    return new Promise((resolve) => {
      // "We only want to know that the Gateway is configured" (knative/networking pkg/status): no certificate check.
      const send = x.tls ? httpsRequest : request;
      const req = send(
        {
          ...(x.tls ? { servername: x.host, rejectUnauthorized: false } : {}),
          host: x.ip,
          port: x.port,
          path: PROBE_PATH,
          method: 'GET',
          timeout: this.opts.timeoutMs,
          headers: {
            host: x.host,
            'user-agent': PROBE_USER_AGENT,
            [PROBE_HEADER]: PROBE_VALUE,
            [HASH_HEADER]: HASH_VALUE_OVERRIDE,
          },
        },
        (res) => {
          const got = res.headers[HASH_HEADER.toLowerCase()];
          res.resume();
          resolve(probeSucceeded(res.statusCode ?? 0, Array.isArray(got) ? got[0] : got, want));
        },
      );
      req.on('timeout', () => req.destroy(new Error('probe timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  }
}
