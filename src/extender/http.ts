import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { listenFront, type FrontListener } from '../net/front-listener.js';
import { identityFromSan } from '../tls/identity.js';
import { followReloads, httpsServerOptions } from '../tls/server-credentials.js';
import type { ListenAddress } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import { filterNodes, ReachabilityCache } from './filtering.js';
import { createExtenderMetrics, type ExtenderMetrics, type ExtenderOutcome, type ExtenderVerb } from './metrics.js';
import { PendingPlacements, publishPending, readyEndpointsOn } from './placements.js';
import { functionPodOf, resolveService } from './pod.js';
import { RttCache } from './rtt-cache.js';
import { scoreNodes } from './scoring.js';
import { largerInflow, plannedInflowRps } from './demand-input.js';
import { PlacementLog, placementReason } from './decisions.js';
import { parseExtenderArgs, type ExtenderFilterResult, type FailedNodesMap, type HostPriorityList, type ParsedArgs } from './wire.js';
import type { ExtenderServerOptions, PlacementsView } from './server-options.js';

export type { ExtenderServerOptions, PlacementsView } from './server-options.js';

export const DEFAULT_PENDING_TTL_MS = 120_000;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_EXTENDER_PATH_PREFIX = '/scheduler';
/** How long an over-limit body is drained after the 413 before the connection is cut. */
const DISCARD_LINGER_MS = 2000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: ExtenderOutcome,
    message: string,
  ) {
    super(message);
  }
}

/**
 * kube-scheduler extender over HTTP (node:http): `POST /filter` and `POST /prioritize` with the
 * JSON kube-scheduler sends (wire.ts). Only function pods are judged; others pass through. The
 * `bind` and `preempt` verbs are not implemented: the default binder and preemption are fine.
 */
export class ExtenderServer {
  private readonly store: ModelStore;
  private readonly log: Logger;
  private readonly metrics: ExtenderMetrics;
  private readonly nowMs: () => number;
  private readonly pending: PendingPlacements;
  private readonly decisions = new PlacementLog();
  private readonly reachability: ReachabilityCache;
  private readonly rtt: RttCache;
  private readonly prefix: string;
  private readonly maxBodyBytes: number;
  private readonly requestTimeoutMs: number;
  private server: Server | undefined;
  private front: FrontListener | undefined;
  private stopFollowing: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconcileScheduled = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: ExtenderServerOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.metrics = createExtenderMetrics(opts.registry);
    this.nowMs = opts.nowMs ?? Date.now;
    this.pending = new PendingPlacements(opts.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS, opts.maxPending ?? 1000);
    this.reachability = new ReachabilityCache(opts.store, opts.modelCacheRefreshMs ?? 1000);
    this.rtt = new RttCache(opts.store, opts.modelCacheRefreshMs ?? 1000);
    this.prefix = (opts.pathPrefix ?? DEFAULT_EXTENDER_PATH_PREFIX).replace(/\/+$/, '');
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
    this.unsubscribe = this.store.onChange(() => this.scheduleReconcile());
  }

  async listen(addr: ListenAddress): Promise<{ host: string; port: number }> {
    const timeouts = { requestTimeout: this.requestTimeoutMs + 1000, headersTimeout: this.requestTimeoutMs };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const tls = this.opts.tls;
    // A client certificate is asked for but checked per request: the token is the other way in.
    const server: Server = tls
      ? createHttpsServer({ ...timeouts, ...httpsServerOptions(tls, false) }, onRequest)
      : createServer(timeouts, onRequest);
    if (tls) this.stopFollowing = followReloads(tls, server as unknown as { setSecureContext(o: object): void });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    const limits = this.opts.connectionLimits ?? { maxPerPeer: 32, maxTotal: 4096 };
    this.front = await listenFront(
      addr,
      limits,
      (socket) => server.emit('connection', socket),
      (reason) => this.metrics.connectionsRefused.inc({ reason }),
    );
    const interval = Math.max(50, Math.min(5000, this.pending.ttlMs / 4));
    this.timer = setInterval(() => this.reconcile(), interval);
    this.timer.unref();
    this.log.info(
      { host: this.front.host, port: this.front.port, prefix: this.prefix, tls: tls !== undefined },
      'scheduler extender listening',
    );
    return { host: this.front.host, port: this.front.port };
  }

  /** With a client CA or a token configured, only the scheduler's certificate or the token gets in. */
  private authorized(req: IncomingMessage): boolean {
    const mutual = this.opts.tls?.material.ca !== undefined;
    if (!mutual && !this.opts.token) return true;
    if (this.opts.token?.accepts(req.headers.authorization)) return true;
    if (!mutual) return false;
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return false;
    const id = identityFromSan(socket.getPeerCertificate().subjectaltname, this.opts.trustDomain ?? 'cluster.local');
    return id.kind === 'scheduler';
  }

  /** Pending placements for /debug/placements. */
  placements(): PlacementsView {
    const now = this.nowMs();
    return {
      policy: this.opts.engine?.policy.name,
      ttlMs: this.pending.ttlMs,
      pending: this.pending.list().map((p) => ({
        pod: p.pod,
        podKey: p.podKey,
        service: p.service,
        node: p.node,
        score: p.score,
        placedAt: new Date(p.placedAtMs).toISOString(),
        expiresInMs: Math.max(0, p.expiresAtMs - now),
      })),
      decisions: this.decisions.list().map(({ atMs, ...d }) => ({ at: new Date(atMs).toISOString(), ...d })),
    };
  }

  /** Stop listening, drop connections and withdraw pending placements from the model. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe();
    const services = new Set(this.pending.list().map((p) => p.service));
    this.pending.reconcile(() => 0, Infinity);
    publishPending(this.store, this.pending, services);
    this.metrics.placementsPending.set(0);
    this.stopFollowing?.();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await this.front?.close();
  }

  private scheduleReconcile(): void {
    if (this.reconcileScheduled) return;
    this.reconcileScheduled = true;
    setImmediate(() => {
      this.reconcileScheduled = false;
      this.reconcile();
    });
  }

  private reconcile(): void {
    if (this.pending.size === 0) return;
    const r = this.pending.reconcile((s, n) => readyEndpointsOn(this.store, s, n), this.nowMs());
    if (r.services.size === 0) return;
    if (r.fulfilled.length) this.metrics.placements.inc({ result: 'fulfilled' }, r.fulfilled.length);
    if (r.expired.length) {
      this.metrics.placements.inc({ result: 'expired' }, r.expired.length);
      this.log.info({ pods: r.expired.map((p) => `${p.pod}@${p.node}`) }, 'pending placements expired before their pods became ready');
    }
    this.metrics.placementsPending.set(this.pending.size);
    publishPending(this.store, this.pending, r.services);
  }

  private verbOf(path: string): ExtenderVerb {
    if (path === '/filter' || path === `${this.prefix}/filter`) return 'filter';
    if (path === '/prioritize' || path === `${this.prefix}/prioritize`) return 'prioritize';
    return 'other';
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!;
    const verb = this.verbOf(path);
    const finish = (outcome: ExtenderOutcome, status: number, body: unknown, extraHeaders: Record<string, string> = {}) => {
      if (res.headersSent || res.destroyed) return;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
      res.end(text);
      this.metrics.requests.inc({ verb, outcome });
      this.metrics.duration.observe({ verb }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const fail = (err: HttpError) => {
      const headers: Record<string, string> = err.status === 405 ? { allow: 'POST' } : {};
      // A stalled body leaves the connection in an unknown state: hang up after the reply.
      if (err.status === 408) headers['connection'] = 'close';
      const body = verb === 'filter' ? filterResult(null, null, {}, err.message) : { Error: err.message };
      finish(err.outcome, err.status, body, headers);
      if (headers['connection'] === 'close') res.once('finish', () => req.destroy());
      if (err.status >= 500) this.log.error({ err, path }, 'scheduler extender request failed');
      else this.log.debug({ status: err.status, path, error: err.message }, 'scheduler extender request refused');
    };

    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (!this.authorized(req)) {
      fail(
        new HttpError(
          401,
          'unauthorized',
          'the scheduler extender needs the scheduler client certificate or Authorization: Bearer <token>',
        ),
      );
      return this.discardRest(req);
    }
    if (verb === 'other')
      return fail(
        new HttpError(404, 'not_found', `unknown path ${path}: use POST /filter or POST /prioritize (also under ${this.prefix || '/'})`),
      );
    if (req.method !== 'POST')
      return fail(new HttpError(405, 'method_not_allowed', `${req.method ?? '?'} not allowed on ${path}: use POST`));
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBodyBytes) {
      fail(new HttpError(413, 'too_large', `request body of ${declared} bytes exceeds the limit of ${this.maxBodyBytes} bytes`));
      return this.discardRest(req);
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      fail(new HttpError(408, 'timeout', `request body not received within ${this.requestTimeoutMs} ms`));
    }, this.requestTimeoutMs);
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        done = true;
        clearTimeout(timer);
        chunks.length = 0;
        fail(new HttpError(413, 'too_large', `request body exceeds the limit of ${this.maxBodyBytes} bytes`));
        this.discardRest(req);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      done = true;
      clearTimeout(timer);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        const args = decode(Buffer.concat(chunks, size));
        if (verb === 'filter') {
          const { outcome, body } = this.filter(args);
          finish(outcome, 200, body);
        } else {
          const { outcome, body } = this.prioritize(args);
          finish(outcome, 200, body);
        }
      } catch (err) {
        fail(err instanceof HttpError ? err : new HttpError(500, 'error', `internal error: ${(err as Error).message}`));
      }
    });
  }

  /**
   * After an early 413, read and drop what the client is still sending for a short while so it gets
   * to read the reply (closing with unread data makes the kernel send a reset that can destroy the
   * reply in flight), then hang up if it keeps going.
   */
  private discardRest(req: IncomingMessage): void {
    let dropped = 0;
    const hangUp = () => req.socket.destroy();
    const linger = setTimeout(hangUp, DISCARD_LINGER_MS);
    linger.unref();
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > this.maxBodyBytes) hangUp();
    });
    req.once('close', () => clearTimeout(linger));
    req.once('end', () => clearTimeout(linger));
    req.resume();
  }

  private filter(args: ParsedArgs): { outcome: ExtenderOutcome; body: ExtenderFilterResult } {
    const fp = functionPodOf(args.pod, this.opts.serviceLabel);
    if (!fp) return { outcome: 'passthrough', body: reply(args, new Set(args.nodeNames), {}) };
    const out = filterNodes({
      store: this.store,
      candidates: args.nodeNames,
      nowMs: this.nowMs(),
      reachability: this.reachability,
      ...(this.opts.hasGateway ? { hasGateway: this.opts.hasGateway } : {}),
      failOpen: this.opts.failOpen ?? true,
    });
    const failed: FailedNodesMap = {};
    for (const [node, f] of out.failed) {
      failed[node] = f.message;
      this.metrics.nodesFiltered.inc({ reason: f.reason });
    }
    if (out.failedOpen) {
      this.metrics.failOpen.inc();
      this.log.warn(
        { pod: `${fp.namespace}/${fp.name}`, candidates: args.nodeNames.length },
        'every candidate node would be filtered out; letting all through (fail-open)',
      );
    } else if (out.failed.size > 0) {
      this.log.debug({ pod: `${fp.namespace}/${fp.name}`, failed }, 'filtered nodes');
    }
    return { outcome: 'ok', body: reply(args, new Set(out.passed), failed) };
  }

  private prioritize(args: ParsedArgs): { outcome: ExtenderOutcome; body: HostPriorityList } {
    const fp = functionPodOf(args.pod, this.opts.serviceLabel);
    if (!fp) return { outcome: 'passthrough', body: args.nodeNames.map((Host) => ({ Host, Score: 0 })) };
    this.reconcile();
    const nowMs = this.nowMs();
    const service = resolveService(this.store, fp);
    const rtt = this.rtt.view(nowMs);
    const result = scoreNodes({
      store: this.store,
      service,
      candidates: args.nodeNames,
      nowMs,
      pending: this.pending.countsFor(service, fp.key),
      rtt,
      ...(this.opts.tuning ? { tuning: this.opts.tuning } : {}),
      inflowRps: largerInflow(
        this.opts.inflowRps?.(service) ?? new Map(),
        plannedInflowRps(this.opts.engine?.forService(service), this.store.demandByGateway(service)),
      ),
    });
    if (result.best !== undefined) {
      const best = result.scores.find((s) => s.node === result.best)!;
      this.decisions.add({
        atMs: nowMs,
        pod: `${fp.namespace}/${fp.name}`,
        service,
        node: best.node,
        score: best.score,
        mode: result.mode,
        ...placementReason(result, result.demand, (a, b) => rtt.rttMs(a, b)),
        demand: result.demand,
        inputs: result.inputs,
        scores: result.scores.map((s) => ({ node: s.node, score: s.score })),
      });
      const placed = this.pending.place(
        {
          podKey: fp.key,
          pod: `${fp.namespace}/${fp.name}`,
          service,
          node: best.node,
          score: best.score,
          readyAtPlacement: readyEndpointsOn(this.store, service, best.node),
        },
        nowMs,
      );
      if (placed) {
        this.metrics.placements.inc({ result: 'placed' });
        this.metrics.placementsPending.set(this.pending.size);
        publishPending(this.store, this.pending, placed);
      } else {
        this.metrics.placements.inc({ result: 'refused' });
      }
    }
    this.log.debug(
      { pod: `${fp.namespace}/${fp.name}`, service, mode: result.mode, currentMs: result.currentMs, best: result.best },
      'prioritized nodes',
    );
    return { outcome: 'ok', body: result.scores.map((s) => ({ Host: s.node, Score: s.score })) };
  }
}

function decode(body: Buffer): ParsedArgs {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'bad_request', `malformed JSON: ${(err as Error).message}`);
  }
  const parsed = parseExtenderArgs(json);
  if (!parsed.ok) throw new HttpError(400, 'bad_request', `bad ExtenderArgs: ${parsed.error}`);
  return parsed.args;
}

function filterResult(
  nodes: ExtenderFilterResult['Nodes'],
  names: ExtenderFilterResult['NodeNames'],
  failed: FailedNodesMap,
  error = '',
): ExtenderFilterResult {
  // Preemption cannot fix any of our reasons, so they go in FailedAndUnresolvableNodes too (it wins
  // over FailedNodes in kube-scheduler); FailedNodes keeps them visible to older schedulers without it.
  return { Nodes: nodes, NodeNames: names, FailedNodes: failed, FailedAndUnresolvableNodes: { ...failed }, Error: error };
}

/** Answer in the shape the request used: a NodeList for `Nodes`, names for `NodeNames`. */
function reply(args: ParsedArgs, passed: ReadonlySet<string>, failed: FailedNodesMap): ExtenderFilterResult {
  if (args.mode === 'Nodes') {
    const items = (args.nodeItems ?? []).filter((n) => passed.has(n.metadata?.name ?? ''));
    return filterResult({ ...args.nodeList, items }, null, failed);
  }
  return filterResult(
    null,
    args.nodeNames.filter((n) => passed.has(n)),
    failed,
  );
}
