/**
 * The options of every subcommand (flags, env vars, defaults, help text). Parsing and env handling
 * live in src/config.ts; this file only declares.
 */
import type { CommandSpec, OptionSpec } from '../config.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Options every subcommand accepts. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: 'log-level', kind: 'string', choices: LOG_LEVELS, default: 'info', arg: 'LEVEL', description: 'Log level.' },
  {
    name: 'log-format',
    kind: 'string',
    choices: ['json', 'pretty'],
    default: 'json',
    arg: 'FORMAT',
    description: 'json (one object per line) or pretty (human-readable).',
  },
];

export const SERVE_SPEC: CommandSpec = {
  name: 'serve',
  summary: 'run the control plane: xDS (ADS SotW+Delta, LRS), ext_proc, scheduler extender and admin HTTP',
  usage: 'proxima serve [--topology FILE | --kubernetes] [--policy NAME] [options]',
  options: [
    {
      name: 'topology',
      kind: 'string',
      arg: 'FILE',
      description:
        'Topology YAML to serve (watched; a bad edit is logged and the last good file stays in force). Default when neither --topology nor --kubernetes: the example shipped in examples/topology.yaml.',
    },
    {
      name: 'kubernetes',
      kind: 'boolean',
      default: false,
      description: 'Learn nodes, endpoints and Knative objects from the Kubernetes API (in-cluster config or KUBECONFIG).',
    },
    {
      name: 'kubeconfig',
      kind: 'string',
      arg: 'FILE',
      description: 'With --kubernetes: kubeconfig file to use. Default: KUBECONFIG, ~/.kube/config, else the in-cluster service account.',
    },
    {
      name: 'ingress-class',
      kind: 'string',
      default: 'kourier.ingress.networking.knative.dev',
      arg: 'CLASS',
      description:
        'With --kubernetes: serve only Knative Ingresses whose networking.knative.dev/ingress.class annotation (or the older ingress-class) equals this.',
    },
    {
      name: 'replica-id',
      kind: 'string',
      arg: 'ID',
      description:
        "With --kubernetes and 2+ replicas: this replica's id (e.g. the pod name). Measurements are then shared through ProximaMeasurement objects (manifests/crds/) so every replica computes the same assignments. Unset: single replica.",
    },
    {
      name: 'policy',
      kind: 'string',
      choices: ['proxima', 'faast', 'nearest', 'even'],
      default: 'proxima',
      arg: 'NAME',
      description: 'Routing policy.',
    },
    {
      name: 'xds-listen',
      kind: 'listen',
      default: '0.0.0.0:18000',
      arg: 'HOST:PORT',
      description: 'gRPC listener for ADS, CDS/EDS/LDS/RDS and LRS. Port 0 picks a free port.',
    },
    {
      name: 'extproc-listen',
      kind: 'listen',
      default: '0.0.0.0:18001',
      arg: 'HOST:PORT',
      description: 'gRPC listener for the Envoy ext_proc endpoint picker. Port 0 picks a free port.',
    },
    {
      name: 'extproc-address',
      kind: 'listen',
      default: 'proxima-extproc.proxima-system.svc:18001',
      arg: 'HOST:PORT',
      description:
        'Address gateways that opt into ext_proc picking (xDS node metadata PROXIMA_EXTPROC=true) use to reach the ext_proc server; served to them as cluster proxima_extproc.',
    },
    {
      name: 'extender-listen',
      kind: 'listen',
      default: '0.0.0.0:8888',
      arg: 'HOST:PORT',
      description: 'HTTP listener for the kube-scheduler extender. Port 0 picks a free port.',
    },
    {
      name: 'extender-service-label',
      kind: 'string',
      arg: 'LABEL',
      description:
        'Scheduler extender: pod label whose value names the service (namespace/<value>) of non-Knative function pods. Knative revision pods are always judged.',
    },
    {
      name: 'admin-listen',
      kind: 'listen',
      default: '0.0.0.0:9090',
      arg: 'HOST:PORT',
      description: 'HTTP listener for /metrics, /healthz, /readyz, /debug/* and /ui. Port 0 picks a free port.',
    },
    {
      name: 'recompute-interval-ms',
      kind: 'number',
      default: 2000,
      arg: 'MS',
      description: 'Re-run the policy at least this often so decayed measurements and demand are picked up.',
    },
    {
      name: 'lrs-interval-ms',
      kind: 'number',
      default: 2000,
      arg: 'MS',
      description: 'load_reporting_interval asked of gateways over LRS; demand is smoothed over 3 intervals (rising within half of one).',
    },
    {
      name: 'extproc-fail-closed',
      kind: 'boolean',
      default: false,
      description: 'ext_proc: answer 503 (immediate_response) when no endpoint can be picked, instead of failing open to EDS weights.',
    },
    {
      name: 'extproc-shed',
      kind: 'boolean',
      default: false,
      description:
        'ext_proc: answer 429 when every candidate endpoint is at its concurrency limit, instead of queueing at the least loaded one.',
    },
    {
      name: 'extproc-slot-timeout-ms',
      kind: 'number',
      default: 30_000,
      arg: 'MS',
      description:
        "ext_proc: free a request's in-flight slot after this long even if its stream neither answered response_headers nor ended (a stuck or leaked stream must not hold a pod's slot forever).",
    },
    ...COMMON_OPTIONS,
  ],
  epilog: [
    'Gateways identify their node by node.locality.sub_zone of the xDS Node, else node.id.',
    'Example:',
    '  proxima serve --topology examples/topology.yaml --xds-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0',
  ].join('\n'),
};

export const PROBE_SPEC: CommandSpec = {
  name: 'probe',
  summary: 'run the node agent: measure RTT to peer agents and report it to the control plane',
  usage: 'proxima probe --node NAME --control-plane HOST:PORT [--listen HOST:PORT] [options]',
  options: [
    {
      name: 'node',
      kind: 'string',
      arg: 'NAME',
      description: 'The node this agent runs on (spec.nodeName; in a DaemonSet set PROXIMA_NODE from the downward API). Required.',
    },
    {
      name: 'control-plane',
      kind: 'string',
      arg: 'HOST:PORT',
      description: 'The control plane gRPC address (the xDS port of proxima serve). Required.',
    },
    {
      name: 'listen',
      kind: 'listen',
      default: '0.0.0.0:8095',
      arg: 'HOST:PORT',
      description: 'HTTP listener for GET /probe (peers time it), /metrics and /healthz. Port 0 picks a free port.',
    },
    {
      name: 'advertise',
      kind: 'string',
      arg: 'HOST:PORT',
      description: 'Address peers use to reach --listen (default: the bound address; for 0.0.0.0 the first non-loopback IPv4).',
    },
    {
      name: 'interval-ms',
      kind: 'number',
      default: 2000,
      arg: 'MS',
      description: 'Probe round interval (±10 % jitter); the control plane may override it.',
    },
    { name: 'timeout-ms', kind: 'number', default: 1000, arg: 'MS', description: 'Probe timeout; at most --interval-ms.' },
    {
      name: 'max-peers',
      kind: 'number',
      default: 32,
      arg: 'N',
      description: 'Rotating peers probed per round; near and failing peers are probed every round on top (each at most N).',
    },
    {
      name: 'near-rtt-ms',
      kind: 'number',
      default: 10,
      arg: 'MS',
      description: 'Peers with a smoothed RTT below this are probed every round.',
    },
    {
      name: 'admin-listen',
      kind: 'listen',
      arg: 'HOST:PORT',
      description: 'Optional extra HTTP listener for /metrics, /healthz and /debug/peers only.',
    },
    ...COMMON_OPTIONS,
  ],
  epilog: [
    'A peer that fails 2 consecutive probes is reported unreachable (within 3 intervals).',
    'Example:',
    '  proxima probe --node edge-1 --control-plane 10.0.0.5:18000 --listen 0.0.0.0:8095',
  ].join('\n'),
};

export const DEMO_SPEC: CommandSpec = {
  name: 'demo',
  summary: 'run an emulated edge cluster on this machine and compare routing policies end to end',
  usage: 'proxima demo [--quick] [--topology FILE] [--policies LIST] [options]',
  options: [
    {
      name: 'quick',
      kind: 'boolean',
      default: false,
      description:
        'The quick profile (3 load levels, 5 policies, about 4 minutes with the events) instead of the full FaaSt sweep (users 5..50).',
    },
    {
      name: 'topology',
      kind: 'string',
      arg: 'FILE',
      description:
        'Take nodes and RTTs from this topology file instead of the built-in FaaSt scenario (2 edge nodes + 1 cloud node). Its services are ignored: the demo deploys its own function.',
    },
    {
      name: 'policies',
      kind: 'list',
      default: ['even', 'faast', 'nearest', 'proxima', 'proxima+extproc'],
      arg: 'LIST',
      description:
        'Policies to compare, in order (comma-separated); "+extproc" makes the gateways also ask the ext_proc picker per request.',
    },
    {
      name: 'users',
      kind: 'list',
      arg: 'LIST',
      description: "Load levels in users (10 requests/s each), e.g. 5,25,50. Default: the profile's.",
    },
    {
      name: 'level-seconds',
      kind: 'number',
      arg: 'S',
      description: 'Measured seconds per load level (after a warm-up). Default: 5 (quick) or 20 (full).',
    },
    {
      name: 'events',
      kind: 'boolean',
      default: true,
      description:
        'Also run the scripted events (a link delay step, a node losing its pods and getting them back, a control-plane restart) under proxima.',
    },
    {
      name: 'seed',
      kind: 'number',
      default: 1,
      arg: 'N',
      description: 'Seed for arrivals, service times and jitter: the same seed gives the same load. A one-seed run (see --seeds).',
    },
    {
      name: 'seeds',
      kind: 'string',
      arg: 'LIST',
      description:
        'Repeat every cell (policy × users level) once per seed, each seed on a fresh cluster, e.g. 1-5 or 1,2,3 (at most 50); overrides --seed. The table and report.json give mean, p50, p95, p99 and local share as mean ± 95 % interval over the seeds, and each pair of policies is compared on those intervals ("lower"/"higher" only when they do not overlap, else "no difference shown"). The scripted events run with the first seed only.',
    },
    {
      name: 'out',
      kind: 'string',
      arg: 'DIR',
      description: 'Where to write report.json, report.html and the runtime topology. Default: reports/demo.',
    },
    { name: 'probe-interval-ms', kind: 'number', default: 1000, arg: 'MS', description: "Probe interval of the emulated nodes' agents." },
    {
      name: 'keep-running',
      kind: 'boolean',
      default: false,
      description: 'After the runs, keep the cluster and the control plane up (with the live /ui) until Ctrl-C.',
    },
    {
      name: 'netns',
      kind: 'boolean',
      default: false,
      description:
        'Root only: run each emulated node in its own network namespace (10.X.0.N behind a bridge at 10.X.0.1, where `proxima serve` listens) instead of on 127.0.N.1. Everything created is removed on exit.',
    },
    ...COMMON_OPTIONS,
  ],
  epilog: [
    'Each emulated node gets its own loopback address (127.0.N.1) with a user-space netem (delay proxies) in front of its pods',
    'and its probe agent; gateways are real @grpc/grpc-js-xds clients driven by an open-loop load generator (k6',
    'constant-arrival-rate semantics). The control plane is a real `proxima serve` child process.',
  ].join('\n'),
};
