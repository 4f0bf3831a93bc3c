import type { Registry } from 'prom-client';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ListenAddress } from '../../config.js';
import type { ModelStore } from '../../model/store.js';
import type { AssignmentEngine } from '../../engine/assignments.js';
import type { AdminServer } from '../../admin/server.js';
import type { ServeLimits } from '../../limits.js';
import type { TlsFiles } from '../../tls/material.js';
import type { OpenFaasOptions } from '../../sources/kubernetes/openfaas.js';
import type { KourierOptions } from '../../sources/kubernetes/kourier-options.js';

/** Typed serve options (from flags/env via SERVE_SPEC, or built directly by tests and the demo). */
export interface ServeOptions {
  readonly topologyPath?: string;
  /** A larger topology file is refused unread (default DEFAULT_TOPOLOGY_MAX_BYTES). */
  readonly topologyMaxBytes?: number;
  readonly kubernetes: boolean;
  readonly policy: string;
  readonly xdsListen: ListenAddress;
  readonly extprocListen: ListenAddress;
  readonly extenderListen: ListenAddress;
  readonly adminListen: ListenAddress;
  readonly recomputeIntervalMs: number;
  /** LRS load_reporting_interval (default 2000). */
  readonly lrsIntervalMs?: number;
  readonly extprocFailClosed?: boolean;
  readonly extprocShed?: boolean;
  readonly extprocSlotTimeoutMs?: number;
  /** `host:port` ext_proc-opted gateways dial (cluster proxima_extproc); default DEFAULT_EXTPROC_ADDRESS. */
  readonly extprocAddress?: string;
  /** Ask the picker on every route, also where the EDS weights keep a gateway on its node. */
  readonly extprocAlways?: boolean;
  /** Label naming the service of non-Knative function pods for the scheduler extender. */
  readonly extenderServiceLabel?: string;
  /** With `kubernetes`: a kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfigPath?: string;
  /** With `kubernetes`: a ready KubeConfig (tests), wins over kubeconfigPath. */
  readonly kubeConfig?: KubeConfig;
  readonly ingressClass?: string;
  /** With `kubernetes`: this replica's id; measurements are then shared through ProximaMeasurement objects. */
  readonly replicaId?: string;
  /** Certificate, key and (mutual TLS) client CA of every gRPC listener and the extender. */
  readonly tls?: TlsFiles;
  readonly tlsReloadIntervalMs?: number;
  /** SPIFFE trust domain of client identities (default cluster.local). */
  readonly tlsTrustDomain?: string;
  /** Allow plaintext listeners off loopback (with a warning). */
  readonly insecure?: boolean;
  /** Bearer token file for /debug/* and /ui. */
  readonly adminTokenFile?: string;
  /** Bearer token file the extender accepts besides the scheduler certificate. */
  readonly extenderTokenFile?: string;
  readonly limits?: Partial<ServeLimits>;
  /** With `kubernetes`: route OpenFaaS functions too. */
  readonly openfaas?: OpenFaasOptions;
  /** With `kubernetes`: net-kourier drop-in settings (namespaces, default certificate, leader election). */
  readonly kourier?: Partial<KourierOptions>;
}

/** The running control plane: bound addresses, the parts (for tests and the demo) and shutdown. */
export interface ServeHandle {
  readonly addresses: Readonly<Record<'xds' | 'extproc' | 'extender' | 'admin', string>>;
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly registry: Registry;
  readonly admin: AdminServer;
  close(): Promise<void>;
}
