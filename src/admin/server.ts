import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import { isLoopback } from '../tls/listener-policy.js';
import type { TokenFile } from './token.js';
import type { ListenAddress } from '../config.js';
import type { Logger } from '../log.js';

/** A readiness check: `true` when ready, else a short reason. */
export type ReadinessCheck = () => true | string;
/** A warning that does not make the process unready (e.g. a refused config edit): text, or undefined when all is well. */
export type StatusNote = () => string | undefined;
export type DebugProvider = (query: URLSearchParams) => unknown;

export interface AdminServerOptions {
  readonly registry: Registry;
  readonly log: Logger;
  /** Shown on `/`. */
  readonly title?: string;
  /** Required as `Authorization: Bearer` for everything but /metrics, /healthz, /readyz. */
  readonly token?: TokenFile;
  /** Largest array a /debug endpoint returns in one page (default 500; `?offset=` pages on). */
  readonly maxDebugItems?: number;
}

/** Always open: Prometheus and the kubelet's probes need no token. */
const OPEN_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * The admin HTTP port: /metrics, /healthz, /readyz, /debug/<name> (JSON) and HTML pages such as /ui.
 * Parts register what they expose; the server itself knows nothing about routing.
 */
export class AdminServer {
  private readonly registry: Registry;
  private readonly log: Logger;
  private readonly title: string;
  private readonly readiness = new Map<string, ReadinessCheck>();
  private readonly notes = new Map<string, StatusNote>();
  private readonly debug = new Map<string, { provider: DebugProvider; description: string }>();
  private readonly pages = new Map<string, { render: () => string; contentType: string }>();
  private server: Server | undefined;
  private readonly token: TokenFile | undefined;
  private readonly maxDebugItems: number;
  private readonly refused: Counter<'reason'>;

  constructor(opts: AdminServerOptions) {
    this.registry = opts.registry;
    this.token = opts.token;
    this.maxDebugItems = opts.maxDebugItems ?? 500;
    this.refused = new Counter({
      name: 'proxima_admin_refused_total',
      help: 'Admin requests for /debug/* or /ui refused, by reason (no_token: wrong or missing bearer token; off: a non-loopback client and no --admin-token-file).',
      labelNames: ['reason'],
      registers: [opts.registry],
    });
    this.log = opts.log.child({ component: 'admin' });
    this.title = opts.title ?? 'proxima';
  }

  addReadiness(name: string, check: ReadinessCheck): void {
    this.readiness.set(name, check);
  }

  addNote(name: string, note: StatusNote): void {
    this.notes.set(name, note);
  }

  addDebug(name: string, description: string, provider: DebugProvider): void {
    this.debug.set(name, { provider, description });
  }

  addPage(path: string, render: () => string, contentType = 'text/html; charset=utf-8'): void {
    this.pages.set(path, { render, contentType });
  }

  /** Readiness of every registered check, for /readyz. */
  readinessReport(): { ready: boolean; checks: Record<string, true | string>; warnings?: Record<string, string> } {
    const checks: Record<string, true | string> = {};
    let ready = true;
    for (const [name, check] of this.readiness) {
      let r: true | string;
      try {
        r = check();
      } catch (err) {
        r = `check failed: ${(err as Error).message}`;
      }
      checks[name] = r;
      if (r !== true) ready = false;
    }
    const warnings: Record<string, string> = {};
    for (const [name, note] of this.notes) {
      const text = note();
      if (text !== undefined) warnings[name] = text;
    }
    return Object.keys(warnings).length ? { ready, checks, warnings } : { ready, checks };
  }

  async listen(addr: ListenAddress): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    if (!this.token && !isLoopback(a.address))
      this.log.warn(
        { host: a.address },
        'admin port is off loopback without --admin-token-file: /debug/* and /ui answer loopback clients only',
      );
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
      if (path === '/metrics') return send(res, 200, this.registry.contentType, await this.registry.metrics());
      if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
      if (path === '/readyz') {
        const r = this.readinessReport();
        const verbose = url.searchParams.has('verbose');
        const warnings = Object.entries(r.warnings ?? {}).map(([n, w]) => `warning: ${n}: ${w}\n`);
        const body = verbose || !r.ready ? JSON.stringify(r, null, 2) + '\n' : `ok\n${warnings.join('')}`;
        return send(res, r.ready ? 200 : 503, verbose || !r.ready ? 'application/json' : 'text/plain', body);
      }
      if (!OPEN_PATHS.has(path)) {
        const refusal = this.refusal(req);
        if (refusal) return send(res, refusal.status, 'text/plain', `${refusal.message}\n`, refusal.headers);
      }
      if (path === '/debug')
        return send(
          res,
          200,
          'application/json',
          json(Object.fromEntries([...this.debug].map(([n, d]) => [`/debug/${n}`, d.description]))),
        );
      if (path.startsWith('/debug/')) {
        const d = this.debug.get(path.slice('/debug/'.length));
        if (!d)
          return send(
            res,
            404,
            'application/json',
            json({ error: `no debug endpoint ${path}`, available: [...this.debug.keys()].map((n) => `/debug/${n}`) }),
          );
        return this.sendDebug(res, d.provider(url.searchParams), url);
      }
      const page = this.pages.get(path);
      if (page) return send(res, 200, page.contentType, page.render());
      if (path === '/') return send(res, 200, 'text/html; charset=utf-8', this.index());
      return send(res, 404, 'text/plain', `not found: ${path}\n`);
    } catch (err) {
      this.log.error({ err, path }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', `internal error: ${(err as Error).message}\n`);
      else res.destroy();
    }
  }

  private refusal(req: IncomingMessage): { status: number; message: string; headers: Record<string, string> } | undefined {
    const tokenOk = this.token?.accepts(req.headers.authorization) ?? false;
    const access = adminAccess(this.token !== undefined, tokenOk, isLoopback(req.socket.remoteAddress ?? ''));
    if (access === 'ok') return undefined;
    this.refused.inc({ reason: access });
    if (access === 'no_token')
      return {
        status: 401,
        message: 'unauthorized: send Authorization: Bearer <token> (--admin-token-file)',
        headers: { 'www-authenticate': 'Bearer' },
      };
    return {
      status: 403,
      message: 'off: /debug/* and /ui answer loopback clients (kubectl port-forward), or anyone with --admin-token-file',
      headers: {},
    };
  }

  /** An array longer than a page is cut at `?offset=`; `x-total-count` and a `link` header tell the rest. */
  private sendDebug(res: ServerResponse, value: unknown, url: URL): void {
    if (!Array.isArray(value) || value.length <= this.maxDebugItems) return send(res, 200, 'application/json', json(value));
    const offset = Math.max(0, Math.min(value.length, Math.floor(Number(url.searchParams.get('offset') ?? 0)) || 0));
    const page = value.slice(offset, offset + this.maxDebugItems);
    const headers: Record<string, string> = { 'x-total-count': String(value.length) };
    if (offset + page.length < value.length) {
      const next = new URL(url.toString());
      next.searchParams.set('offset', String(offset + page.length));
      headers['link'] = `<${next.pathname}${next.search}>; rel="next"`;
    }
    return send(res, 200, 'application/json', json(page), headers);
  }

  private index(): string {
    const links = [
      '/metrics',
      '/healthz',
      '/readyz?verbose',
      ...[...this.pages.keys()],
      ...[...this.debug.keys()].map((n) => `/debug/${n}`),
    ];
    const items = links.map((l) => `<li><a href="${escapeHtml(l)}">${escapeHtml(l)}</a></li>`).join('');
    return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(this.title)}</title></head><body><h1>${escapeHtml(this.title)}</h1><ul>${items}</ul></body></html>`;
  }
}

/**
 * Who may read /debug/* and /ui: with a token configured, whoever sends it; without one, loopback
 * clients only (this host, or `kubectl port-forward` into the pod), so an admin port bound off
 * loopback for the kubelet and Prometheus does not expose pod IPs to the network.
 */
export function adminAccess(tokenConfigured: boolean, tokenOk: boolean, clientLoopback: boolean): 'ok' | 'no_token' | 'off' {
  if (tokenConfigured) return tokenOk ? 'ok' : 'no_token';
  return clientLoopback ? 'ok' : 'off';
}

function json(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
