import type { Registry } from 'prom-client';
import type { TokenFile } from '../admin/token.js';
import type { AssignmentEngine } from '../engine/assignments.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import type { ConnectionLimits } from '../net/front-listener.js';
import type { TlsReloader } from '../tls/reloader.js';
import type { PlacementDecision } from './decisions.js';
import type { ScoringTuning } from './scoring.js';

/** What the scheduler extender's server (http.ts) is given, and what it shows of its placements. */

export interface ExtenderServerOptions {
  readonly store: ModelStore;
  /** Optional: only used to name the serving policy in placements(). */
  readonly engine?: AssignmentEngine;
  readonly log: Logger;
  readonly registry: Registry;
  readonly nowMs?: () => number;
  /** How long a placement counts as pending if its pod never becomes a ready endpoint (default 120 s). */
  readonly pendingTtlMs?: number;
  /** Verbs are served at `/filter` and at `<pathPrefix>/filter` (default `/scheduler`). */
  readonly pathPrefix?: string;
  /** Label naming the service of non-Knative function pods (`namespace/<value>`); none by default. */
  readonly serviceLabel?: string;
  /** Larger request bodies are refused with 413 (default 10 MiB). */
  readonly maxBodyBytes?: number;
  /** Requests whose body has not arrived by then get 408 (default 5 s; kube-scheduler's own timeout is httpTimeout). */
  readonly requestTimeoutMs?: number;
  /** How stale (ms) cached reachability verdicts and RTT rows may get once the model changed (default 1000). */
  readonly modelCacheRefreshMs?: number;
  /** Whether a gateway serves a node; default: the model knows the node. */
  readonly hasGateway?: (node: string) => boolean;
  /** When every candidate would be filtered out, let all through (default true). */
  readonly failOpen?: boolean;
  readonly tuning?: Partial<ScoringTuning>;
  /** HTTPS from these files; with a client CA, the scheduler's certificate (or `token`) is required. */
  readonly tls?: TlsReloader;
  /** A bearer token accepted instead of the scheduler's certificate. */
  readonly token?: TokenFile;
  /** Trust domain of the scheduler identity spiffe://<domain>/scheduler (default cluster.local). */
  readonly trustDomain?: string;
  readonly connectionLimits?: ConnectionLimits;
  /** Pending placements kept at most (default 1000). */
  readonly maxPending?: number;
  /** Requests/s of a service other gateways sent to each node in their last load report (LRS); default none. */
  readonly inflowRps?: (service: string) => ReadonlyMap<string, number>;
}

export interface PlacementsView {
  readonly policy: string | undefined;
  readonly ttlMs: number;
  readonly pending: ReadonlyArray<{
    pod: string;
    podKey: string;
    service: string;
    node: string;
    score: number;
    placedAt: string;
    expiresInMs: number;
  }>;
  /** The latest prioritize decisions (at most 200), oldest first, each with its reason. */
  readonly decisions: ReadonlyArray<Omit<PlacementDecision, 'atMs'> & { at: string }>;
}
