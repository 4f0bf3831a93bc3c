/**
 * The options of every subcommand (flags, env vars, defaults, help text). Parsing and env handling
 * live in src/config.ts; this file only declares.
 */
import type { CommandSpec, OptionSpec } from '../config.js';
import { QUEUE_PROXY_WINDOW_MS } from '../probe/queue-proxy/pod-tracker.js';

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
  {
    name: 'log-max-value-chars',
    kind: 'number',
    default: 1024,
    arg: 'CHARS',
    description: 'Longer strings in a log event (peer-chosen names, errors) are cut to this length, so a line stays bounded.',
  },
];

/** TLS, peer identity and the admin/extender tokens of `proxima serve`. */
const SERVE_SECURITY_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'tls-cert',
    kind: 'string',
    arg: 'FILE',
    description: 'PEM certificate (chain) of every gRPC listener and the extender. Re-read when it changes (cert-manager, Secret mounts).',
  },
  { name: 'tls-key', kind: 'string', arg: 'FILE', description: 'PEM private key of --tls-cert. Re-read with it.' },
  {
    name: 'tls-client-ca',
    kind: 'string',
    arg: 'FILE',
    description:
      'PEM CA bundle for client certificates: mutual TLS. gRPC clients must present a certificate from it, and reporters may speak only for the node their certificate names.',
  },
  {
    name: 'tls-trust-domain',
    kind: 'string',
    default: 'cluster.local',
    arg: 'DOMAIN',
    description:
      'SPIFFE trust domain of client identities: spiffe://DOMAIN/node/<node> (gateways, probe agents), spiffe://DOMAIN/scheduler.',
  },
  {
    name: 'tls-reload-interval-ms',
    kind: 'number',
    default: 5000,
    arg: 'MS',
    description: 'Re-read the TLS files at least this often (their directories are also watched).',
  },
  {
    name: 'insecure',
    kind: 'boolean',
    default: false,
    description:
      'Allow plaintext gRPC/extender listeners on non-loopback addresses (logged as a warning). Without it such a listener is an error.',
  },
  {
    name: 'admin-token-file',
    kind: 'string',
    arg: 'FILE',
    description:
      'File holding the bearer token /debug/* and /ui then require of every client (Authorization: Bearer <token>); re-read when it changes. Unset: they answer loopback clients only.',
  },
  {
    name: 'extender-token-file',
    kind: 'string',
    arg: 'FILE',
    description: 'File holding a bearer token the extender accepts instead of the scheduler client certificate.',
  },
];

/** Bounds on network input; defaults in src/limits.ts. */
const SERVE_LIMIT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'max-connections-per-peer',
    kind: 'number',
    default: 32,
    arg: 'N',
    description: 'Open connections per remote address and listener.',
  },
  { name: 'max-connections', kind: 'number', default: 4096, arg: 'N', description: 'Open connections per listener.' },
  { name: 'max-streams-per-connection', kind: 'number', default: 100, arg: 'N', description: 'Concurrent gRPC streams per connection.' },
  { name: 'max-message-bytes', kind: 'number', default: 4194304, arg: 'BYTES', description: 'Largest gRPC message accepted.' },
  { name: 'max-resource-names', kind: 'number', default: 10000, arg: 'N', description: 'Resource names in one xDS request.' },
  {
    name: 'max-name-length',
    kind: 'number',
    default: 253,
    arg: 'CHARS',
    description: 'Longest node id, gateway node, locality or resource name accepted.',
  },
  { name: 'max-localities-per-report', kind: 'number', default: 1024, arg: 'N', description: 'Localities in one LRS cluster stats entry.' },
  {
    name: 'max-tracked-ids',
    kind: 'number',
    default: 10000,
    arg: 'N',
    description: 'Distinct ids of peers the model does not know (yet) kept in memory (LRU, expiring after 10 minutes unseen).',
  },
  { name: 'max-metric-series', kind: 'number', default: 10000, arg: 'N', description: 'Series of the per-flow LRS request counter.' },
  { name: 'max-debug-items', kind: 'number', default: 500, arg: 'N', description: 'Items per /debug page (?offset=N pages on).' },
  {
    name: 'max-pending-placements',
    kind: 'number',
    default: 1000,
    arg: 'N',
    description: 'Pending placements the scheduler extender keeps.',
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
      name: 'topology-max-bytes',
      kind: 'number',
      default: 8 * 1024 * 1024,
      arg: 'BYTES',
      description: 'A topology file larger than this is refused unread (the last good topology stays in force).',
    },
    {
      name: 'example-backends',
      kind: 'boolean',
      default: false,
      description:
        "Start small function backends on the topology's loopback endpoints (HTTP or gRPC, each with its capacity as concurrency limit) and send one request through a real gRPC xDS client, printing the node that answered. For trying Proxima out (npm start).",
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
      name: 'system-namespace',
      kind: 'string',
      default: 'knative-serving',
      arg: 'NS',
      description: 'With --kubernetes: namespace of config-kourier and config-network (net-kourier: SYSTEM_NAMESPACE).',
      envAlias: 'SYSTEM_NAMESPACE',
    },
    {
      name: 'gateway-namespace',
      kind: 'string',
      default: 'kourier-system',
      arg: 'NS',
      description: "With --kubernetes: the gateways' namespace, where config-kourier's cluster-cert-secret lives.",
    },
    {
      name: 'certs-secret-namespace',
      kind: 'string',
      arg: 'NS',
      description: "With --kubernetes: namespace of the default certificate's Secret (config-kourier certs-secret-namespace wins).",
      envAlias: 'CERTS_SECRET_NAMESPACE',
    },
    {
      name: 'certs-secret-name',
      kind: 'string',
      arg: 'NAME',
      description:
        'With --kubernetes: name of the default certificate Secret, served on 8443 for every host without its own (config-kourier certs-secret-name wins).',
      envAlias: 'CERTS_SECRET_NAME',
    },
    {
      name: 'gateway-tls-minimum-version',
      kind: 'string',
      default: 'TLSv1_2',
      choices: ['TLSv1_2', 'TLSv1_3'],
      arg: 'VERSION',
      description:
        "With --kubernetes: minimum TLS version of the gateways' HTTPS listeners (8443/8444/9443); net-kourier always uses TLSv1_2.",
    },
    {
      name: 'extauthz-host',
      kind: 'string',
      arg: 'HOST:PORT',
      description:
        "With --kubernetes: the external authorization service every gateway asks (net-kourier's KOURIER_EXTAUTHZ_HOST); when set, it and the other --extauthz-* values win over config-kourier's extauthz-* keys.",
      envAlias: 'KOURIER_EXTAUTHZ_HOST',
    },
    {
      name: 'extauthz-protocol',
      kind: 'string',
      arg: 'PROTOCOL',
      description: 'With --extauthz-host: grpc (default), http or https.',
      envAlias: 'KOURIER_EXTAUTHZ_PROTOCOL',
    },
    {
      name: 'extauthz-failure-mode-allow',
      kind: 'string',
      arg: 'BOOL',
      description: 'With --extauthz-host: let requests through when the service fails (default false).',
      envAlias: 'KOURIER_EXTAUTHZ_FAILUREMODEALLOW',
    },
    {
      name: 'extauthz-max-request-bytes',
      kind: 'string',
      arg: 'BYTES',
      description: 'With --extauthz-host: request body bytes sent along (default 8192).',
      envAlias: 'KOURIER_EXTAUTHZ_MAXREQUESTBYTES',
    },
    {
      name: 'extauthz-timeout-ms',
      kind: 'string',
      arg: 'MS',
      description: 'With --extauthz-host: timeout of one check (default 2000).',
      envAlias: 'KOURIER_EXTAUTHZ_TIMEOUT',
    },
    {
      name: 'extauthz-path-prefix',
      kind: 'string',
      arg: 'PATH',
      description: 'With --extauthz-host and http(s): prefix of the check request path.',
      envAlias: 'KOURIER_EXTAUTHZ_PATHPREFIX',
    },
    {
      name: 'extauthz-pack-as-bytes',
      kind: 'string',
      arg: 'BOOL',
      description: 'With --extauthz-host and grpc: send the body as bytes (default false).',
      envAlias: 'KOURIER_EXTAUTHZ_PACKASBYTES',
    },
    {
      name: 'secret-informer-filtering-by-cert-uid',
      kind: 'boolean',
      default: false,
      description:
        "With --kubernetes: list and watch only Secrets labelled networking.internal.knative.dev/certificate-uid (net-kourier's ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID), instead of every Secret of the cluster; the certificates KIngresses and config-kourier name, and routing-serving-certs, must then carry the label.",
      envAlias: 'ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID',
    },
    {
      name: 'readiness-probe',
      kind: 'boolean',
      default: true,
      description:
        "With --kubernetes: a KIngress is Ready only once every ready kourier-internal pod answers Knative's probe (GET /healthz with K-Network-Probe and K-Network-Hash on 8090/8081) with its hash, as net-kourier does. --no-readiness-probe: Ready once every connected gateway ACKed its routes (for gateways the control plane cannot reach on 8090/8081, or no kourier-internal pods). Without --kubernetes there is no KIngress to probe.",
    },
    {
      name: 'leader-election-lease',
      kind: 'string',
      arg: 'NS/NAME',
      description:
        'With --kubernetes and 2+ replicas: the coordination.k8s.io Lease replicas elect a leader on; only the leader writes KIngress status and finalizers. Needs --replica-id. Unset: this replica writes.',
    },
    {
      name: 'leader-election-lease-duration-ms',
      kind: 'number',
      default: 15000,
      arg: 'MS',
      description: 'Lease duration: a leader that stopped renewing is replaced after this long (client-go default 15 s).',
    },
    {
      name: 'openfaas',
      kind: 'boolean',
      default: false,
      description:
        'With --kubernetes: route OpenFaaS functions (the Services faas-netes makes in --openfaas-namespace) by the OpenFaaS gateway path /function/NAME on any host, and everything else (async calls, /system, the UI) to --openfaas-gateway. Plain Services opt in with the label or annotation proxima.dev/route: "true" either way.',
    },
    {
      name: 'openfaas-namespace',
      kind: 'string',
      default: 'openfaas-fn',
      arg: 'NAMESPACE',
      description: 'With --openfaas: the functions namespace (faas-netes function_namespace).',
    },
    {
      name: 'openfaas-gateway',
      kind: 'string',
      default: 'openfaas/gateway',
      arg: 'NAMESPACE/NAME',
      description:
        "With --openfaas: the OpenFaaS gateway Service (it queues /async-function calls and scales functions from zero); '' for none.",
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
      default: '127.0.0.1:18000',
      arg: 'HOST:PORT',
      description:
        'gRPC listener for ADS, CDS/EDS/LDS/RDS, LRS and probe reports. Off loopback it needs --tls-cert/--tls-key or --insecure. Port 0 picks a free port.',
    },
    {
      name: 'extproc-listen',
      kind: 'listen',
      default: '127.0.0.1:18001',
      arg: 'HOST:PORT',
      description: 'gRPC listener for the Envoy ext_proc endpoint picker (TLS as --xds-listen). Port 0 picks a free port.',
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
      default: '127.0.0.1:8888',
      arg: 'HOST:PORT',
      description:
        'HTTP(S) listener for the kube-scheduler extender. With --tls-client-ca it accepts only the scheduler identity (spiffe://<trust-domain>/scheduler) or --extender-token-file. Port 0 picks a free port.',
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
      default: '127.0.0.1:9090',
      arg: 'HOST:PORT',
      description:
        'HTTP listener for /metrics, /healthz, /readyz, /debug/* and /ui. /metrics, /healthz and /readyz are always open; /debug/* and /ui answer loopback clients (kubectl port-forward) or, with --admin-token-file, whoever sends the token. Port 0 picks a free port.',
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
      name: 'extproc-always',
      kind: 'boolean',
      default: false,
      description:
        'ext_proc: ask the picker on every route. By default, under a policy that plans for load (proxima), a gateway whose EDS weights keep a service on its own node gets that route with the ext_proc filter disabled (ExtProcPerRoute), saving the round trip where the picker would choose what the weights choose.',
    },
    {
      name: 'extproc-slot-timeout-ms',
      kind: 'number',
      default: 30_000,
      arg: 'MS',
      description:
        "ext_proc: free a request's in-flight slot after this long even if its stream neither answered response_headers nor ended (a stuck or leaked stream must not hold a pod's slot forever).",
    },
    ...SERVE_SECURITY_OPTIONS,
    ...SERVE_LIMIT_OPTIONS,
    ...COMMON_OPTIONS,
  ],
  epilog: [
    'Transport security: plaintext only on loopback (the default listen addresses); elsewhere give --tls-cert and --tls-key,',
    'and --tls-client-ca for mutual TLS, where a gateway or probe agent may speak only for the node its client certificate',
    'names (URI SAN spiffe://<trust-domain>/node/<name>). docs/security.md has the threat model and every bound.',
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
    {
      name: 'tls-ca',
      kind: 'string',
      arg: 'FILE',
      description: 'Dial the control plane over TLS, trusting this CA bundle. Unset: plaintext.',
    },
    {
      name: 'tls-cert',
      kind: 'string',
      arg: 'FILE',
      description:
        'Client certificate for mutual TLS; its URI SAN spiffe://<trust-domain>/node/<--node> lets this agent report for its node. Re-read every 5 s.',
    },
    { name: 'tls-key', kind: 'string', arg: 'FILE', description: 'Private key of --tls-cert.' },
    {
      name: 'tls-server-name',
      kind: 'string',
      arg: 'NAME',
      description: "Name the control plane certificate must carry when it is not --control-plane's host.",
    },
    {
      name: 'queue-proxy-interval-ms',
      kind: 'number',
      default: 1000,
      arg: 'MS',
      description:
        "Scrape the Knative queue-proxies (9090 stat, 9091 request metrics) of this node's pods this often and report what they measure; 0 turns it off. The control plane names the pods. 1 s: as often as Knative's autoscaler scrapes them, so the scheduler extender sees a demand step when the autoscaler does.",
    },
    {
      name: 'queue-proxy-timeout-ms',
      kind: 'number',
      default: 1000,
      arg: 'MS',
      description: 'Timeout of one queue-proxy scrape; at most --queue-proxy-interval-ms.',
    },
    { name: 'queue-proxy-concurrency', kind: 'number', default: 16, arg: 'N', description: 'Queue-proxies scraped at once.' },
    {
      name: 'queue-proxy-window-ms',
      kind: 'number',
      default: QUEUE_PROXY_WINDOW_MS,
      arg: 'MS',
      description:
        "Window of the pods' reported latencies and queue wait (FaaSt's 10 s); at least --queue-proxy-interval-ms. Shorter follows a change sooner and is noisier.",
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
        'A SMOKE RUN: the quick profile (3 load levels of 4 s, 5 policies, about 4 minutes with the events) instead of the full FaaSt sweep (users 5..50). Its levels are shorter than the estimators need, so it is labelled as a smoke run everywhere and decides no verdict.',
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
      arg: 'LIST',
      description:
        'Policies (setups) to compare, in order (comma-separated); "+extproc" makes the gateways also ask the ext_proc picker per request; "+public" (with --activator) routes to the public endpoints. Default: even,faast,nearest,proxima,proxima+extproc; with --activator: even+public,proxima+public,proxima.',
    },
    {
      name: 'activator',
      kind: 'boolean',
      default: false,
      description:
        "Put Knative's activator in the data path as a default install does: an emulated activator on cloud-1 with Knative's pod choice (containerConcurrency 0: better of two random; <= 3: first pod with room; else round robin), the revision's ServerlessService mode from the excess-burst-capacity rule, and scale from zero (the activator holds requests until a pod is ready). A setup label may then carry +public: the gateways get the revision's public endpoints (the activator while in Proxy mode), as Kourier does; without it Proxima routes to the pods with the activator as the last priority. Default setups: even+public (stock Knative), proxima+public (Proxima before it knew the activator), proxima. After the levels it scales the revision to zero and back under proxima and checks the first request.",
    },
    {
      name: 'target-burst-capacity',
      kind: 'number',
      default: 211,
      arg: 'N',
      description:
        "With --activator: config-autoscaler's target-burst-capacity (Knative's default 211; 0 = activator only at zero pods; -1 = always in the path).",
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
      description:
        "Measured seconds per load level, after a warm-up of the same length. At least 3 × the longest estimator window of the policies under test (30 s with faast or proxima: the pods' 10 s latency window); shorter is refused unless --quick. Default: that minimum, or 20 if longer; 4 with --quick.",
    },
    {
      name: 'events',
      kind: 'boolean',
      default: true,
      description:
        'Also run the scripted events (a link delay step, a node losing its pods and getting them back, a control-plane restart) under proxima at 10 users, once per seed.',
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
        'Repeat every cell (policy × users level) once per seed, each seed on a fresh cluster, e.g. 1-5 or 1,2,3 (at most 50); overrides --seed. The table and report.json give mean, p50, p95, p99 and local share as mean ± 95 % interval over the seeds, and each pair of policies is compared on those intervals ("lower"/"higher" only when they do not overlap, else "no difference shown"). Every verdict is decided over the seeds; the scripted events run once per seed.',
    },
    {
      name: 'out',
      kind: 'string',
      arg: 'DIR',
      description: 'Where to write report.json, report.html and the runtime topology. Default: reports/demo.',
    },
    {
      name: 'render',
      kind: 'string',
      arg: 'FILE',
      description:
        "Measure nothing: print what the run that wrote this report.json printed (tables and verdicts, from the JSON alone) and write its report.html again beside it. The README's demo figures are this command's output.",
    },
    {
      name: 'workload',
      kind: 'string',
      choices: ['knative', 'openfaas'],
      default: 'knative',
      arg: 'KIND',
      description:
        'How the function is deployed: a Knative revision (default/hello) or an OpenFaaS function (openfaas-fn/hello, platform openfaas, called at the OpenFaaS path /function/hello; its service time is an LRS-only estimate).',
    },
    {
      name: 'compare-with',
      kind: 'string',
      arg: 'REPORT',
      description:
        "After the run, compare every cell with another run's report.json (e.g. the other --workload, same --seeds) on the mean and p95 intervals over seeds, and say whether they match (no cell differs).",
    },
    { name: 'probe-interval-ms', kind: 'number', default: 1000, arg: 'MS', description: "Probe interval of the emulated nodes' agents." },
    {
      name: 'records',
      kind: 'boolean',
      default: false,
      description:
        'Also write every request of each level (gateway, start, latency, serving node, time in the pod and, with ext_proc, the wait for the decision and whether it fell back to the EDS weights) to records-<policy>-<users>-seed<seed>.json in --out.',
    },
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
