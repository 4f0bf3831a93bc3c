/**
 * An emulated gateway: one child process per node running a real @grpc/grpc-js-xds client (its own
 * xDS node identity from GRPC_XDS_BOOTSTRAP_CONFIG) driven by the open-loop load generator. Talks to
 * the demo over IPC. Started by the demo with `fork()`; not a user-facing command.
 */
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { bindLoopbackConnectionsTo } from './source-address.js';
import { FUNCTION_METHOD, type FunctionReply } from './function-pod.js';
import { ExtProcClient } from './extproc-client.js';
import { ExtProcRouteWatch } from './extproc-route-watch.js';
import { runOpenLoop, type InvokeResult } from './loadgen.js';
import { keepConnectionsAcrossEdsUpdates } from './keep-connections.js';
import { mulberry32 } from '../util/rng.js';
import { rawBytes } from '../util/grpc-raw.js';

export type GatewayCommand =
  | {
      type: 'run';
      label: string;
      target: string;
      ratePerSecond: number;
      durationMs: number;
      spacing: 'constant' | 'poisson';
      maxInFlight: number;
      seed: number;
      deadlineMs: number;
      /** gRPC method path to call (default FUNCTION_METHOD). */
      method?: string;
      /** Ask this ext_proc server per request and send to the picked endpoint (Envoy + ORIGINAL_DST). */
      extproc?: { address: string; node: string; authority: string };
    }
  | { type: 'warmup'; target: string; timeoutMs: number; method?: string }
  | { type: 'once'; target: string; deadlineMs: number; method?: string }
  | { type: 'stop' };

export type GatewayMessage =
  | { type: 'ready'; target: string; servedBy: string }
  | { type: 'warmup-failed'; target: string; error: string }
  | { type: 'progress'; label: string; done: number; total: number }
  | {
      type: 'result';
      label: string;
      startMs: number[];
      latencyMs: number[];
      ok: boolean[];
      servedBy: string[];
      /** Time the request spent in the pod (queue + service, from its reply), ms; -1 when unknown. */
      podMs?: number[];
      /** Time the request spent in the user container (from its reply), ms; -1 when unknown. */
      serviceMs?: number[];
      /** Time the gateway waited for the ext_proc decision, ms; -1 without ext_proc. */
      decideMs?: number[];
      /** The ext_proc decision did not come: routed by the EDS weights. */
      fellBack?: boolean[];
      /** The route disabled the ext_proc filter (the EDS weights keep the gateway local): no decision asked. */
      skippedPicker?: boolean[];
      errors: string[];
      dropped: number;
    }
  | { type: 'once-result'; ok: boolean; latencyMs: number; servedBy: string; error: string }
  | { type: 'fatal'; error: string };

function send(m: GatewayMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const source = process.env['PROXIMA_EMULATOR_SOURCE_ADDRESS'];
  if (source) bindLoopbackConnectionsTo(source);
  grpcXds.register();
  keepConnectionsAcrossEdsUpdates();
  const clients = new Map<string, grpc.Client>();
  const clientFor = (target: string) => {
    let c = clients.get(target);
    if (!c) {
      c = new grpc.Client(target, grpc.credentials.createInsecure());
      clients.set(target, c);
    }
    return c;
  };
  let extproc: ExtProcClient | undefined;
  let routeWatch: ExtProcRouteWatch | undefined;
  const invokeVia = async (
    target: string,
    deadlineMs: number,
    ep: { address: string; node: string; authority: string } | undefined,
    method = FUNCTION_METHOD,
  ): Promise<InvokeResult> => {
    if (!ep) return invoke(target, deadlineMs, method);
    // Envoy's filter reads its per-route config first: a disabled route sends by the EDS weights, no round trip.
    if (routeWatch?.skips(ep.authority)) return { ...(await invoke(target, deadlineMs, method)), skippedPicker: true };
    extproc ??= new ExtProcClient(ep.address, ep.node);
    const asked = performance.now();
    const decision = await extproc.decide(ep.authority);
    const decideMs = performance.now() - asked;
    try {
      const r = await invoke(decision.destination ?? target, deadlineMs, method);
      return { ...r, decideMs, ...(decision.destination ? {} : { fellBack: true }) };
    } finally {
      decision.complete();
    }
  };
  const invoke = (target: string, deadlineMs: number, method: string) =>
    new Promise<{ servedBy?: string; podMs?: number; serviceMs?: number }>((resolve, reject) => {
      clientFor(target).makeUnaryRequest(
        method,
        rawBytes,
        rawBytes,
        Buffer.from('{}'),
        { deadline: Date.now() + deadlineMs },
        (err: grpc.ServiceError | null, value?: Buffer) => {
          if (err || !value) return reject(err ?? new Error('empty reply'));
          try {
            const reply = JSON.parse(value.toString()) as FunctionReply;
            resolve({ servedBy: reply.node, podMs: reply.queuedMs + reply.serviceMs, serviceMs: reply.serviceMs });
          } catch (e) {
            reject(e as Error);
          }
        },
      );
    });

  process.on('message', (raw: GatewayCommand) => {
    void (async () => {
      if (raw.type === 'stop') {
        for (const c of clients.values()) c.close();
        extproc?.close();
        routeWatch?.close();
        process.exit(0);
      }
      if (raw.type === 'warmup') {
        const deadline = Date.now() + raw.timeoutMs;
        let lastError = '';
        while (Date.now() < deadline) {
          try {
            const r = await invoke(raw.target, 2000, raw.method ?? FUNCTION_METHOD);
            return send({ type: 'ready', target: raw.target, servedBy: r.servedBy ?? '' });
          } catch (err) {
            lastError = (err as Error).message;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        return send({ type: 'warmup-failed', target: raw.target, error: lastError });
      }
      if (raw.type === 'once') {
        const t0 = performance.now();
        try {
          const r = await invoke(raw.target, raw.deadlineMs, raw.method ?? FUNCTION_METHOD);
          return send({ type: 'once-result', ok: true, latencyMs: performance.now() - t0, servedBy: r.servedBy ?? '', error: '' });
        } catch (err) {
          return send({ type: 'once-result', ok: false, latencyMs: performance.now() - t0, servedBy: '', error: (err as Error).message });
        }
      }
      if (raw.type === 'run') {
        const bootstrap = process.env['GRPC_XDS_BOOTSTRAP_CONFIG'];
        if (raw.extproc && bootstrap && !routeWatch) {
          routeWatch = ExtProcRouteWatch.fromBootstrap(bootstrap);
          if (!(await routeWatch.ready(5000)))
            process.stderr.write(`${raw.label}: no ext_proc route configuration within 5 s: every request asks the picker\n`);
        }
        const result = await runOpenLoop(
          {
            ratePerSecond: raw.ratePerSecond,
            durationMs: raw.durationMs,
            spacing: raw.spacing,
            maxInFlight: raw.maxInFlight,
            rng: mulberry32(raw.seed),
            epochMs: performance.now(),
            onProgress: (done, total) => send({ type: 'progress', label: raw.label, done, total }),
          },
          () => invokeVia(raw.target, raw.deadlineMs, raw.extproc, raw.method),
        );
        const s = result.samples.sort((a, b) => a.startMs - b.startMs);
        if (raw.extproc) {
          const skipped = s.filter((x) => x.skippedPicker).length;
          process.stderr.write(
            `${raw.label}: ${extproc?.timeouts ?? 0} of ${s.length - skipped} ext_proc decisions timed out (routed by the EDS weights); ${skipped} requests skipped the picker (route disables ext_proc)\n`,
          );
          if (extproc) extproc.timeouts = 0;
        }
        send({
          type: 'result',
          label: raw.label,
          startMs: s.map((x) => Math.round(x.startMs * 10) / 10),
          latencyMs: s.map((x) => Math.round(x.latencyMs * 100) / 100),
          ok: s.map((x) => x.ok),
          servedBy: s.map((x) => x.servedBy ?? ''),
          podMs: s.map((x) => (x.podMs !== undefined ? Math.round(x.podMs * 100) / 100 : -1)),
          serviceMs: s.map((x) => (x.serviceMs !== undefined ? Math.round(x.serviceMs * 100) / 100 : -1)),
          ...(raw.extproc
            ? {
                decideMs: s.map((x) => (x.decideMs !== undefined ? Math.round(x.decideMs * 100) / 100 : -1)),
                fellBack: s.map((x) => x.fellBack === true),
                skippedPicker: s.map((x) => x.skippedPicker === true),
              }
            : {}),
          errors: s.map((x) => x.error ?? ''),
          dropped: result.dropped,
        });
      }
    })().catch((err: Error) => send({ type: 'fatal', error: err.stack ?? err.message }));
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
