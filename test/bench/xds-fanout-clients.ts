/**
 * Child process of the xds-fanout benchmark: N simulated gateways, each an ADS SotW stream on its
 * own connection, that subscribe like an Envoy gateway (CDS and LDS wildcard, EDS for every
 * cluster, RDS for the two Kourier route configurations) and ACK every response. Responses are
 * not decoded beyond their top-level fields, so the clients cost the server's core little.
 * Talks to the parent over IPC: start → ready, arm → delivered, (server restart) → resynced.
 *
 * Each gateway speaks gRPC straight on node:http2 (a POST stream, length-prefixed messages, the
 * status in trailers: grpc/grpc doc/PROTOCOL-HTTP2.md), as Envoy's own C++ client does, not through
 * grpc-js's client: in production every gateway is an Envoy on a node of its own, and here a thousand
 * of them share one process and the server's two cores. With grpc-js's client (its per-call
 * machinery, a copy of every 25 KB ACK into a frame) the simulated gateways, not the server, set the
 * tail of a change. The interoperability tests use the real xDS clients (grpc-js-xds, gRPC C-core).
 */
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { envoyProtos } from '../../src/protos/envoy.js';
import { MessageReader, writeMessage } from '../../src/net/grpc-frames.js';
import { parseHead, type Head } from './discovery-head.js';

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

interface StartMessage {
  readonly cmd: 'start';
  readonly address: string;
  readonly streams: number;
  readonly nodes: number;
  readonly serviceNames: readonly string[];
  /** This process runs streams offset, offset + stride, … (several client processes share the load). */
  readonly offset?: number;
  readonly stride?: number;
}

const RequestType = envoyProtos().type('envoy.service.discovery.v3.DiscoveryRequest');
const encodeRequest = (r: Record<string, unknown>): Buffer => Buffer.from(RequestType.encode(RequestType.fromObject(r)).finish());

/**
 * ACKs repeat every subscribed name (1,000 for EDS): encode type and names once per type and
 * append version and nonce per ACK (field order does not matter in protobuf), so the simulated
 * gateways spend microseconds, not a millisecond, per ACK.
 */
const ackPrefixes = new Map<string, Buffer>();
function ackParts(typeUrl: string, names: readonly string[], versionInfo: string, nonce: string): Buffer[] {
  let prefix = ackPrefixes.get(typeUrl);
  if (!prefix) ackPrefixes.set(typeUrl, (prefix = encodeRequest({ type_url: typeUrl, resource_names: names })));
  return [prefix, encodeRequest({ version_info: versionInfo, response_nonce: nonce })];
}

/**
 * The EDS, LDS and RDS subscriptions every gateway sends on connect, encoded once: the same bytes for
 * all (the node is on the first request only), and a thousand reconnects at once would otherwise spend
 * this process's core encoding 1,000-name lists while the restarted server waits for them.
 */
let subscribeCache: { names: readonly string[]; requests: Buffer[] } | undefined;
function subscribeRequests(serviceNames: readonly string[]): Buffer[] {
  if (subscribeCache?.names !== serviceNames)
    subscribeCache = {
      names: serviceNames,
      requests: [
        encodeRequest({ type_url: EDS, resource_names: serviceNames }),
        encodeRequest({ type_url: LDS }),
        encodeRequest({ type_url: RDS, resource_names: ['external_services', 'internal_services'] }),
      ],
    };
  return subscribeCache.requests;
}

/** One request given as its parts (an ACK: the shared name list, then version and nonce). */
function sendParts(stream: http2.ClientHttp2Stream, parts: readonly Buffer[]): void {
  writeMessage(
    stream,
    parts,
    parts.reduce((n, p) => n + p.length, 0),
  );
}

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
/**
 * Envoy's HTTP/2 windows, which its xDS connection uses unless the bootstrap sets others (ours does
 * not): 256 MiB per stream and connection (envoyproxy/envoy, Http2::Utility::OptionsLimits
 * DEFAULT_INITIAL_STREAM_WINDOW_SIZE / DEFAULT_INITIAL_CONNECTION_WINDOW_SIZE). A 64 KiB window would
 * make a 1 MB resync wait for ~16 window updates through this process's busy event loop.
 */
const WINDOW = 256 * 1024 * 1024;
const INITIAL_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 300;

const send = (m: unknown): void => {
  process.send!(m);
};

class Gateway {
  private session: http2.ClientHttp2Session | undefined;
  private call: http2.ClientHttp2Stream | undefined;
  cdsCount = -1;
  edsResources = 0;
  lds = false;
  rds = false;
  edsSinceArm = 0;
  reconnects = 0;
  /** Responses that were empty or partial (see onResponse). */
  partial = 0;
  /** When this gateway last became complete (initial sync or resync), on this process's clock. */
  completedAtMs = 0;
  private ldsCount = 0;
  private closed = false;
  private backoffMs = INITIAL_BACKOFF_MS;

  private readonly host: string;
  private readonly port: number;

  constructor(
    private readonly address: string,
    private readonly id: number,
    private readonly node: string,
    private readonly serviceNames: readonly string[],
    private readonly onProgress: () => void,
  ) {
    const colon = address.lastIndexOf(':');
    this.host = address.slice(0, colon);
    this.port = Number(address.slice(colon + 1));
  }

  complete(): boolean {
    return this.cdsCount === this.serviceNames.length && this.edsResources >= this.serviceNames.length && this.lds && this.rds;
  }

  reset(): void {
    this.completedAtMs = 0;
    this.cdsCount = -1;
    this.edsResources = 0;
    this.lds = this.rds = false;
  }

  open(): void {
    if (this.closed) return;
    this.reset();
    // TCP first, HTTP/2 once it is up: while the server restarts, a thousand gateways retry every
    // 100-300 ms, and a refused attempt that had built an HTTP/2 session (and an error with its stack
    // trace) kept this process's core busy through the restarted server's start, which the two
    // cores share. An Envoy retries on its own node, in microseconds of C++.
    // TCP_NODELAY, as Envoy sets on its connections (and grpc-js's client did here before).
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const refused = (): void => {
      socket.destroy();
      this.retry();
    };
    socket.once('error', refused);
    socket.once('connect', () => {
      socket.off('error', refused);
      if (this.closed) socket.destroy();
      else this.openSession(socket);
    });
  }

  /** Waits a growing, jittered delay, then connects again (see `open`). */
  private retry(): void {
    this.reconnects++;
    const delay = this.backoffMs * (0.8 + 0.4 * Math.random());
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 1.6);
    setTimeout(() => this.open(), delay);
  }

  private openSession(socket: Socket): void {
    const session = http2.connect(`http://${this.address}`, {
      settings: { initialWindowSize: WINDOW },
      createConnection: () => socket,
    });
    this.session = session;
    session.on('connect', () => session.setLocalWindowSize(WINDOW));
    const call = session.request({
      ':method': 'POST',
      ':path': ADS_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    this.call = call;
    const reader = new MessageReader(WINDOW);
    const each = (b: Buffer): boolean => (this.onResponse(parseHead(b)), true);
    call.on('data', (chunk: Buffer) => reader.feed(chunk, each));
    // Like the grpc-js client this bench used before (waitForReady, initial_reconnect_backoff_ms 100,
    // max_reconnect_backoff_ms 300, grpc-js's multiplier 1.6 and jitter ±20 %): a refused connect or a
    // closed stream retries after a growing delay, reset by the first response.
    const reopen = (): void => {
      if (this.call !== call) return;
      this.call = undefined;
      this.session = undefined;
      session.destroy();
      this.retry();
    };
    call.on('error', reopen);
    call.on('close', reopen);
    session.on('error', reopen);
    session.on('close', reopen);
    const node = { id: `gw-${this.id}`, cluster: 'bench', locality: { sub_zone: this.node } };
    sendParts(call, [encodeRequest({ node, type_url: CDS })]);
    for (const request of subscribeRequests(this.serviceNames)) sendParts(call, [request]);
  }

  private onResponse(h: Head): void {
    this.backoffMs = INITIAL_BACKOFF_MS;
    const names = h.typeUrl === EDS ? this.serviceNames : h.typeUrl === RDS ? ['external_services', 'internal_services'] : [];
    // A gateway must never be handed less than the whole config: every cluster, every listener, and
    // no ClusterLoadAssignment without endpoints (every bench service has ready endpoints).
    if (h.typeUrl === CDS && h.count !== this.serviceNames.length) this.partial++;
    if (h.typeUrl === LDS && (h.count === 0 || h.count < this.ldsCount)) this.partial++;
    if (h.typeUrl === EDS) this.partial += h.withoutField2;
    if (h.typeUrl === LDS) this.ldsCount = Math.max(this.ldsCount, h.count);
    if (h.typeUrl === CDS) this.cdsCount = h.count;
    else if (h.typeUrl === EDS) {
      this.edsResources += h.count;
      this.edsSinceArm++;
    } else if (h.typeUrl === LDS) this.lds = true;
    else if (h.typeUrl === RDS) this.rds = true;
    this.onProgress();
    // Receipt first, ACK after the batch of ready sockets: keeps the measured arrival honest.
    const call = this.call;
    setImmediate(() => {
      if (call && !call.destroyed && call === this.call) sendParts(call, ackParts(h.typeUrl, names, h.versionInfo, h.nonce));
    });
  }

  close(): void {
    this.closed = true;
    const s = this.session;
    this.call = undefined;
    this.session = undefined;
    s?.destroy();
  }
}

let gateways: Gateway[] = [];
let phase: 'idle' | 'initial' | 'armed' | 'resync' = 'idle';
let completeCount = 0;
let armedDone = 0;
let firstAtMs = 0;
/** This process's CPU when the current initial sync or resync began. */
let phaseCpu = process.cpuUsage();

function progress(g: Gateway): void {
  if (phase === 'initial' || phase === 'resync') {
    if (g.complete()) {
      if (g.completedAtMs === 0) g.completedAtMs = performance.timeOrigin + performance.now();
      completeCount = gateways.filter((x) => x.complete()).length;
      if (completeCount === gateways.length) {
        send({
          ev: phase === 'initial' ? 'ready' : 'resynced',
          atMs: performance.timeOrigin + performance.now(),
          partial: gateways.reduce((a, x) => a + x.partial, 0),
          completedAtMs: gateways.map((x) => x.completedAtMs).sort((a, b) => a - b),
          reconnects: gateways.reduce((a, x) => a + x.reconnects, 0),
          cpu: process.cpuUsage(phaseCpu),
        });
        phase = 'idle';
      }
    }
  } else if (phase === 'armed' && g.edsSinceArm === 1) {
    if (armedDone === 0) firstAtMs = performance.timeOrigin + performance.now();
    armedDone++;
    if (armedDone === gateways.length) {
      send({ ev: 'delivered', atMs: performance.timeOrigin + performance.now(), firstAtMs });
      phase = 'idle';
    }
  }
}

process.on('message', (m: StartMessage | { cmd: 'arm' | 'expect-resync' | 'stop' | 'status' | 'clock' }) => {
  if (m.cmd === 'clock') {
    send({ ev: 'clock', clockMs: performance.timeOrigin + performance.now() });
  } else if (m.cmd === 'start') {
    phase = 'initial';
    phaseCpu = process.cpuUsage();
    gateways = [];
    for (let i = m.offset ?? 0; i < m.streams; i += m.stride ?? 1) {
      const g: Gateway = new Gateway(m.address, i, `n-${String(i % m.nodes).padStart(4, '0')}`, m.serviceNames, () => progress(g));
      gateways.push(g);
    }
    for (const g of gateways) g.open();
  } else if (m.cmd === 'arm') {
    for (const g of gateways) g.edsSinceArm = 0;
    armedDone = 0;
    phase = 'armed';
    send({ ev: 'armed' });
  } else if (m.cmd === 'expect-resync') {
    for (const g of gateways) g.reset();
    phase = 'resync';
    phaseCpu = process.cpuUsage();
    send({ ev: 'expecting' });
  } else if (m.cmd === 'status') {
    send({
      ev: 'status',
      complete: gateways.filter((g) => g.complete()).length,
      reconnects: gateways.reduce((a, g) => a + g.reconnects, 0),
    });
  } else if (m.cmd === 'stop') {
    for (const g of gateways) g.close();
    process.exit(0);
  }
});
send({ ev: 'loaded' });
